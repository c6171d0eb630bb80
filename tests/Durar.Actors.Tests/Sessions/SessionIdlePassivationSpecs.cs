using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.TestKit;
using Durar.Actors.Configuration;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// Idle passivation through the system's one <see cref="SessionIdleSweeper"/> (virtual time): a session asks its shard to
/// passivate it once it has been quiet for the idle timeout, every message counts as activity, and a session with a
/// queued turn is never passivated. Also the sweeper's list itself, and the key a session reads from its actor name.
/// </summary>
public sealed class SessionIdlePassivationSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(80);
    private static readonly TimeSpan Sweep = SessionIdleSweeper.IntervalFor(Idle);

    public SessionIdlePassivationSpecs()
        : base(ConfigurationFactory.ParseString(SessionMailbox.Hocon).WithFallback(VirtualTime.Config), nameof(SessionIdlePassivationSpecs))
    {
        // The sessions of this system stamp their messages with the virtual clock (the TestScheduler's monotonic clock is real).
        SessionIdleSweeper.Start(Sys, Idle, () => Clock.Now.UtcTicks);
    }

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private SessionIdleSweeper NewSweeper() => new(() => Clock.Now.UtcTicks, Idle);

    private static SessionServices Services()
    {
        // The idle path needs only the settings and the resolver (a session's view shows its model's context budget); a
        // collect-mode turn waits for its debounce (an hour) before it would run.
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText(
            $"gateway.sessions {{ idleTimeout = {Idle.TotalSeconds}s, queueDebounce = 1h }}"));
        return new SessionServices(null!, new Durar.Actors.Models.ModelResolver(new Durar.Actors.Catalog.ProviderCatalog(settings), settings.Agents), settings);
    }

    /// <summary>Stands in for the shard: creates the session under its key's escaped name and reports its passivation requests.</summary>
    private sealed class ShardStandIn : ReceiveActor
    {
        public ShardStandIn(string key, IActorRef passivations)
        {
            var session = Context.ActorOf(SessionActor.Props(Services()), Uri.EscapeDataString(key));
            Receive<Passivate>(p => passivations.Tell(p));
            ReceiveAny(m => session.Forward(m));
        }
    }

    private (IActorRef Session, TestProbe Passivations) Start(string key)
    {
        var passivations = CreateTestProbe();
        var shard = Sys.ActorOf(Props.Create(() => new ShardStandIn(key, passivations.Ref)));
        shard.Tell(new SessionCommands.GetSession(key), TestActor);
        ExpectMsg<SessionView>(); // started and recovered
        return (shard, passivations);
    }

    /// <summary>
    /// Moves virtual time on, then has the system's sweeper look once, synchronously (its own timer sweeps on the thread
    /// pool, which a test cannot order against the virtual clock).
    /// </summary>
    private void Pass(TimeSpan span)
    {
        Clock.Advance(span);
        SessionIdleSweeper.For(Sys, Idle).Sweep();
    }

    [Fact]
    public void Should_ask_to_be_passivated_once_quiet_for_the_idle_timeout_and_count_every_message_as_activity()
    {
        var (session, passivations) = Start("idle-1");

        Pass(Idle - Sweep - Sweep);
        passivations.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        session.Tell(new SessionCommands.GetSession("idle-1"), TestActor); // activity: the idle clock starts again
        ExpectMsg<SessionView>();

        Pass(Idle - Sweep - Sweep);
        passivations.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        Pass(Sweep * 3);
        Assert.Same(PoisonPill.Instance, passivations.ExpectMsg<Passivate>().StopMessage);
    }

    [Fact]
    public void Should_never_be_passivated_while_a_turn_is_queued()
    {
        var (session, passivations) = Start("busy-1");
        session.Tell(new SessionCommands.SendMessage("busy-1", "collect me", QueueMode.Collect), TestActor);
        var accepted = ExpectMsg<TurnAccepted>(); // journaled and queued; its run waits for the debounce
        Assert.Equal(1, accepted.Seq);

        Pass(Idle * 3);
        passivations.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        session.Tell(new SessionCommands.GetSession("busy-1"), TestActor);
        Assert.Equal(1, ExpectMsg<SessionView>().Queued);
    }

    [Fact]
    public void Should_read_its_key_from_its_escaped_actor_name()
    {
        const string key = "team:a.b_c-d@example";
        var (session, _) = Start(key);
        session.Tell(new SessionCommands.GetSession(key), TestActor);
        Assert.Equal(key, ExpectMsg<SessionView>().SessionKey);
        Assert.Equal("session-" + key, SessionActor.PersistenceIdFor(SessionActor.KeyFromName(Uri.EscapeDataString(key))));
    }

    private sealed class Tracked(IActorRef idleRef) : IIdleTracked
    {
        public IIdleTracked? IdlePrev { get; set; }
        public IIdleTracked? IdleNext { get; set; }
        public long LastActivityTicks { get; set; }
        public IActorRef IdleRef { get; } = idleRef;
        public bool Evictable { get; set; } = true;
        public bool Evicting { get; set; }
    }

    // ---- issue 13, "Session limits: ... on resident sessions per node" (the sweeper's side; end to end: ResidentSessionLimitSpecs) ----

    [Fact]
    public void Should_evict_the_least_recently_used_idle_sessions_when_a_new_one_comes_at_maxResident()
    {
        var sweeper = new SessionIdleSweeper(() => Clock.Now.UtcTicks, Idle, maxResident: 3);
        var probes = Enumerable.Range(0, 4).Select(_ => CreateTestProbe()).ToArray();
        var (oldestBusy, old, recent) = (new Tracked(probes[0].Ref) { LastActivityTicks = 1, Evictable = false },
            new Tracked(probes[1].Ref) { LastActivityTicks = 2 }, new Tracked(probes[2].Ref) { LastActivityTicks = 3 });
        Assert.True(sweeper.Admit(recent));
        Assert.True(sweeper.Admit(oldestBusy));
        Assert.True(sweeper.Admit(old));
        Assert.Equal(0, sweeper.Evicted);

        var newcomer = new Tracked(probes[3].Ref) { LastActivityTicks = 4, Evictable = false };
        Assert.True(sweeper.Admit(newcomer));

        probes[1].ExpectMsg<SessionIdleSweeper.Evict>(); // the least recently used idle one; the older busy one stays
        probes[0].ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        probes[2].ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.True(old.Evicting);
        Assert.Equal(4, sweeper.Count); // until the evicted one stops
        sweeper.Untrack(old);
        Assert.Equal((3, 1L), (sweeper.Count, sweeper.Evicted));
    }

    [Fact]
    public void Should_evict_a_64th_of_the_limit_more_at_maxResident_so_that_the_next_new_sessions_find_room_without_a_walk()
    {
        // 128 resident: a walk at the limit evicts the one place needed plus 128 / 64 = 2, the three least recently used
        // idle sessions; the next two newcomers are admitted with no eviction, the third walks again.
        var sweeper = new SessionIdleSweeper(() => Clock.Now.UtcTicks, Idle, maxResident: 128);
        Assert.Equal(2, sweeper.Headroom);
        var probes = Enumerable.Range(0, 128).Select(_ => CreateTestProbe()).ToArray();
        var resident = probes.Select((p, i) => new Tracked(p.Ref) { LastActivityTicks = 1000 - i }).ToArray(); // the last, oldest
        foreach (var r in resident) Assert.True(sweeper.Admit(r));

        Assert.True(sweeper.Admit(new Tracked(CreateTestProbe().Ref) { LastActivityTicks = 2000 }));
        for (var i = 125; i < 128; i++) probes[i].ExpectMsg<SessionIdleSweeper.Evict>();
        probes[124].ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Equal(3, resident.Count(r => r.Evicting));

        Assert.True(sweeper.Admit(new Tracked(CreateTestProbe().Ref) { LastActivityTicks = 2001 }));
        Assert.True(sweeper.Admit(new Tracked(CreateTestProbe().Ref) { LastActivityTicks = 2002 }));
        Assert.Equal(3, resident.Count(r => r.Evicting));
        probes[124].ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        Assert.True(sweeper.Admit(new Tracked(CreateTestProbe().Ref) { LastActivityTicks = 2003 }));
        for (var i = 122; i < 125; i++) probes[i].ExpectMsg<SessionIdleSweeper.Evict>(); // 131 - 3 evicting + 1 - 128 = 1, plus 2
        probes[121].ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Equal(6, resident.Count(r => r.Evicting));
    }

    [Fact]
    public void Should_refuse_a_new_session_at_maxResident_when_every_resident_session_is_busy_and_admit_it_once_one_is_idle()
    {
        var sweeper = new SessionIdleSweeper(() => Clock.Now.UtcTicks, Idle, maxResident: 2);
        var (a, b) = (new Tracked(CreateTestProbe().Ref) { Evictable = false }, new Tracked(CreateTestProbe().Ref) { Evictable = false });
        Assert.True(sweeper.Admit(a));
        Assert.True(sweeper.Admit(b));
        var probe = CreateTestProbe();
        var newcomer = new Tracked(probe.Ref);

        Assert.False(sweeper.Admit(newcomer));
        Assert.Equal((2, 1L, 0L), (sweeper.Count, sweeper.Refused, sweeper.Evicted));

        b.Evictable = true;
        Assert.True(sweeper.Admit(newcomer));
        Assert.True(b.Evicting);
        // b became busy before the Evict reached it: it stays, counts again, and the next newcomer is refused.
        sweeper.Reprieve(b);
        b.Evictable = false;
        Assert.False(b.Evicting);
        Assert.False(sweeper.Admit(new Tracked(CreateTestProbe().Ref)));
        Assert.Equal(2L, sweeper.Refused);
    }

    [Fact]
    public void Should_check_only_the_sessions_quiet_for_the_idle_timeout()
    {
        var sweeper = NewSweeper();
        var (quiet, recent) = (CreateTestProbe(), CreateTestProbe());
        sweeper.Track(new Tracked(quiet.Ref) { LastActivityTicks = sweeper.NowTicks });
        Clock.Advance(Idle - TimeSpan.FromSeconds(1));
        sweeper.Track(new Tracked(recent.Ref) { LastActivityTicks = sweeper.NowTicks });
        Clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(1, sweeper.Sweep());
        quiet.ExpectMsg<SessionIdleSweeper.IdleCheck>();
        recent.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Should_keep_its_list_whole_when_sessions_leave_from_the_front_middle_and_back()
    {
        var sweeper = NewSweeper();
        var probes = Enumerable.Range(0, 5).Select(_ => CreateTestProbe()).ToArray();
        var sessions = probes.Select(p => new Tracked(p.Ref) { LastActivityTicks = sweeper.NowTicks }).ToArray();
        foreach (var s in sessions) sweeper.Track(s);
        sweeper.Track(sessions[2]); // tracking twice is a no-op
        Assert.Equal(5, sweeper.Count);

        sweeper.Untrack(sessions[4]); // the front (the newest is linked first)
        sweeper.Untrack(sessions[2]); // the middle
        sweeper.Untrack(sessions[0]); // the back
        sweeper.Untrack(sessions[0]); // untracking twice is a no-op
        Assert.Equal(2, sweeper.Count);

        Clock.Advance(Idle);
        Assert.Equal(2, sweeper.Sweep());
        probes[1].ExpectMsg<SessionIdleSweeper.IdleCheck>();
        probes[3].ExpectMsg<SessionIdleSweeper.IdleCheck>();
        foreach (var i in new[] { 0, 2, 4 }) probes[i].ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Theory]
    [InlineData(120_000, 15_000)] // the default 2 min: 15 s, the upper bound
    [InlineData(8_000, 1_000)]    // an eighth
    [InlineData(40, 10)]          // at least 10 ms
    public void Should_sweep_every_eighth_of_the_idle_timeout_within_bounds(int idleMs, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), SessionIdleSweeper.IntervalFor(TimeSpan.FromMilliseconds(idleMs)));
}
