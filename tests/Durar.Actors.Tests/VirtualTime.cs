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
