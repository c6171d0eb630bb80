using Durar.Actors.Models;
using Durar.Actors.Resilience;

namespace Durar.Actors.Routing;

/// <summary>The run's failover budget and same-model backoff: how long a run may keep trying, and how long it waits between retries.</summary>
internal sealed partial class RunLoop
{
    private static readonly TimeSpan MinQueuePause = TimeSpan.FromMilliseconds(10);

    private (Step, T?) BudgetSpent<T>(RunState run, ResolvedModel candidate, CancellationToken ct) where T : class
    {
        ct.ThrowIfCancellationRequested();
        run.Add(new AttemptRecord(candidate.ToString(), null, FailoverReason.Timeout,
            run.BudgetIsRunLimit is { } limit ? limit.Message : $"LLM request timed out: the failover budget of {_failover.Budget.TotalSeconds:0} s was spent.", null));
        return (Step.Stop, null);
    }

    /// <summary>min(max, base·2^n) with jitter ×(0.5–1.5), floored by the provider's Retry-After.</summary>
    private TimeSpan BackoffDelay(int retry, TimeSpan? retryAfter)
    {
        var exp = Math.Min(_failover.RetryMaxDelay.TotalMilliseconds, _failover.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, retry));
        var jittered = TimeSpan.FromMilliseconds(exp * (0.5 + Random.Shared.NextDouble()));
        return retryAfter is { } ra && ra > jittered ? ra : jittered;
    }
}
