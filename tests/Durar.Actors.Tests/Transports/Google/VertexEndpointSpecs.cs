using Durar.Actors.Catalog;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Transports;
using Durar.Actors.Transports.Google;

namespace Durar.Actors.Tests.Transports.Google;

/// <summary>
/// Where a Vertex AI call goes: the catalog's <c>{location}</c> filled from the settings (the global endpoint has no region
/// prefix), a configured base URL kept, the project/location path, and a configured key used as the access token.
/// </summary>
public sealed class VertexEndpointSpecs
{
    private static UpstreamCall Call(string baseUrl, string? key = "ya29.configured") =>
        new(new ResolvedModel(BuiltInCatalog.Providers["google-vertex"] with { BaseUrl = baseUrl }, ModelDefinition.PassThrough("gemini-x"), null),
            key, new ChatRequest { Messages = [] }, TimeSpan.FromSeconds(30));

    private static VertexEndpoint Endpoint(string? location) =>
        new(new GoogleCloudSettings("proj-1", location, null), new GoogleCloudAuth(GoogleCloudSettings.None), "google");

    [Theory]
    [InlineData("us-central1", "https://us-central1-aiplatform.googleapis.com")]
    [InlineData("global", "https://aiplatform.googleapis.com")]
    public async Task Should_fill_the_catalog_s_location_placeholder(string location, string expected)
    {
        var prepared = await Endpoint(location).PrepareAsync(Call("https://{location}-aiplatform.googleapis.com"), CancellationToken.None);

        Assert.Equal(expected, prepared.Target.Provider.BaseUrl);
        Assert.Equal("ya29.configured", prepared.ApiKey);
        Assert.Equal($"/v1/projects/proj-1/locations/{location}/publishers/google/models/gemini-x", Endpoint(location).ModelPath(prepared.Target));
    }

    [Fact]
    public async Task Should_keep_a_configured_base_url()
    {
        var prepared = await Endpoint("us-central1").PrepareAsync(Call("https://vertex-proxy.example"), CancellationToken.None);

        Assert.Equal("https://vertex-proxy.example", prepared.Target.Provider.BaseUrl);
    }

    [Fact]
    public async Task Should_fail_the_call_naming_the_unfilled_key()
    {
        var error = await Assert.ThrowsAsync<UpstreamException>(() => Endpoint(null).PrepareAsync(Call("https://{location}-aiplatform.googleapis.com"), CancellationToken.None));

        Assert.Contains("gateway.googleCloud.location", error.Failure.Message, StringComparison.Ordinal);
    }
}
