using Durar.Actors.Transports.Bedrock;

namespace Durar.Actors.Tests.Transports.Bedrock;

/// <summary>What a Bedrock key's secret means and which region a request is signed for (<see cref="BedrockAuth"/>).</summary>
public sealed class BedrockAuthSpecs
{
    [Theory]
    [InlineData("ABSKQmVkcm9ja0FQSUtleS1mYWtl", true)]
    [InlineData("bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t", true)]
    [InlineData("AKIAFAKEONE000000001:secret", false)]
    [InlineData("AKIAFAKEONE000000001", false)]
    [InlineData("my-profile", false)]
    public void Should_send_only_bedrock_api_keys_as_bearer(string secret, bool bearer) => Assert.Equal(bearer, BedrockAuth.IsBearer(secret));

    [Theory]
    [InlineData("https://bedrock-runtime.eu-west-3.amazonaws.com/model/m/converse", "eu-west-3")]
    [InlineData("https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com/model/m/converse", "us-gov-west-1")]
    public void Should_sign_for_the_region_the_endpoint_host_names(string url, string region) =>
        Assert.Equal(region, BedrockAuth.RegionFor(BedrockAuth.Regional(new Uri(url))));

    [Fact]
    public void Should_leave_an_endpoint_that_is_not_a_standard_bedrock_host_as_it_is()
    {
        var endpoint = new Uri("http://127.0.0.1:4566/model/m/converse");
        Assert.Same(endpoint, BedrockAuth.Regional(endpoint));
    }
}
