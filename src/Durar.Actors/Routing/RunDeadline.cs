using Durar.Actors.Resilience;
using Durar.Actors.Transports;

namespace Durar.Actors.Routing;

/// <summary>
/// The whole run's time limit (<c>agents.defaults.timeoutSeconds</c>; 0 = none), checked where the run is anyway (between
/// attempts, and at each streamed event) instead of arming a timer per request. The failover budget bounds the wait for the
/// first output; this bounds everything, a committed stream included. A stalled stream is ended earlier by the idle timeout.
/// </summary>
internal readonly struct RunDeadline(TimeProvider time, long started, TimeSpan limit)
{
    /// <summary>No limit.</summary>
    public static RunDeadline None => default;

    public static RunDeadline Start(TimeProvider time, int timeoutSeconds) =>
        timeoutSeconds > 0 ? new RunDeadline(time, time.GetTimestamp(), TimeSpan.FromSeconds(timeoutSeconds)) : None;

    public TimeSpan Limit => limit;

    /// <summary>The limit is spent.</summary>
    public bool Passed => limit > TimeSpan.Zero && time.GetElapsedTime(started) >= limit;

    /// <summary>What is left of the limit; <see cref="TimeSpan.MaxValue"/> when there is none.</summary>
    public TimeSpan Left => limit > TimeSpan.Zero ? limit - time.GetElapsedTime(started) : TimeSpan.MaxValue;

    /// <summary>The failure a stream ends with when the limit passes.</summary>
    public UpstreamException Failure(string providerId) =>
        new(new UpstreamFailure(null, $"LLM request timed out: the run took longer than agents.defaults.timeoutSeconds ({limit.TotalSeconds:0} s).",
            null, null, providerId, UpstreamTransportError.Timeout), UpstreamException.NoHints) { BeforeOutput = false };
}
