using Akka.Actor;
using Akka.Event;
using Durar.Actors.Chat;

namespace Durar.Actors.Sessions.Runs;

/// <summary>
/// Who waits for a session's runs to end: status requests with a <c>?wait=</c> (answered at the end or when their wait is
/// over) and repeated <c>Idempotency-Key</c> turns attached to a run still going (their reply is the run's, replayed once
/// it is journaled). Owned by the session actor and touched only on its thread; created on first use, so an idle session
/// pays one null field. Timers go through the system's scheduler only while someone waits (as <see cref="CollectDebounce"/>).
/// </summary>
internal sealed class RunWatchers
{
    private readonly List<Waiter> _waiters = [];
    private readonly List<(string RunId, SessionFanout Reply)> _attached = [];
    private int _nextId;

    /// <summary>A status request's wait is over; <see cref="Id"/> tells which one.</summary>
    public sealed record WaitOver(int Id) : INoSerializationVerificationNeeded, IDeadLetterSuppression;

    private sealed record Waiter(int Id, string RunId, IActorRef ReplyTo, ICancelable Timer);

    /// <summary>True when nobody waits.</summary>
    public bool IsEmpty => _waiters.Count == 0 && _attached.Count == 0;

    /// <summary><paramref name="replyTo"/> gets the run's view when it ends, or when <paramref name="wait"/> is over.</summary>
    public void Wait(string runId, IActorRef replyTo, TimeSpan wait, IScheduler scheduler, IActorRef self)
    {
        var id = ++_nextId;
        _waiters.Add(new Waiter(id, runId, replyTo, scheduler.ScheduleTellOnceCancelable(wait, self, new WaitOver(id), self)));
    }

    /// <summary>The waiter whose wait is over, removed; null when it was answered already.</summary>
    public (string RunId, IActorRef ReplyTo)? Expire(WaitOver over)
    {
        var index = _waiters.FindIndex(w => w.Id == over.Id);
        if (index < 0) return null;
        var waiter = _waiters[index];
        _waiters.RemoveAt(index);
        return (waiter.RunId, waiter.ReplyTo);
    }

    /// <summary>A repeated turn's reply, to be given the run's answer once <paramref name="runId"/> ends.</summary>
    public void Attach(string runId, SessionFanout reply) => _attached.Add((runId, reply));

    /// <summary>
    /// <paramref name="runId"/> ended (its end is journaled): every waiter gets <paramref name="view"/>, every attached
    /// reply the events of <paramref name="replay"/>.
    /// </summary>
    public void Ended(string runId, object view, Func<IReadOnlyList<ChatEvent>> replay)
    {
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].RunId != runId) continue;
            _waiters[i].Timer.Cancel();
            _waiters[i].ReplyTo.Tell(view);
            _waiters.RemoveAt(i);
        }
        IReadOnlyList<ChatEvent>? events = null;
        for (var i = _attached.Count - 1; i >= 0; i--)
        {
            if (_attached[i].RunId != runId) continue;
            _ = _attached[i].Reply.CompleteAsync(events ??= replay());
            _attached.RemoveAt(i);
        }
    }

    /// <summary>The session stops: timers cancelled, attached replies ended with <paramref name="stopped"/>.</summary>
    public void Stop(ChatEvent stopped)
    {
        foreach (var w in _waiters) w.Timer.Cancel();
        _waiters.Clear();
        foreach (var (_, reply) in _attached) _ = reply.CompleteAsync([stopped]);
        _attached.Clear();
    }
}
