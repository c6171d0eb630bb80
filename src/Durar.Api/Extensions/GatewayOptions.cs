namespace Durar.Api.Extensions;

/// <summary>Start-up options from the command line and environment (<c>--config</c>/<c>DURAR_CONFIG</c>, ...).</summary>
public sealed record GatewayOptions
{
    /// <summary>User HOCON file layered over the defaults; null = defaults only.</summary>
    public string? ConfigPath { get; init; }
    /// <summary>Overrides <c>gateway.port</c>; 0 picks a free port (tests).</summary>
    public int? Port { get; init; }
    /// <summary>Directory for the SQLite file and other state (default <c>./data</c>).</summary>
    public string DataDir { get; init; } = "data";
    /// <summary>Extra HOCON layered over the user file (tests, embedding).</summary>
    public string? ExtraHocon { get; init; }
    /// <summary>Overrides <c>gateway.cluster.port</c> (Akka remoting).</summary>
    public int? ClusterPort { get; init; }
    /// <summary>Overrides <c>gateway.cluster.seedNodes</c> (akka.tcp://durar@host:port, ...).</summary>
    public IReadOnlyList<string>? SeedNodes { get; init; }
    /// <summary>
    /// Runs after the gateway registered its services (tests, embedding): e.g. a test points the upstream client's
    /// connections for <c>api.openai.com</c> at a local fake, so that the host-based native rules are tested as they run.
    /// </summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }
    /// <summary>Console log format: <c>text</c> (default) or <c>json</c> (JSON lines); <c>--log-format</c> / <c>DURAR_LOG_FORMAT</c>.</summary>
    public string? LogFormat { get; init; }

    public static GatewayOptions FromEnvironment(string? configPath, int? port, string? dataDir, int? clusterPort = null,
        IReadOnlyList<string>? seeds = null, string? logFormat = null) => new()
    {
        LogFormat = logFormat ?? NonEmpty(Environment.GetEnvironmentVariable("DURAR_LOG_FORMAT")),
        ConfigPath = configPath ?? NonEmpty(Environment.GetEnvironmentVariable("DURAR_CONFIG")),
        Port = port ?? (int.TryParse(Environment.GetEnvironmentVariable("DURAR_PORT"), out var p) ? p : null),
        DataDir = dataDir ?? NonEmpty(Environment.GetEnvironmentVariable("DURAR_DATA_DIR")) ?? "data",
        ClusterPort = clusterPort ?? (int.TryParse(Environment.GetEnvironmentVariable("DURAR_CLUSTER_PORT"), out var cp) ? cp : null),
        SeedNodes = seeds is { Count: > 0 } ? seeds
            : NonEmpty(Environment.GetEnvironmentVariable("DURAR_SEED_NODES"))?.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries),
    };

    /// <summary>The command-line and environment overrides as HOCON, layered over the configuration files.</summary>
    public string? OverridesHocon()
    {
        var lines = new List<string>();
        if (ClusterPort is { } cp) lines.Add($"gateway.cluster.port = {cp}");
        if (SeedNodes is { Count: > 0 } seeds) lines.Add($"gateway.cluster.seedNodes = [{string.Join(", ", seeds.Select(s => $"\"{s}\""))}]");
        return lines.Count == 0 ? null : string.Join("\n", lines);
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
