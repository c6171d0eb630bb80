using System.Collections.Immutable;
using System.Text.Json.Nodes;

namespace Durar.Actors.Configuration;

/// <summary>
/// The Durar part of the HOCON configuration, typed and validated once at start-up. The names and nesting follow the
/// seed's JSON5 examples (<c>models</c>, <c>agents</c>, <c>auth</c>, <c>gateway</c>, <c>env</c>), so those examples load verbatim.
/// </summary>
public sealed record DurarSettings(
    ModelsSettings Models,
    AgentDefaults Agents,
    AuthSettings Auth,
    GatewaySettings Gateway,
    ImmutableDictionary<string, string> Env)
{
    private static readonly Lazy<DurarSettings> BuiltIn = new(() => DurarSettingsLoader.Load(DurarSettingsLoader.Defaults));

    /// <summary>The settings of the built-in defaults file alone (<c>config/hocon/durar.conf</c>): the one place defaults live.</summary>
    public static DurarSettings Defaults => BuiltIn.Value;

    /// <summary><c>gateway.upstream</c>: the upstream HTTP client's connection and error-body settings.</summary>
    public required UpstreamSettings Upstream { get; init; }

    /// <summary><c>gateway.dashboard</c>: the operator dashboard's memory (recent requests, totals history) and sampling.</summary>
    public required DashboardSettings Dashboard { get; init; }
    /// <summary><c>gateway.auth.failures</c>, <c>gateway.auth.clientTokens</c>, <c>gateway.trustedProxies</c>: who may knock, how often.</summary>
    public required AccessSettings Access { get; init; }
    /// <summary><c>gateway.telemetry</c>: metrics, traces and the per-request log line.</summary>
    public required TelemetrySettings Telemetry { get; init; }
    /// <summary><c>agents.defaults.compaction</c>: the model that summarises a session's older turns.</summary>
    internal CompactionSettings Compaction { get; init; } = CompactionSettings.Default;
    internal ImageModelSettings ImageModel { get; init; } = ImageModelSettings.Default;
    /// <summary><c>gateway.copilot</c>: GitHub Copilot's token exchange.</summary>
    internal CopilotSettings Copilot { get; init; } = CopilotSettings.Defaults;
    /// <summary><c>gateway.oauth</c>: the sign-ins of <c>durar auth login</c> and the client secrets their refreshes send.</summary>
    public OAuthLoginSettings OAuth { get; init; } = OAuthLoginSettings.Defaults;
    /// <summary><c>gateway.googleCloud</c>: project, region and credentials of the Vertex AI and Cloud Code Assist wires.</summary>
    public required GoogleCloudSettings GoogleCloud { get; init; }
}

/// <summary><c>models { mode, providers }</c>.</summary>
public sealed record ModelsSettings(CatalogMode Mode, ImmutableDictionary<string, ProviderSettings> Providers);

/// <summary><c>models.mode</c>: merge the built-in catalog with configured providers, or use configured providers only.</summary>
public enum CatalogMode { Merge, Replace }

/// <summary>
/// One <c>models.providers.&lt;id&gt;</c> entry as written by the user. Every field is optional here because in merge mode
/// it overlays a built-in catalog entry; <see cref="Catalog.ProviderCatalog"/> applies the overlay and the defaults.
/// </summary>
public sealed record ProviderSettings(
    string Id,
    string? BaseUrl,
    string? ApiKey,
    string? Api,
    string? Auth,
    ImmutableDictionary<string, string> Headers,
    bool? AuthHeader,
    int? TimeoutSeconds,
    int? MaxTokens,
    ImmutableArray<ModelSettings> Models,
    JsonObject? Compat)
{
    /// <summary><c>rpm</c>: requests per minute per key of this provider, cluster-wide; null = no limit.</summary>
    public int? Rpm { get; init; }
    /// <summary><c>tpm</c>: tokens per minute per key of this provider, cluster-wide; null = no limit.</summary>
    public long? Tpm { get; init; }
    /// <summary><c>request</c>: proxy, TLS, extra headers, auth header style, private-network guard.</summary>
    public ProviderRequestSettings Request { get; init; } = ProviderRequestSettings.None;
}

