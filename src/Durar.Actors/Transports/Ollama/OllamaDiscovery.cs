using System.Collections.Immutable;
using System.Net.Http.Json;
using System.Text.Json;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Durar.Actors.Transports.Ollama;

/// <summary>
/// Lists the models a local Ollama has installed (<c>GET {baseUrl}/api/tags</c>, then <c>POST {baseUrl}/api/show</c> per
/// model for its context window and capabilities) into <see cref="ProviderCatalog.Discovered"/>, once at start and then every
/// <see cref="OllamaDiscoverySettings.DiscoveryInterval"/>, never on the request path. It runs for each <c>ollama</c> provider
/// the operator opted in, as the seed says: a key for it is set (<c>OLLAMA_API_KEY</c>, any value) or it is configured under
/// <c>models.providers</c> without a models list. A hosted service rather than an actor: it owns no state anyone messages,
/// only the snapshot it replaces whole. A failed listing keeps the previous one (a restarting Ollama does not empty the list).
/// </summary>
internal sealed partial class OllamaDiscovery(
    ProviderCatalog catalog,
    DurarSettings settings,
    Func<ProviderDefinition, string?> keyOf,
    IHttpClientFactory httpClients,
    OllamaDiscoverySettings discovery,
    ILogger<OllamaDiscovery> logger) : BackgroundService
{
    /// <summary>The <c>ollama</c> providers the operator opted in to discovery.</summary>
    public ImmutableArray<ProviderDefinition> Providers { get; } = catalog.Providers.Values
        .Where(p => p.Api == ApiKinds.Ollama && OptedIn(p, settings, keyOf))
        .OrderBy(p => p.Id, StringComparer.Ordinal)
        .ToImmutableArray();

    /// <summary>Opted in: configured without a models list, or a key for it is set (<paramref name="keyOf"/>: the provider's first key).</summary>
    private static bool OptedIn(ProviderDefinition p, DurarSettings settings, Func<ProviderDefinition, string?> keyOf) =>
        (settings.Models.Providers.TryGetValue(p.Id, out var configured) && configured.Models.IsDefaultOrEmpty)
        || keyOf(p) is not null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Providers.IsEmpty) return;
        using var timer = new PeriodicTimer(discovery.DiscoveryInterval);
        do
        {
            foreach (var provider in Providers) await RefreshAsync(provider, stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One listing of <paramref name="provider"/>'s installed models; failures are logged, the last listing stays.</summary>
    public async Task RefreshAsync(ProviderDefinition provider, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(discovery.DiscoveryTimeout);
        try
        {
            var client = httpClients.CreateClient(ProviderConnections.ClientName(provider));
            var key = keyOf(provider);
            using var tags = await SendAsync(client, provider, key, HttpMethod.Get, "/api/tags", null, timeout.Token).ConfigureAwait(false);
            var models = ImmutableArray.CreateBuilder<ModelDefinition>();
            if (tags.RootElement.TryGetProperty("models", out var list) && list.ValueKind == JsonValueKind.Array)
                foreach (var entry in list.EnumerateArray())
                {
                    if (!entry.TryGetProperty("name", out var n) || n.GetString() is not { Length: > 0 } name) continue;
                    using var show = await SendAsync(client, provider, key, HttpMethod.Post, "/api/show", new { model = name }, timeout.Token)
                        .ConfigureAwait(false);
                    models.Add(Definition(name, show.RootElement));
                }
            catalog.Discovered.Set(provider.Id, models.ToImmutable());
            LogListed(provider.Id, models.Count);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or InvalidOperationException
                                      || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogFailed(provider.Id, provider.BaseUrl ?? "", e.Message);
        }
    }

    /// <summary>
    /// A discovered model: the id without Ollama's implicit <c>:latest</c> tag, the context window from <c>model_info</c>'s
    /// <c>&lt;architecture&gt;.context_length</c> (the catalog default when absent), images when it has the <c>vision</c>
    /// capability, reasoning with <c>thinking</c>, and an embedding model when it can embed but not complete.
    /// </summary>
    public static ModelDefinition Definition(string name, JsonElement show)
    {
        var id = name.EndsWith(":latest", StringComparison.Ordinal) ? name[..^":latest".Length] : name;
        long? context = null;
        if (show.TryGetProperty("model_info", out var info) && info.ValueKind == JsonValueKind.Object)
            foreach (var p in info.EnumerateObject())
                if (p.Name.EndsWith(".context_length", StringComparison.Ordinal) && p.Value.TryGetInt64(out var c) && c > 0) context = c;
        var capabilities = show.TryGetProperty("capabilities", out var caps) && caps.ValueKind == JsonValueKind.Array
            ? caps.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToHashSet(StringComparer.Ordinal)
            : [];
        var embedding = capabilities.Contains("embedding") && !capabilities.Contains("completion");
        return new ModelDefinition(id, name, capabilities.Contains("thinking"),
            capabilities.Contains("vision") ? ["text", "image"] : ["text"], ModelCost.Zero,
            context ?? ModelDefinition.DefaultContextWindow, null, ModelDefinition.DefaultMaxTokens, null)
        {
            Kind = embedding ? ModelKind.Embedding : null,
        };
    }

    private static async Task<JsonDocument> SendAsync(HttpClient client, ProviderDefinition provider, string? key, HttpMethod method,
        string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(provider.BaseUrl + path, UriKind.Absolute));
        if (body is not null) request.Content = JsonContent.Create(body);
        if (!ProviderConnections.ApplyAuth(request.Headers, provider, key) && key is { Length: > 0 })
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        foreach (var (name, value) in provider.Headers) request.Headers.TryAddWithoutValidation(name, value);
        ProviderConnections.ApplyHeaders(request.Headers, provider);
        using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{method} {path} answered {(int)response.StatusCode}", null, response.StatusCode);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await JsonDocument.ParseAsync(stream, default, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ollama provider {ProviderId} lists {Count} installed model(s)")]
    private partial void LogListed(string providerId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ollama provider {ProviderId} at {BaseUrl} could not list its models: {Reason}")]
    private partial void LogFailed(string providerId, string baseUrl, string reason);
}
