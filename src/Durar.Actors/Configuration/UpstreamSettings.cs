using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// <c>gateway.upstream</c>: how the gateway's one shared HTTP client talks to providers (connection set-up and recycling,
/// how much of an error answer is read). It exists so operators tune these from <c>durar.conf</c>, where every value and its
/// comment live; nothing here repeats a default.
/// </summary>
/// <param name="ConnectTimeout">Longest wait for a TCP (and TLS) connection to a provider.</param>
/// <param name="PooledConnectionLifetime">A pooled connection is replaced after this long, so DNS changes are picked up.</param>
/// <param name="PooledConnectionIdleTimeout">A pooled connection unused for this long is closed.</param>
/// <param name="MaxErrorBodyBytes">At most this many bytes of an error answer are read (for its message and hints).</param>
public sealed record UpstreamSettings(
    TimeSpan ConnectTimeout,
    TimeSpan PooledConnectionLifetime,
    TimeSpan PooledConnectionIdleTimeout,
    int MaxErrorBodyBytes)
{
    /// <summary>The HOCON section these settings come from.</summary>
    public const string Section = "gateway.upstream";

    /// <summary>Bounds of <see cref="MaxErrorBodyBytes"/>: enough for any provider's error JSON, and never a large read per error.</summary>
    public const int MinErrorBodyBytes = 1024, MaxErrorBodyBytesLimit = 16 * 1024 * 1024;

    /// <summary>The values of the built-in defaults file (<c>config/hocon/durar.conf</c>), for code that runs without a host.</summary>
    public static UpstreamSettings Defaults { get; } = Read(DurarSettingsLoader.Defaults);

    /// <summary>Reads <c>gateway.upstream</c> from a configuration that has the defaults layered underneath.</summary>
    /// <exception cref="DurarConfigException">A value is missing or invalid; the message names its key path.</exception>
    public static UpstreamSettings Read(Config config)
    {
        var bytes = Long(config.GetValue(Section), "maxErrorBodyBytes", Section)
            ?? throw new DurarConfigException($"{Section}.maxErrorBodyBytes", "is required");
        if (bytes is < MinErrorBodyBytes or > MaxErrorBodyBytesLimit)
            throw new DurarConfigException($"{Section}.maxErrorBodyBytes",
                $"must be between {MinErrorBodyBytes} and {MaxErrorBodyBytesLimit} bytes (got {bytes})");
        return new UpstreamSettings(
            Positive(config, $"{Section}.connectTimeout"),
            Positive(config, $"{Section}.pooledConnectionLifetime"),
            Positive(config, $"{Section}.pooledConnectionIdleTimeout"),
            (int)bytes);
    }

    private static TimeSpan Positive(Config config, string path)
    {
        var t = Duration(config, path);
        return t > TimeSpan.Zero ? t : throw new DurarConfigException(path, "must be a positive duration");
    }
}
