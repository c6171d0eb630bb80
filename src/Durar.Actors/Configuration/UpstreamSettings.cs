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
/// <param name="MaxResponseBytes">A whole (non-streamed) answer may decode to at most this many bytes.</param>
/// <param name="MaxLineBytes">No line of a streamed answer (SSE, NDJSON) may be longer than this.</param>
public sealed record UpstreamSettings(
    TimeSpan ConnectTimeout,
    TimeSpan PooledConnectionLifetime,
    TimeSpan PooledConnectionIdleTimeout,
    int MaxErrorBodyBytes,
    long MaxResponseBytes,
    int MaxLineBytes)
{
    /// <summary>The HOCON section these settings come from.</summary>
    public const string Section = "gateway.upstream";

    /// <summary>Bounds of <see cref="MaxErrorBodyBytes"/>: enough for any provider's error JSON, and never a large read per error.</summary>
    public const int MinErrorBodyBytes = 1024, MaxErrorBodyBytesLimit = 16 * 1024 * 1024;

    /// <summary>Bounds of <see cref="MaxResponseBytes"/> and <see cref="MaxLineBytes"/>: room for any real answer, never unbounded.</summary>
    public const long MinBodyBytes = 64 * 1024, MaxBodyBytesLimit = 1L << 32, MaxLineBytesLimit = int.MaxValue / 2;

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
            (int)bytes,
            Bytes(config, "maxResponseBytes", MaxBodyBytesLimit),
            (int)Bytes(config, "maxLineBytes", MaxLineBytesLimit));
    }

    private static long Bytes(Config config, string key, long max)
    {
        var bytes = Long(config.GetValue(Section), key, Section) ?? throw new DurarConfigException($"{Section}.{key}", "is required");
        return bytes is >= MinBodyBytes && bytes <= max
            ? bytes
            : throw new DurarConfigException($"{Section}.{key}", $"must be between {MinBodyBytes} and {max} bytes (got {bytes})");
    }

    private static TimeSpan Positive(Config config, string path)
    {
        var t = Duration(config, path);
        return t > TimeSpan.Zero ? t : throw new DurarConfigException(path, "must be a positive duration");
    }
}
