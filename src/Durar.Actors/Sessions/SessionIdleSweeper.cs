using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Event;

namespace Durar.Actors.Sessions;

/// <summary>A session as the idle sweeper sees it: links in the sweeper's list, the time of its last message, its ref.</summary>
internal interface IIdleTracked
{
    IIdleTracked? IdlePrev { get; set; }
    IIdleTracked? IdleNext { get; set; }

    /// <summary>The sweeper's clock (<see cref="SessionIdleSweeper.NowTicks"/>) when the session last received a message; read from any thread.</summary>
    long LastActivityTicks { get; }

    IActorRef IdleRef { get; }

    /// <summary>
    /// True while the session could be passivated without harm: no run, no queued turn, no write in flight, no watcher
    /// (set by the session after each message; read from any thread).
    /// </summary>
    bool Evictable { get; }

    /// <summary>The sweeper asked it to make room (<see cref="SessionIdleSweeper.Evict"/>); guarded by the sweeper's lock.</summary>
    bool Evicting { get; set; }
}

/// <summary>
/// Idle passivation for all the sessions of one actor system with one timer instead of one per session: a receive timeout
/// costs every idle session a scheduler registration (about 230 bytes) and a re-arm after each message. Sessions link
/// themselves into an intrusive list while they run and note the time of each message; every
/// <see cref="IntervalFor">eighth of the idle timeout</see> the sweeper walks the list and sends
/// <see cref="IdleCheck"/> to each session that has been quiet for the idle timeout. The session decides, as it did on a
/// receive timeout: passivate if no run is in flight and nothing is queued, otherwise carry on. A session is therefore
/// passivated between one and 1⅛ idle timeouts after its last message.
/// </summary>
/// <remarks>
/// A sweep walks every resident session under the list's lock, reading one timestamp each, and sends only to the quiet
/// ones; a session links itself in when it is created and out in <c>PostStop</c>, so the list costs it two
/// fields and a timestamp, with no allocation.
/// <para>
/// The same list bounds the sessions a node holds (<c>gateway.sessions.maxResident</c>; Akka.NET 1.5's Cluster Sharding
/// has only idle-time passivation, not the JVM's <c>active-entity-limit</c>). A session being created asks
/// <see cref="Admit"/>: while the node holds fewer, it is linked in; at the limit, the least recently used
/// <see cref="IIdleTracked.Evictable">idle</see> sessions are sent <see cref="Evict"/> (they passivate; a session that
/// became busy meanwhile stays and is <see cref="Reprieve">reprieved</see>) and the newcomer is admitted; when every
/// resident session is busy the newcomer is refused (it answers 503 <c>sessions_busy</c> without recovering and stops).
/// Finding the least recently used walks the list once (the list is in creation order, each session stamps its own
/// activity without taking the lock), only when a session is created at the limit; that walk then evicts
/// <see cref="Headroom"/> (1/64 of the limit) more idle sessions than the one place needed, so the next creations find room
/// without walking: at 100,000 resident sessions a walk per creation cost milliseconds under the lock (bench/scale.sh).
/// </para>
/// </remarks>
internal sealed class SessionIdleSweeper
{
    private static readonly ConditionalWeakTable<ActorSystem, SessionIdleSweeper> Sweepers = new();

    private readonly Lock _gate = new();
    private readonly Func<long> _clock;
    private readonly long _idleTicks;
    private IIdleTracked? _first;
    private int _count;
    private int _evicting;
    private long _evicted;
    private long _refused;
    private int _sweeping;

