using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Durar.Actors.Configuration;

namespace Durar.Actors.Catalog;

/// <summary>
/// A provider as the runtime uses it: the built-in catalog entry with the user's <c>models.providers.&lt;id&gt;</c> overlay
/// applied and every default filled in. Immutable; built once at start-up.
/// </summary>
internal sealed record ProviderDefinition
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Api { get; init; }
    public string? BaseUrl { get; init; }
    /// <summary>The catalog's OpenAI-compatible base of a native provider, taken when the config switches its api to <c>openai-completions</c>.</summary>
    public string? OpenAiCompatBaseUrl { get; init; }
    /// <summary><c>api-key</c>, <c>token</c>, <c>oauth</c>, <c>aws-sdk</c>, <c>none</c> or <c>optional</c> (self-hosted).</summary>
    public required string Auth { get; init; }
    /// <summary>Auth env vars the catalog names beyond the standard rotation pattern.</summary>
    public ImmutableArray<string> EnvVars { get; init; } = [];
    public bool Local { get; init; }
    /// <summary><c>models.providers.&lt;id&gt;.apiKey</c> as written (may be <c>${ENV}</c>).</summary>
    public string? ConfigApiKey { get; init; }
    public ImmutableDictionary<string, string> Headers { get; init; } = ImmutableDictionary<string, string>.Empty;
    public bool AuthHeader { get; init; }
    /// <summary><c>models.providers.&lt;id&gt;.request</c>: applied on every wire (<see cref="Transports.ProviderConnections"/>).</summary>
    public ProviderRequestSettings Request { get; init; } = ProviderRequestSettings.None;
    public int? TimeoutSeconds { get; init; }
    public int? MaxTokens { get; init; }
    public JsonObject? Compat { get; init; }
    /// <summary>Per-key request and token limits (<c>rpm</c>/<c>tpm</c>), enforced cluster-wide by each key's actor.</summary>
    public KeyLimits Limits { get; init; } = KeyLimits.None;
    public bool BuiltIn { get; init; }
    public ImmutableArray<ModelDefinition> Models { get; init; } = [];

    private FrozenDictionary<string, ModelDefinition>? _byId;

    public ModelDefinition? FindModel(string id)
    {
        _byId ??= Models.GroupBy(m => m.Id, StringComparer.OrdinalIgnoreCase)
            .ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
        return _byId.TryGetValue(id, out var m) ? m : null;
    }

    /// <summary>True when requests go to the vendor's own endpoint, which gets native-only request shaping.</summary>
    public bool IsNativeOpenAi => HostIs("api.openai.com");

    /// <summary>True when requests go to Anthropic's own endpoint (implicit <c>anthropic-beta</c> headers allowed).</summary>
    public bool IsNativeAnthropic => HostIs("api.anthropic.com");

    /// <summary>Keyless providers (echo, self-hosted servers) can run without any credential.</summary>
    public bool KeyOptional => Auth is "none" or "optional";

    private bool HostIs(string host) =>
        BaseUrl is { } url && HostOf(url) is { } actual && string.Equals(actual, host, StringComparison.OrdinalIgnoreCase);

    /// <summary>Hosts by base URL ("" = not an absolute URL): asked on every request (request shaping), parsed once per URL.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Hosts = new(StringComparer.Ordinal);

    /// <summary>The host of the absolute URL <paramref name="url"/>, or null when it is not one.</summary>
    internal static string? HostOf(string url)
    {
        if (!Hosts.TryGetValue(url, out var host))
        {
            host = Uri.TryCreate(url, UriKind.Absolute, out var u) ? u.Host : "";
            if (Hosts.Count < 1024) Hosts.TryAdd(url, host); // base URLs come from the config; bounded anyway
        }
        return host.Length > 0 ? host : null;
    }
}

/// <summary>
/// Requests and tokens one key may serve in any 60-second window, across every node of the cluster (the key's single
/// actor counts them); null = unlimited. Tokens are counted after each answer, so a request is admitted while the window
/// is below <see cref="Tpm"/> (the same pre-call check LiteLLM makes).
/// </summary>
internal sealed record KeyLimits(int? Rpm, long? Tpm)
{
    public static readonly KeyLimits None = new(null, null);
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    public bool Any => Rpm is not null || Tpm is not null;
}

/// <summary>A model with the documented defaults applied (reasoning false, input text, cost 0, 200k window, 8192 output).</summary>
internal sealed record ModelDefinition(
    string Id,
    string Name,
    bool Reasoning,
    ImmutableArray<string> Input,
    ModelCost Cost,
    long ContextWindow,
    long? ContextTokens,
    long MaxTokens,
    JsonObject? Compat)
{
    /// <summary>
    /// What the model answers (<c>kind</c>): every built-in catalog model is marked (chat unless written otherwise); null =
    /// nobody marked it (a configured model of a custom provider without <c>kind</c>, a pass-through id), so either endpoint
    /// may use it and the upstream decides.
    /// </summary>
    public ModelKind? Kind { get; init; }

    public const long DefaultContextWindow = 200_000;
    public const long DefaultMaxTokens = 8192;

    /// <summary>A model id the catalog does not list: passed through with defaults (providers such as OpenRouter accept any id).</summary>
    public static ModelDefinition PassThrough(string id) =>
        new(id, id, false, ["text"], ModelCost.Zero, DefaultContextWindow, null, DefaultMaxTokens, null);
}
