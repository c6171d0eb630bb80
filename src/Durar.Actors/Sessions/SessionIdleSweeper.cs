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
/// ones; a session links itself in <c>PreStart</c> and out in <c>PostStop</c>, so the list costs it two
/// fields and a timestamp, with no allocation.
/// </remarks>
internal sealed class SessionIdleSweeper
{
    private static readonly ConditionalWeakTable<ActorSystem, SessionIdleSweeper> Sweepers = new();

    private readonly Lock _gate = new();
    private readonly Func<long> _clock;
    private readonly long _idleTicks;
    private IIdleTracked? _first;
    private int _count;
    private int _sweeping;

    /// <param name="clock">Ticks of a monotonic clock; sessions stamp their messages with it.</param>
    /// <param name="idleTimeout">How long a session must have been quiet to be checked.</param>
    public SessionIdleSweeper(Func<long> clock, TimeSpan idleTimeout)
    {
        _clock = clock;
        IdleTimeout = idleTimeout;
        _idleTicks = idleTimeout.Ticks;
    }

    /// <summary>Sent by the sweeper to a session quiet for the idle timeout; it is not activity itself.</summary>
    public sealed class IdleCheck : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static IdleCheck Instance { get; } = new();
        private IdleCheck() { }
    }

    public TimeSpan IdleTimeout { get; }

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

    /// <summary>The actor system's sweeper, started by its first session (see <see cref="Start"/>).</summary>
    public static SessionIdleSweeper For(ActorSystem system, TimeSpan idleTimeout) =>
        Sweepers.TryGetValue(system, out var sweeper) ? sweeper : Start(system, idleTimeout);

    /// <summary>
    /// Starts the actor system's sweeper unless it has one: the sessions' idle timeout is one setting for the whole
    /// system, and the clock is the scheduler's monotonic one unless a test passes its own. It sweeps on the thread pool,
    /// never on the scheduler's thread, and stops with the system.
    /// </summary>
    internal static SessionIdleSweeper Start(ActorSystem system, TimeSpan idleTimeout, Func<long>? clock = null)
    {
        lock (Sweepers)
        {
            if (Sweepers.TryGetValue(system, out var existing)) return existing;
            var scheduler = system.Scheduler;
            var sweeper = new SessionIdleSweeper(clock ?? (() => scheduler.MonotonicClock.Ticks), idleTimeout);
            var interval = IntervalFor(idleTimeout);
            var timer = scheduler.Advanced.ScheduleRepeatedlyCancelable(interval, interval, sweeper.SweepInBackground);
            system.RegisterOnTermination(timer.Cancel);
            Sweepers.Add(system, sweeper);
            return sweeper;
        }
    }

    public void Track(IIdleTracked session)
    {
        lock (_gate)
        {
            if (IsLinked(session)) return;
            session.IdlePrev = null;
            session.IdleNext = _first;
            if (_first is not null) _first.IdlePrev = session;
            _first = session;
            _count++;
        }
    }

    public void Untrack(IIdleTracked session)
    {
        lock (_gate)
        {
            if (!IsLinked(session)) return;
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
