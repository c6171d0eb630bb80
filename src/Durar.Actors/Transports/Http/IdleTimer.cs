namespace Durar.Actors.Transports;

/// <summary>
/// An idle timeout: cancels when no progress was reported for <see cref="Timeout"/>. Linked to the caller's token so that
/// either ends the upstream request; <see cref="Fired"/> tells the two apart.
/// </summary>
/// <remarks>
/// Progress is reported per streamed chunk, so <see cref="Touch"/> only records the time: one timer per request checks it
/// when due and re-arms itself for the rest of the window (re-arming a timer per chunk takes the timer queue's lock).
/// </remarks>
internal sealed class IdleTimer : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly CancellationToken _callerToken;
    private readonly ITimer _timer;
    private long _lastProgress; // Environment.TickCount64 (ms)

    public IdleTimer(TimeSpan timeout, CancellationToken callerToken)
    {
        Timeout = timeout;
        _callerToken = callerToken;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        _lastProgress = Environment.TickCount64;
        _timer = TimeProvider.System.CreateTimer(static state => ((IdleTimer)state!).OnDue(), this, timeout, System.Threading.Timeout.InfiniteTimeSpan);
    }

    public TimeSpan Timeout { get; }
    public CancellationToken Token => _cts.Token;
    /// <summary>The idle window ran out (as opposed to the caller cancelling).</summary>
    public bool Fired => _cts.IsCancellationRequested && !_callerToken.IsCancellationRequested;

    /// <summary>Progress: restart the idle window.</summary>
    public void Touch() => Volatile.Write(ref _lastProgress, Environment.TickCount64);

    private void OnDue()
    {
        var idle = TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastProgress));
        try
        {
            if (idle >= Timeout) _cts.Cancel();
            else _timer.Change(Timeout - idle, System.Threading.Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The request ended while the timer was due.
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _cts.Dispose();
    }
}
