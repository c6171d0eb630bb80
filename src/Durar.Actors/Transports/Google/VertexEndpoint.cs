using System.Collections.Concurrent;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// Where a Vertex AI publisher model answers and with which credential: <c>https://{location}-aiplatform.googleapis.com</c>
/// (<c>https://aiplatform.googleapis.com</c> for <c>global</c>) when the provider's base URL still has the catalog's
/// <c>{location}</c> placeholder, else the configured base URL; the path
/// <c>/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}</c>; and the access token of
/// <see cref="GoogleCloudAuth"/> (a key configured for the provider, e.g. a token from <c>gcloud auth print-access-token</c>,
/// wins). Shared by <c>google-vertex</c> (publisher google) and <c>anthropic-vertex</c> (publisher anthropic).
/// </summary>
internal sealed class VertexEndpoint(GoogleCloudSettings settings, GoogleCloudAuth auth, string publisher)
{
    public const string LocationPlaceholder = "{location}";

    /// <summary>Providers with the placeholder filled in, by id (a handful; built once each).</summary>
    private readonly ConcurrentDictionary<string, ProviderDefinition> _filled = new(StringComparer.Ordinal);

    /// <summary>The model's path without its method (<c>:streamGenerateContent</c>, <c>:rawPredict</c>, ...).</summary>
    public string ModelPath(ResolvedModel target) =>
        $"/v1/projects/{Uri.EscapeDataString(settings.Project ?? "")}/locations/{Uri.EscapeDataString(settings.Location ?? "")}"
        + $"/publishers/{publisher}/models/{Uri.EscapeDataString(target.Model.Id)}";

    /// <summary>
    /// <paramref name="call"/> ready to send: its base URL filled in, its credential a Google access token.
    /// </summary>
    /// <exception cref="UpstreamException">The project or location is unfilled (naming the key), or no token could be had.</exception>
    public async Task<UpstreamCall> PrepareAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        var provider = call.Target.Provider;
        if (settings.Unfilled(provider.Id, provider.Api) is { } unfilled)
            throw new UpstreamException(new UpstreamFailure(400, unfilled.Message, "invalid_configuration", "invalid_request_error", provider.Id),
                UpstreamException.NoHints);
        var token = call.ApiKey is { Length: > 0 } key ? key : await auth.TokenAsync(provider.Id, cancellationToken).ConfigureAwait(false);
        var target = provider.BaseUrl?.Contains(LocationPlaceholder, StringComparison.Ordinal) == true
            ? call.Target with { Provider = _filled.GetOrAdd(provider.Id, static (_, s) => s.provider with { BaseUrl = s.self.BaseUrl(s.provider) }, (self: this, provider)) }
            : call.Target;
        return call with { Target = target, ApiKey = token };
    }

    private string BaseUrl(ProviderDefinition provider) => settings.Location == "global"
        ? "https://aiplatform.googleapis.com"
        : provider.BaseUrl!.Replace(LocationPlaceholder, settings.Location, StringComparison.Ordinal);
}
