using System.Threading.Channels;
using Akka.Configuration;

namespace Durar.Actors.Tests;

/// <summary>
/// The actor-spec configuration: TestKit's TestScheduler drives the clock and every timer (virtual time, no sleeps), and the
/// in-memory journal and snapshot store stand in for SQL.
/// </summary>
internal static class VirtualTime
{
    public static readonly Akka.Configuration.Config Config = ConfigurationFactory
        .ParseString("""akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit" """)
        .WithFallback(InMemoryPersistence.Config);
}

/// <summary>Specs on the real clock (concurrency, timers that must really fire) with the in-memory journal and snapshot store.</summary>
internal static class InMemoryPersistence
{
    public static readonly Akka.Configuration.Config Config = ConfigurationFactory.ParseString("""
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        akka.loglevel = WARNING
        """);
}

/// <summary>
/// One virtual clock for an actor system on <see cref="VirtualTime.Config"/> and for the code beside it that takes a
/// <see cref="TimeProvider"/> (e.g. <see cref="Durar.Actors.Routing.ChatRunner"/>): <see cref="Time"/> starts at the scheduler's now,
/// and <see cref="Advance"/> moves both, the actors first (their timers fire, their <c>Now</c> moves) and then the
/// provider's timers. Every timer armed on <see cref="Time"/> is reported, so a spec can wait until the code under test
/// is waiting (<see cref="NextTimerAsync"/>) before it moves the clock, instead of guessing with a sleep.
/// </summary>
internal sealed class VirtualClock
{
    private readonly Akka.TestKit.TestScheduler _scheduler;
    private readonly ObservedTimeProvider _time;

    public VirtualClock(Akka.Actor.ActorSystem system)
    {
        _scheduler = (Akka.TestKit.TestScheduler)system.Scheduler;
        _time = new ObservedTimeProvider(_scheduler.Now);
    }

    /// <summary>The <see cref="TimeProvider"/> to hand to the code under test.</summary>
    public TimeProvider Time => _time;

    /// <summary>How many timers the code under test has armed on <see cref="Time"/> so far.</summary>
    public int ArmedTimers => _time.Armed;

    /// <summary>Moves the actors' scheduler and then <see cref="Time"/> forward by <paramref name="delta"/>.</summary>
    public void Advance(TimeSpan delta)
    {
        _scheduler.Advance(delta);
        _time.Advance(delta);
    }

    /// <summary>The due time of the next timer armed on <see cref="Time"/> (in arming order); fails if none is armed in time.</summary>
    public async Task<TimeSpan> NextTimerAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(15);
        try
        {
            return await _time.Timers.Reader.ReadAsync().AsTask().WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"nothing armed a timer on the virtual clock within {limit.TotalSeconds} s (real time)");
        }
    }

    private sealed class ObservedTimeProvider(DateTimeOffset start) : Microsoft.Extensions.Time.Testing.FakeTimeProvider(start)
    {
        private int _armed;

        public Channel<TimeSpan> Timers { get; } = Channel.CreateUnbounded<TimeSpan>();

        public int Armed => Volatile.Read(ref _armed);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _armed);
            Timers.Writer.TryWrite(dueTime);
            return timer;
        }
    }
}