/// <summary>One <c>models[]</c> entry; omitted fields stay null and take the catalog value or the documented default.</summary>
public sealed record ModelSettings(
    string Id,
    string? Name,
    bool? Reasoning,
    ImmutableArray<string>? Input,
    ModelCost? Cost,
    long? ContextWindow,
    long? ContextTokens,
    long? MaxTokens,
    JsonObject? Compat)
{
    /// <summary><c>kind</c>: chat or embedding; null = not written (the catalog's kind, else unmarked).</summary>
    public ModelKind? Kind { get; init; }
}

/// <summary>Model pricing in USD per one million tokens, per bucket.</summary>
public sealed record ModelCost(double Input, double Output, double CacheRead, double CacheWrite)
{
    public static readonly ModelCost Zero = new(0, 0, 0, 0);
}

/// <summary><c>agents.defaults</c>: the default model chain, per-model aliases and params, and the allowlist.</summary>
public sealed record AgentDefaults(
    string? Primary,
    ImmutableArray<string> Fallbacks,
    ImmutableDictionary<string, ModelEntrySettings> Models,
    ImmutableArray<string> Allow,
    int TimeoutSeconds)
{
    /// <summary><c>agents.defaults.thinkingDefault</c> / <c>fastModeDefault</c> / <c>responseUsageDefault</c> (wire names; null = unset).</summary>
    public string? ThinkingDefault { get; init; }
    public string? FastModeDefault { get; init; }
    public string? ResponseUsageDefault { get; init; }
}

/// <summary><c>agents.defaults.models["p/m"]</c>: an optional alias and free-form params (e.g. <c>extra_body</c>).</summary>
public sealed record ModelEntrySettings(string Ref, string? Alias, JsonObject Params);

/// <summary><c>auth</c>: profile metadata and explicit per-provider order. No secrets live here.</summary>
public sealed record AuthSettings(
    ImmutableDictionary<string, AuthProfileSettings> Profiles,
    ImmutableDictionary<string, ImmutableArray<string>> Order,
    CooldownSettings Cooldowns)
{
    /// <summary><c>auth.keys</c>: how key actors and their providers run (its <see cref="KeySettings.Cooldowns"/> are <see cref="Cooldowns"/>).</summary>
    public required KeySettings Keys { get; init; }
}

/// <summary><c>auth.cooldowns</c>: the per-key cooldown and disable schedules (reference section G).</summary>
public sealed record CooldownSettings(
    ImmutableArray<TimeSpan> Schedule,
    TimeSpan FailureWindow,
    TimeSpan BillingBase,
    TimeSpan BillingMax,
    TimeSpan AuthPermanentBase,
    TimeSpan AuthPermanentMax,
    TimeSpan LastUsedFlushInterval,
    int TransientThreshold = 3)
{
    /// <summary>
    /// The defaults file's values, the current reference defaults: 30 s, 60 s, 5 min; billing 10 min → 24 h; auth_permanent
    /// 10 min → 60 min.
    /// </summary>
    public static CooldownSettings Default => DurarSettings.Defaults.Auth.Cooldowns;
}

/// <summary><c>gateway.failover</c> and <c>gateway.queueWhenCooling</c>: how one request moves through its candidates.</summary>
public sealed record FailoverSettings(
    TimeSpan Budget,
    TimeSpan RetryBaseDelay,
    TimeSpan RetryMaxDelay,
    int MaxTransientRetries,
    int TransientRetriesBeforeFallback,
    TimeSpan MaxRetryAfter,
    TimeSpan ProbeInterval,
    TimeSpan ProbeMargin,
    bool QueueWhenCooling,
    TimeSpan QueueMaxWait)
{
    /// <summary><c>gateway.failover.continueStreams</c>: a stream that breaks after output goes on with the next key or candidate.</summary>
    public required bool ContinueStreams { get; init; }

    /// <summary><c>gateway.failover.maxContinuations</c>: how many breaks one stream may go on from.</summary>
    public required int MaxContinuations { get; init; }
}

