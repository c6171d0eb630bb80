using Durar.Actors.Resilience;
using Durar.Actors.Transports;

namespace Durar.Actors.Routing;

/// <summary>
/// The whole run's time limit (<c>agents.defaults.timeoutSeconds</c>; 0 = none). Before the first output it caps the failover
/// budget (one timer per run, the budget's); a committed stream is checked at each event and, for a stream that stalls, by
/// one timer armed when it commits (<see cref="CancelAtLimit"/>), so the limit holds even when no event comes.
/// </summary>
internal readonly struct RunDeadline(TimeProvider time, long started, TimeSpan limit)
{
    /// <summary>No limit.</summary>
    public static RunDeadline None => default;

    public static RunDeadline Start(TimeProvider time, int timeoutSeconds) =>
        timeoutSeconds > 0 ? new RunDeadline(time, time.GetTimestamp(), TimeSpan.FromSeconds(timeoutSeconds)) : None;

    public TimeSpan Limit => limit;

    /// <summary>There is a limit.</summary>
    public bool Limited => limit > TimeSpan.Zero;

    /// <summary>The limit is spent.</summary>
    public bool Passed => Limited && time.GetElapsedTime(started) >= limit;

    /// <summary>What is left of the limit; <see cref="TimeSpan.MaxValue"/> when there is none.</summary>
    public TimeSpan Left => Limited ? limit - time.GetElapsedTime(started) : TimeSpan.MaxValue;

    /// <summary>What a run that outlived the limit answers.</summary>
    public string Message => $"LLM request timed out: the run took longer than agents.defaults.timeoutSeconds ({limit.TotalSeconds:0} s).";

    /// <summary>The failure a stream ends with when the limit passes.</summary>
    public UpstreamException Failure(string providerId) =>
        new(new UpstreamFailure(null, Message, null, null, providerId, UpstreamTransportError.Timeout), UpstreamException.NoHints) { BeforeOutput = false };

    /// <summary>
    /// Cancels <paramref name="target"/> when the limit passes, on the run's clock; null when there is no limit. The caller
    /// disposes it when the stream ends and reads <see cref="LimitTimer.Fired"/> to tell the limit from other cancellations.
    /// </summary>
    public LimitTimer? CancelAtLimit(CancellationTokenSource target)
    {
        if (!Limited) return null;
        var left = Left;
        return new LimitTimer(time, target, left > TimeSpan.Zero ? left : TimeSpan.Zero);
    }

    /// <summary>One timer that cancels a committed stream's upstream call at the run's limit.</summary>
    public sealed class LimitTimer : IDisposable
    {
        private readonly CancellationTokenSource _target;
        private readonly ITimer _timer;
        private volatile bool _fired;

        internal LimitTimer(TimeProvider time, CancellationTokenSource target, TimeSpan due)
        {
            _target = target;
            _timer = time.CreateTimer(static s => ((LimitTimer)s!).Fire(), this, due, Timeout.InfiniteTimeSpan);
        }

        /// <summary>The limit passed and the upstream call was cancelled for it.</summary>
        public bool Fired => _fired;

        private void Fire()
        {
            _fired = true;
            try
            {
                _target.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The stream ended while the timer was due.
            }
        }

        public void Dispose() => _timer.Dispose();
    }
}
