namespace Durar.Actors.Transports;

/// <summary>
/// An idle timeout: cancels when no progress was reported for <see cref="Timeout"/>. Follows the caller's token so that
/// either ends the upstream request; <see cref="Fired"/> tells the two apart.
/// </summary>
/// <remarks>
/// Progress is reported per streamed chunk, so <see cref="Touch"/> only records the time: one timer per request checks it
/// when due and re-arms itself for the rest of the window (re-arming a timer per chunk takes the timer queue's lock).
/// Instances are pooled (<see cref="Start"/>, <see cref="Dispose"/>): the source, its timer and the callback node of the
/// caller's registration are reused by the next upstream call, so a call allocates none of them. A timer that fired, or a
/// caller that cancelled, retires the instance instead (a cancelled source cannot be reset).
/// </remarks>
internal sealed class IdleTimer : IDisposable
{
    private static readonly BoundedPool<IdleTimer> Pool = new(1024);

    private readonly CancellationTokenSource _cts = new();
    private readonly ITimer _timer;
    // OnDue and Dispose take it, so a timer that comes due while the call ends cannot cancel the instance's next call.
    private readonly Lock _gate = new();
    private CancellationToken _callerToken;
    private CancellationTokenRegistration _fromCaller;
    private bool _armed;
    private bool _inUse;
    private long _lastProgress; // Environment.TickCount64 (ms)

    private IdleTimer() =>
        _timer = TimeProvider.System.CreateTimer(static state => ((IdleTimer)state!).OnDue(), this,
            System.Threading.Timeout.InfiniteTimeSpan, System.Threading.Timeout.InfiniteTimeSpan);

    /// <summary>An idle timer for one upstream call: armed for <paramref name="timeout"/>, cancelled with <paramref name="callerToken"/> too.</summary>
    public static IdleTimer Start(TimeSpan timeout, CancellationToken callerToken)
    {
        var timer = Pool.TryRent(out var pooled) ? pooled : new IdleTimer();
        timer.Arm(timeout, callerToken);
        return timer;
    }

    public TimeSpan Timeout { get; private set; }
    public CancellationToken Token => _cts.Token;
    /// <summary>The idle window ran out (as opposed to the caller cancelling).</summary>
    public bool Fired => _cts.IsCancellationRequested && !_callerToken.IsCancellationRequested;

    /// <summary>Progress: restart the idle window.</summary>
    public void Touch() => Volatile.Write(ref _lastProgress, Environment.TickCount64);

    private void Arm(TimeSpan timeout, CancellationToken callerToken)
    {
        Timeout = timeout;
        _callerToken = callerToken;
        Volatile.Write(ref _lastProgress, Environment.TickCount64);
        lock (_gate)
        {
            _inUse = true;
            _armed = true;
            _timer.Change(timeout, System.Threading.Timeout.InfiniteTimeSpan);
        }
        // Runs at once when the caller has already cancelled, as a linked source would.
        _fromCaller = callerToken.UnsafeRegister(static cts => ((CancellationTokenSource)cts!).Cancel(), _cts);
    }

    private void OnDue()
    {
        lock (_gate)
        {
            if (!_armed) return;
            var idle = TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastProgress));
            if (idle >= Timeout)
            {
                _armed = false;
                _cts.Cancel();
            }
            else _timer.Change(Timeout - idle, System.Threading.Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (!_inUse) return; // disposed twice
            _inUse = false;
            _armed = false;
            _timer.Change(System.Threading.Timeout.InfiniteTimeSpan, System.Threading.Timeout.InfiniteTimeSpan);
        }
        // Waits for the caller's callback if it is running: after this nothing cancels the source.
        _fromCaller.Dispose();
        _fromCaller = default;
        if (_cts.TryReset() && Pool.TryKeep(this)) return;
        _timer.Dispose();
        _cts.Dispose();
    }
}
