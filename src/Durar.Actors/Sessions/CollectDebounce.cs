using Akka.Actor;
using Akka.Event;

namespace Durar.Actors.Sessions;

/// <summary>
/// The collect debounce of one session (reference item 82): at most one scheduled <see cref="Due"/>; restarting or
/// cancelling the debounce makes one already sent stale. A struct held in the session's field: an idle session pays a
/// null reference and an int for it, and a timer only exists while collect messages wait.
/// </summary>
/// <remarks>
/// Not <see cref="IWithTimers"/>: the timer scheduler it brings costs every session, idle or not (see
/// <see cref="SessionActor"/>'s remarks); this schedules through the system's scheduler only while it waits.
/// </remarks>
internal struct CollectDebounce
{
    private ICancelable? _timer;
    private int _generation;

    /// <summary>The debounce ran out; its generation tells a current one from a stale one.</summary>
    public sealed record Due(int Generation) : INoSerializationVerificationNeeded, IDeadLetterSuppression;

    /// <summary>(Re)starts the debounce: <paramref name="self"/> gets a <see cref="Due"/> once <paramref name="delay"/> passed with no restart.</summary>
    public void Restart(IScheduler scheduler, TimeSpan delay, IActorRef self)
    {
        _timer?.Cancel();
        _timer = scheduler.ScheduleTellOnceCancelable(delay, self, new Due(++_generation), self);
    }

    /// <summary>Stops a waiting debounce; a <see cref="Due"/> already sent becomes stale.</summary>
    public void Cancel()
    {
        if (_timer is null) return;
        _timer.Cancel();
        _timer = null;
        _generation++;
    }

    /// <summary>True when <paramref name="due"/> is the current debounce running out (the debounce is then over).</summary>
    public bool Expire(Due due)
    {
        if (due.Generation != _generation) return false; // restarted or cancelled after this one was sent
        _timer = null;
        return true;
    }

    /// <summary>Releases the timer when the session stops.</summary>
    public readonly void Stop() => _timer?.Cancel();
}