/// <summary><c>auth.profiles.&lt;id&gt;</c>.</summary>
public sealed record AuthProfileSettings(string Id, string Provider, string Mode, string? Email);

/// <summary><c>gateway</c>: the HTTP surface of <c>Durar.Api</c>.</summary>
public sealed record GatewaySettings(
    string Bind,
    int Port,
    string? Token,
    bool EchoEnabled,
    long MaxBodyBytes,
    TimeSpan AskTimeout,
    TimeSpan CloudIdleTimeout,
    TimeSpan LocalIdleTimeout,
    FailoverSettings Failover)
{
    public required SessionSettings Sessions { get; init; }
    public required ClusterSettings Cluster { get; init; }
    public required SessionHostingSettings SessionHosting { get; init; }
    public required SessionRunSettings SessionRuns { get; init; }
    public required SessionEventSettings SessionEvents { get; init; }
    public required SessionTranscriptSettings SessionTranscript { get; init; }
    public required ClusterBootstrapSettings ClusterBootstrap { get; init; }

    /// <summary>
    /// <c>gateway.http.inlineIo</c>: run request handling and socket continuations on the I/O threads instead of handing
    /// each completion to the thread pool (Kestrel's UnsafePreferInlineScheduling plus the runtime's inline socket
    /// completions). Safe here because the gateway's request path never blocks.
    /// </summary>
    public required bool InlineIo { get; init; }
}

/// <summary><c>gateway.cluster</c>: this node's remoting address and the seed nodes (empty = single-node cluster).</summary>
public sealed record ClusterSettings(string Hostname, int Port, ImmutableArray<string> SeedNodes)
{
    /// <summary><c>keyResync</c>: how often each provider re-attaches to its keys' cluster-wide actors (and re-reads their state).</summary>
    public required TimeSpan KeyResync { get; init; }

    /// <summary><c>discovery</c>: where the seed nodes come from when <see cref="SeedNodes"/> is empty; null = nowhere (a single node).</summary>
    public ClusterDiscoverySettings? Discovery { get; init; }

    /// <summary><c>tls</c>: TLS for remoting between the nodes.</summary>
    public required ClusterTlsSettings Tls { get; init; }
}

/// <summary>
/// <c>gateway.cluster.discovery</c>: the cluster's nodes are looked up with Akka.Discovery (<see cref="Method"/>, e.g.
/// <c>config</c> with <see cref="Endpoints"/>, or <c>akka-dns</c>) under <see cref="ServiceName"/>; every node sorts what it
/// finds the same way and joins those nodes as seeds, so the first one forms the cluster and the others join it.
/// </summary>
public sealed record ClusterDiscoverySettings(string Method, string ServiceName, ImmutableArray<string> Endpoints);

/// <summary><c>gateway.sessions</c>: passivation, snapshots and the message queue of session actors.</summary>
public sealed record SessionSettings(TimeSpan IdleTimeout, int SnapshotEvery, string QueueMode, TimeSpan QueueDebounce, int QueueCap, string QueueDrop)
{
    /// <summary><c>gateway.sessions.journalRetryAfter</c>: how long turns fail fast after a session's journal write or recovery failed.</summary>
    public required TimeSpan JournalRetryAfter { get; init; }

    /// <summary>
    /// <c>gateway.sessions.maxResident</c>: most session actors resident on one node; a new one past it passivates the least
    /// recently used idle sessions, or is refused (503 <c>sessions_busy</c>) when every resident session is busy.
    /// </summary>
    public required int MaxResident { get; init; }
}
