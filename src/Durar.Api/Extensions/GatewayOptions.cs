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

    public static GatewayOptions FromEnvironment(string? configPath, int? port, string? dataDir) => new()
    {
        ConfigPath = configPath ?? NonEmpty(Environment.GetEnvironmentVariable("DURAR_CONFIG")),
        Port = port ?? (int.TryParse(Environment.GetEnvironmentVariable("DURAR_PORT"), out var p) ? p : null),
        DataDir = dataDir ?? NonEmpty(Environment.GetEnvironmentVariable("DURAR_DATA_DIR")) ?? "data",
    };

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
