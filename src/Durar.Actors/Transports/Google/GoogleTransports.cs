using Durar.Actors.Catalog;
using Durar.Actors.Configuration;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// The Google Cloud wires in one place: their registration (<c>google-vertex</c>, <c>anthropic-vertex</c>,
/// <c>google-gemini-cli</c>, sharing one <see cref="GoogleCloudAuth"/>) and the start-up check that a provider configured on one
/// of them has the project (and region) it needs, so a missing <c>gateway.googleCloud.location</c> stops the node with the
/// key's name instead of failing every request.
/// </summary>
internal static class GoogleTransports
{
    /// <summary>Adds the Google Cloud wires to <paramref name="transports"/>.</summary>
    public static void AddCloud(Dictionary<string, IChatTransport> transports, IHttpClientFactory httpClients, UpstreamSettings upstream,
        GoogleCloudSettings google)
    {
        var auth = new GoogleCloudAuth(google);
        transports[ApiKinds.GoogleVertex] = new GoogleVertexTransport(httpClients, upstream, new VertexEndpoint(google, auth, "google"));
        transports[ApiKinds.AnthropicVertex] = new AnthropicVertexTransport(httpClients, upstream, new VertexEndpoint(google, auth, "anthropic"));
        transports[ApiKinds.GoogleGeminiCli] = new GeminiCliTransport(httpClients, upstream, google);
    }

    /// <summary>
    /// Every provider the configuration names (<c>models.providers.&lt;id&gt;</c>) that speaks a Google Cloud wire has its project,
    /// and its region for Vertex AI. Catalog providers nobody configured are not checked: they answer, when asked for, with the
    /// same error naming the key.
    /// </summary>
    /// <exception cref="DurarConfigException">The first unfilled key, naming the provider.</exception>
    public static void Validate(DurarSettings settings, ProviderCatalog catalog)
    {
        foreach (var id in settings.Models.Providers.Keys.Order(StringComparer.Ordinal))
        {
            if (catalog.Find(id) is not { } provider) continue;
            var unfilled = provider.Api switch
            {
                ApiKinds.GoogleVertex or ApiKinds.AnthropicVertex => settings.GoogleCloud.Unfilled(id, provider.Api),
                ApiKinds.GoogleGeminiCli => settings.GoogleCloud.Unfilled(id, provider.Api, needsLocation: false),
                _ => null,
            };
            if (unfilled is not null) throw unfilled;
        }
    }
}