    /// <param name="clock">Ticks of a monotonic clock; sessions stamp their messages with it.</param>
    /// <param name="idleTimeout">How long a session must have been quiet to be checked.</param>
    /// <param name="maxResident">Most sessions resident at once (<c>gateway.sessions.maxResident</c>).</param>
    public SessionIdleSweeper(Func<long> clock, TimeSpan idleTimeout, int maxResident = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxResident, 1);
        _clock = clock;
        IdleTimeout = idleTimeout;
        _idleTicks = idleTimeout.Ticks;
        MaxResident = maxResident;
        Headroom = maxResident / 64;
    }

    /// <summary>Sent by the sweeper to a session quiet for the idle timeout; it is not activity itself.</summary>
    public sealed class IdleCheck : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static IdleCheck Instance { get; } = new();
        private IdleCheck() { }
    }

    /// <summary>
    /// Sent by the sweeper to the least recently used idle session when a new one needs its place: it passivates (with
    /// <see cref="Stop"/>) if it is still idle, else it asks for a <see cref="Reprieve"/>. Not activity itself.
    /// </summary>
    public sealed class Evict : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static Evict Instance { get; } = new();
        private Evict() { }
    }

    /// <summary>
    /// The stop message of an evicted or refused session's <c>Passivate</c>: an ordinary message, so a journal write in
    /// flight (which stashes messages) finishes before the session stops. Not activity itself.
    /// </summary>
    public sealed class Stop : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static Stop Instance { get; } = new();
        private Stop() { }
    }

    public TimeSpan IdleTimeout { get; }

    /// <summary>Most sessions resident at once on this node (<c>gateway.sessions.maxResident</c>).</summary>
    public int MaxResident { get; }

    /// <summary>How many idle sessions beyond the excess a walk at the limit evicts (1/64 of the limit, none under 64), so
    /// that one walk of the list serves this many creations.</summary>
    public int Headroom { get; }

    /// <summary>Sessions passivated to make room for a new one, since start.</summary>
    public long Evicted => Interlocked.Read(ref _evicted);

    /// <summary>New sessions refused because every resident one was busy, since start.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>The clock sessions stamp their messages with.</summary>
    public long NowTicks => _clock();

    /// <summary>How many sessions are linked in.</summary>
    public int Count
    {
        get { lock (_gate) return _count; }
    }

    /// <summary>Sessions resident in <paramref name="system"/> (linked into its sweeper); 0 before the first session started.</summary>
    public static int Resident(ActorSystem system) => Sweepers.TryGetValue(system, out var sweeper) ? sweeper.Count : 0;

    /// <summary>How often the sweeper looks: an eighth of the idle timeout, at least 10 ms and at most 15 s.</summary>
    public static TimeSpan IntervalFor(TimeSpan idleTimeout) =>
        TimeSpan.FromTicks(Math.Clamp(idleTimeout.Ticks / 8, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(15).Ticks));

    /// <summary>The sweeper of <paramref name="system"/>, or null before its first session started.</summary>
    public static SessionIdleSweeper? Of(ActorSystem system) => Sweepers.TryGetValue(system, out var sweeper) ? sweeper : null;

    /// <summary>The actor system's sweeper, started by its first session (see <see cref="Start"/>).</summary>
    public static SessionIdleSweeper For(ActorSystem system, TimeSpan idleTimeout, int maxResident = int.MaxValue) =>
        Sweepers.TryGetValue(system, out var sweeper) ? sweeper : Start(system, idleTimeout, maxResident: maxResident);

    /// <summary>
    /// Starts the actor system's sweeper unless it has one: the sessions' idle timeout is one setting for the whole
    /// system, and the clock is the scheduler's monotonic one unless a test passes its own. It sweeps on the thread pool,
    /// never on the scheduler's thread, and stops with the system.
    /// </summary>
    internal static SessionIdleSweeper Start(ActorSystem system, TimeSpan idleTimeout, Func<long>? clock = null, int maxResident = int.MaxValue)
    {
        lock (Sweepers)
        {
            if (Sweepers.TryGetValue(system, out var existing)) return existing;
            var scheduler = system.Scheduler;
            var sweeper = new SessionIdleSweeper(clock ?? (() => scheduler.MonotonicClock.Ticks), idleTimeout, maxResident);
            var interval = IntervalFor(idleTimeout);
            var timer = scheduler.Advanced.ScheduleRepeatedlyCancelable(interval, interval, sweeper.SweepInBackground);
            system.RegisterOnTermination(timer.Cancel);
            Sweepers.Add(system, sweeper);
            return sweeper;
        }
    }

    /// <summary>Links a session in whatever the limit (see <see cref="Admit"/> for a new session).</summary>
    public void Track(IIdleTracked session)
    {
        lock (_gate)
        {
            if (!IsLinked(session)) Link(session);
        }
    }

    private void Link(IIdleTracked session)
    {
        session.IdlePrev = null;
        session.IdleNext = _first;
        if (_first is not null) _first.IdlePrev = session;
        _first = session;
        _count++;
    }

    /// <summary>
    /// Links a session being created in, unless the node already holds <see cref="MaxResident"/> and none of them is idle.
    /// At the limit, the least recently used idle sessions (as many as there are too many, plus <see cref="Headroom"/>) are sent <see cref="Evict"/>;
    /// sessions already evicting no longer count. False: the newcomer is refused and is not linked in.
    /// </summary>
    public bool Admit(IIdleTracked session)
    {
        List<IIdleTracked>? victims = null;
        bool admitted;
        lock (_gate)
        {
            if (IsLinked(session)) return true;
            var excess = _count - _evicting + 1 - MaxResident;
            if (excess > 0)
            {
                victims = LeastRecentlyUsedIdle(excess + Headroom);
                foreach (var victim in victims) victim.Evicting = true;
                _evicting += victims.Count;
            }
            admitted = victims is null || victims.Count >= excess;
            if (admitted) Link(session);
        }
        if (victims is not null)
        {
            foreach (var victim in victims) victim.IdleRef.Tell(Evict.Instance, ActorRefs.NoSender);
        }
        if (!admitted) Interlocked.Increment(ref _refused);
        return admitted;
    }

    /// <summary>An evicted session that had become busy before the <see cref="Evict"/> reached it stays, and counts again.</summary>
    public void Reprieve(IIdleTracked session)
    {
        lock (_gate)
        {
            if (!session.Evicting) return;
            session.Evicting = false;
            _evicting--;
        }
    }

    /// <summary>The <paramref name="n"/> idle sessions not already evicting with the oldest activity, oldest first (one walk).</summary>
    private List<IIdleTracked> LeastRecentlyUsedIdle(int n)
    {
        // A max-heap of the n oldest seen so far (priority: newest on top, to be pushed out by an older one).
        var oldest = new PriorityQueue<IIdleTracked, long>(n, Comparer<long>.Create((a, b) => b.CompareTo(a)));
        for (var s = _first; s is not null; s = s.IdleNext)
        {
            if (s.Evicting || !s.Evictable) continue;
            var at = s.LastActivityTicks;
            if (oldest.Count < n) oldest.Enqueue(s, at);
            else if (oldest.TryPeek(out _, out var newest) && at < newest) oldest.EnqueueDequeue(s, at);
        }
        var result = new List<IIdleTracked>(oldest.Count);
        while (oldest.TryDequeue(out var s, out _)) result.Add(s);
        result.Reverse();
        return result;
    }

    public void Untrack(IIdleTracked session)
    {
        lock (_gate)
        {
            if (!IsLinked(session)) return;
            if (session.Evicting)
            {
                session.Evicting = false;
                _evicting--;
                Interlocked.Increment(ref _evicted);
            }
            if (session.IdlePrev is { } prev) prev.IdleNext = session.IdleNext;
            else _first = session.IdleNext;
            if (session.IdleNext is { } next) next.IdlePrev = session.IdlePrev;
            session.IdlePrev = null;
            session.IdleNext = null;
            _count--;
        }
    }

    /// <summary>Sends <see cref="IdleCheck"/> to every session quiet for the idle timeout; returns how many.</summary>
    public int Sweep()
    {
        var now = NowTicks;
        var sent = 0;
        lock (_gate)
        {
            for (var s = _first; s is not null; s = s.IdleNext)
            {
                if (now - s.LastActivityTicks < _idleTicks) continue;
                s.IdleRef.Tell(IdleCheck.Instance, ActorRefs.NoSender);
                sent++;
            }
        }
        return sent;
    }

    private void SweepInBackground()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1) return; // the previous sweep is still walking
        ThreadPool.UnsafeQueueUserWorkItem(static sweeper =>
        {
            try
            {
                sweeper.Sweep();
            }
            finally
            {
                Volatile.Write(ref sweeper._sweeping, 0);
            }
        }, this, preferLocal: false);
    }

    private bool IsLinked(IIdleTracked session) => session.IdlePrev is not null || ReferenceEquals(_first, session);
}
