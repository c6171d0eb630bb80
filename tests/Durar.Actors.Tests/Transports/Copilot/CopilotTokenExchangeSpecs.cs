using Durar.Actors.Transports.Copilot;

namespace Durar.Actors.Tests.Transports.Copilot;

/// <summary>GitHub's token-exchange answer read into the key's secret and lifetime (<see cref="CopilotTokenExchange"/>, <see cref="CopilotSession"/>).</summary>
public sealed class CopilotTokenExchangeSpecs
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    [Fact]
    public void Should_pack_the_api_host_with_the_token_and_take_the_lifetime_from_expires_at()
    {
        var tokens = CopilotTokenExchange.Parse("""{"token":"tid=1;exp=2:sig","expires_at":1700001800,"refresh_in":1500,"endpoints":{"api":"https://api.business.githubcopilot.com/"}}""", Now);

        Assert.NotNull(tokens);
        Assert.Equal(TimeSpan.FromMinutes(30), tokens!.ExpiresIn);
        Assert.Null(tokens.RefreshToken);
        Assert.Equal(("https://api.business.githubcopilot.com", "tid=1;exp=2:sig"), CopilotSession.Unpack(tokens.AccessToken));
    }

    [Fact]
    public void Should_keep_the_token_alone_when_the_answer_names_no_host()
    {
        var tokens = CopilotTokenExchange.Parse("""{"token":"t-only","expires_at":1700000600}""", Now);

        Assert.Equal((null, "t-only"), CopilotSession.Unpack(tokens!.AccessToken));
    }

    [Theory]
    [InlineData("""{"expires_at":1700000600}""")]
    [InlineData("""{"token":"t","expires_at":"soon"}""")]
    [InlineData("""not json""")]
    public void Should_read_nothing_from_an_answer_without_a_token_and_expiry(string body) =>
        Assert.Null(CopilotTokenExchange.Parse(body, Now));
}
