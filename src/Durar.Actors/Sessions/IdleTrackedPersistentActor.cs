using Akka.Actor;
using Akka.Persistence;

namespace Durar.Actors.Sessions;

/// <summary>
/// The actor side of <see cref="SessionIdleSweeper"/>: while the actor runs it is linked into its system's sweeper list,
/// and every message but the sweeper's own <see cref="SessionIdleSweeper.IdleCheck"/> is stamped as activity (what a
/// receive timeout counted). Its whole cost is two list links, a timestamp and the actor's ref: no timer, and no
/// allocation per message. The derived actor decides what an idle check means (the session: passivate unless a run is
/// in flight or a turn waits).
/// </summary>
internal abstract class IdleTrackedPersistentActor : UntypedPersistentActor, IIdleTracked
{
    // The list links, the time of the last message, and Self for the sweeper's thread (Self needs the actor's context).
    private IIdleTracked? _idlePrev;
    private IIdleTracked? _idleNext;
    private long _lastActivityTicks;
    private IActorRef _self = ActorRefs.Nobody;
    private bool _evictable;
    private bool _evicting;

    IIdleTracked? IIdleTracked.IdlePrev { get => _idlePrev; set => _idlePrev = value; }
    IIdleTracked? IIdleTracked.IdleNext { get => _idleNext; set => _idleNext = value; }
    long IIdleTracked.LastActivityTicks => Volatile.Read(ref _lastActivityTicks);
    IActorRef IIdleTracked.IdleRef => _self;
    bool IIdleTracked.Evictable => Volatile.Read(ref _evictable);
    bool IIdleTracked.Evicting { get => _evicting; set => _evicting = value; }

    /// <summary>How long the actor must be quiet before the sweeper checks it (one sweeper per system and timeout).</summary>
    private protected abstract TimeSpan IdleTimeout { get; }

    /// <summary>Most actors of this kind resident at once on the node (one sweeper per system).</summary>
    private protected abstract int MaxResident { get; }

    /// <summary>True when the actor could be passivated now without harm (read after each message it handles).</summary>
    private protected abstract bool Evictable { get; }

    /// <summary>
    /// Publishes <see cref="Evictable"/> now, not at the end of the message: call it before releasing what a client
    /// waits for (a reply), so a request the client sends next finds this actor idle and not busy.
    /// </summary>
    private protected void PublishEvictable() => Volatile.Write(ref _evictable, Evictable);

    private protected SessionIdleSweeper IdleSweeper => SessionIdleSweeper.For(Context.System, IdleTimeout, MaxResident);

    /// <summary>
    /// Asks the sweeper for a place on the node (call once, from the derived constructor, before recovery starts): true
    /// when admitted (linked in, the least recently used idle actors evicted if the node was full); false when every
    /// resident actor is busy, and this one should answer that and stop without recovering.
    /// </summary>
    private protected bool Admit()
    {
        _self = Self;
        var sweeper = IdleSweeper;
        Volatile.Write(ref _lastActivityTicks, sweeper.NowTicks);
        return sweeper.Admit(this);
    }

    /// <summary>
    /// True when nothing but idle checks came for the idle timeout: a check may have waited behind newer messages, so the
    /// derived actor looks again before it acts on one.
    /// </summary>
    private protected bool QuietForIdleTimeout
    {
        get
        {
            var sweeper = IdleSweeper;
            return sweeper.NowTicks - Volatile.Read(ref _lastActivityTicks) >= sweeper.IdleTimeout.Ticks;
        }
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is not (SessionIdleSweeper.IdleCheck or SessionIdleSweeper.Evict or SessionIdleSweeper.Stop))
            Volatile.Write(ref _lastActivityTicks, IdleSweeper.NowTicks);
        var handled = base.AroundReceive(receive, message);
        PublishEvictable();
        return handled;
    }

    protected override void PostStop()
    {
        IdleSweeper.Untrack(this);
        base.PostStop();
    }
}
