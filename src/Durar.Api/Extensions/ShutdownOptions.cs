using Akka.Configuration;
using Durar.Actors.Configuration;

namespace Durar.Api.Extensions;

/// <summary>
/// <c>gateway.shutdown</c>: how long a stopping node (SIGTERM, Ctrl+C, host stop) lets in-flight requests and SSE streams
/// finish before it ends the streams that are still running with an error event and leaves the cluster.
/// </summary>
/// <param name="DrainTimeout">
/// Upper bound of the drain (default 20 s: with the cluster leave it fits Kubernetes' default 30 s grace period).
/// Zero ends every open stream at once.
/// </param>
public sealed record ShutdownOptions(TimeSpan DrainTimeout)
{
    /// <summary>HOCON path of the drain timeout.</summary>
    public const string DrainTimeoutPath = "gateway.shutdown.drainTimeout";

    /// <summary>The default drain timeout when the key is missing.</summary>
    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// What the host may spend after the drain: Kestrel closing its connections and CoordinatedShutdown (sharding hand-off,
    /// cluster leave, actor system termination) — a backstop only, each of those has its own shorter timeouts.
    /// </summary>
    public static readonly TimeSpan LeaveBudget = TimeSpan.FromSeconds(30);

    /// <summary>The host's <c>HostOptions.ShutdownTimeout</c>: the drain, then the leave.</summary>
    public TimeSpan HostShutdownTimeout => DrainTimeout + LeaveBudget;

    /// <exception cref="DurarConfigException">The value is not a non-negative duration (the message names the key path).</exception>
    public static ShutdownOptions FromConfig(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!config.HasPath(DrainTimeoutPath)) return new ShutdownOptions(DefaultDrainTimeout);
        TimeSpan drain;
        try
        {
            drain = config.GetTimeSpan(DrainTimeoutPath, null, allowInfinite: false);
        }
        catch (Exception e) when (e is not DurarConfigException)
        {
            throw new DurarConfigException(DrainTimeoutPath, $"expected a duration such as 20s or 1m ({e.Message})");
        }
        if (drain < TimeSpan.Zero) throw new DurarConfigException(DrainTimeoutPath, "must not be negative");
        if (drain > TimeSpan.FromHours(1)) throw new DurarConfigException(DrainTimeoutPath, "must be at most 1h");
        return new ShutdownOptions(drain);
    }
}
