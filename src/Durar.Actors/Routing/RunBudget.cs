namespace Durar.Actors.Routing;

/// <summary>
/// One run's failover budget: a token cancelled with the caller's or when the budget is spent, on the run's clock (virtual
/// in specs). On the system clock instances are pooled: the source, its timer and the callback node of the caller's
/// registration are reused by the next run, so a run allocates none of them; a budget that was cancelled (spent, or the
/// caller cancelled) retires its instance instead (a cancelled source cannot be reset).
/// </summary>
internal sealed class RunBudget : IDisposable
{
    private static readonly BoundedPool<RunBudget> Pool = new(1024);

    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _cts = new();
    private readonly ITimer _timer;
    // OnDue and Dispose take it, so a timer that comes due while the run ends cannot cancel the instance's next run.
    private readonly Lock _gate = new();
    private CancellationTokenRegistration _fromCaller;
    private bool _armed;
    private bool _inUse;

    private RunBudget(TimeProvider time, TimeSpan due)
    {
        _time = time;
        _inUse = true;
        _armed = true;
        // Created with its due time (a virtual clock in specs sees the timer as the run asked for it), then re-armed with Change when pooled.
        _timer = time.CreateTimer(static state => ((RunBudget)state!).OnDue(), this, due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A budget of <paramref name="due"/> from now on <paramref name="time"/>, cancelled with <paramref name="ct"/> too.</summary>
    public static RunBudget Start(TimeProvider time, TimeSpan due, CancellationToken ct)
    {
        RunBudget budget;
        if (time == TimeProvider.System && Pool.TryRent(out var pooled))
        {
            budget = pooled;
            lock (budget._gate)
            {
                budget._inUse = true;
                budget._armed = true;
                budget._timer.Change(due, Timeout.InfiniteTimeSpan);
            }
        }
        else budget = new RunBudget(time, due);
        // Runs at once when the caller has already cancelled, as a linked source would.
        budget._fromCaller = ct.UnsafeRegister(static cts => ((CancellationTokenSource)cts!).Cancel(), budget._cts);
        return budget;
    }

    public CancellationToken Token => _cts.Token;

    private void OnDue()
    {
        lock (_gate)
        {
            if (!_armed) return;
            _armed = false;
            _cts.Cancel();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (!_inUse) return; // disposed twice
            _inUse = false;
            _armed = false;
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        // Waits for the caller's callback if it is running: after this nothing cancels the source.
        _fromCaller.Dispose();
        _fromCaller = default;
        if (_time == TimeProvider.System && _cts.TryReset() && Pool.TryKeep(this)) return;
        _timer.Dispose();
        _cts.Dispose();
    }
}
