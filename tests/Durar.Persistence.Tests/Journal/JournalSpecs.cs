using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Durar.Actors;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Persistence.Serialization;
using Xunit.Abstractions;

namespace Durar.Persistence.Tests.Journal;

/// <summary>
/// The journal and snapshot store as configured by <see cref="DurarPersistence.Hocon"/>, against a real store: one spec run
/// against every store Durar supports (<see cref="SqliteJournalSpecs"/>, <see cref="PostgresJournalSpecs"/>), each with a
/// fresh database per spec. Events survive a restart in order, a snapshot comes back whole, rows carry Durar's serializer
/// and manifests, a second node on the same database takes over a persistence id, two nodes may create the tables at
/// once, and concurrent writers all succeed (no "database is locked", no gap in any sequence).
/// </summary>
/// <remarks>
/// <see cref="RecordingActor"/> stands in for the key actor, so these specs exercise only the plugin, the HOCON and the
/// serializer. Each "node" is an ActorSystem of its own on the spec's database, as two gateway processes would be.
/// </remarks>
public abstract class JournalSpecs(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>The first journal use creates the tables (about 2 s); a busy CI machine needs more.</summary>
    protected static readonly TimeSpan FirstUse = TimeSpan.FromSeconds(30);

    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly List<Akka.TestKit.Xunit2.TestKit> _nodes = [];
    private Config? _config;

    /// <summary>The persistence configuration of the spec's store (<see cref="OpenStoreAsync"/>).</summary>
    protected Config Config => _config ?? throw new InvalidOperationException("InitializeAsync did not run");

    /// <summary>Creates this spec's empty database and returns its <see cref="DurarPersistence.Hocon"/>.</summary>
    protected abstract Task<Config> OpenStoreAsync();

    /// <summary>Deletes this spec's database (every node has terminated by then).</summary>
    protected abstract Task CloseStoreAsync();

    /// <summary>The linq2db provider name the store must be configured with.</summary>
    protected abstract string ProviderName { get; }

    /// <summary>Asserts that the configured connection string points at this spec's database.</summary>
    protected abstract void AssertConnectionString(string connectionString);

    /// <summary>The rows of <paramref name="sql"/>: manifest, serializer id and payload (as UTF-8 text) of each.</summary>
    protected abstract Task<List<(string Manifest, int SerializerId, string Payload)>> Rows(string sql);

    /// <summary>The single number <paramref name="sql"/> selects.</summary>
    protected abstract Task<long> Scalar(string sql);

    public async Task InitializeAsync() => _config = await OpenStoreAsync();

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) await node.Sys.Terminate();
        await CloseStoreAsync();
    }

    [Fact]
    public void Should_use_the_store_s_provider()
    {
        foreach (var path in new[] { "akka.persistence.journal.sql", "akka.persistence.snapshot-store.sql" })
        {
            var plugin = Config.GetConfig(path);
            Assert.Equal(ProviderName, plugin.GetString("provider-name"));
            AssertConnectionString(plugin.GetString("connection-string"));
        }
    }

    [Fact]
    public async Task Should_recover_persisted_events_in_order_after_a_restart()
    {
        var written = new IDurarPersistable[]
        {
            new KeyEvents.Failed(T0, FailoverReason.RateLimit, "GPT-5.4", true, null, T0.AddMinutes(1), null, false),
            new KeyEvents.Exhausted(T0.AddSeconds(1), null, T0.AddSeconds(30)),
            new KeyEvents.Used(T0.AddSeconds(2)),
            new KeyEvents.Recovered(T0.AddSeconds(3)),
            new KeyEvents.Reset(T0.AddSeconds(4)),
        };

        var first = StartNode("first");
        var probe = first.CreateTestProbe();
        var actor = first.Sys.ActorOf(RecordingActor.Props("key-openai-1"));
        for (var i = 0; i < written.Length; i++)
        {
            actor.Tell(new RecordingActor.Write(written[i]), probe.Ref);
            Assert.Equal(i + 1, ExpectWritten(probe, i == 0 ? FirstUse : TimeSpan.FromSeconds(10)).SequenceNr);
        }

        await StopNode(first);

        var recovered = Recover(StartNode("second"), "key-openai-1");
        Assert.Null(recovered.Snapshot);
        Assert.Equal(written.Length, recovered.Events.Count);
        for (var i = 0; i < written.Length; i++)
        {
            Equivalence.AssertEquivalent(written[i], recovered.Events[i], $"events[{i}]");
        }
    }

    [Fact]
    public async Task Should_recover_from_a_snapshot_then_the_later_events()
    {
        var snapshot = new KeyHealthSnapshot(PersistableSamples.FullHealth);
        var after = new KeyEvents.Used(T0.AddMinutes(10));

        var first = StartNode("first");
        var probe = first.CreateTestProbe();
        var actor = first.Sys.ActorOf(RecordingActor.Props("key-anthropic-1"));
        actor.Tell(new RecordingActor.Write(new KeyEvents.Recovered(T0)), probe.Ref);
        ExpectWritten(probe, FirstUse);
        actor.Tell(new RecordingActor.Snap(snapshot), probe.Ref);
        Assert.Equal(1, probe.ExpectMsg<RecordingActor.Snapped>(FirstUse).SequenceNr);
        actor.Tell(new RecordingActor.Write(after), probe.Ref);
        ExpectWritten(probe, TimeSpan.FromSeconds(10));
        await StopNode(first);

        var recovered = Recover(StartNode("second"), "key-anthropic-1");
        Assert.Equal(1, recovered.SnapshotSequenceNr);
        Equivalence.AssertEquivalent(snapshot, recovered.Snapshot);
        Assert.Same(StringComparer.OrdinalIgnoreCase, recovered.Snapshot!.Health.ModelCooldowns.KeyComparer);
        Equivalence.AssertEquivalent(after, Assert.Single(recovered.Events));
    }

    [Fact]
    public async Task Should_store_rows_with_the_durar_serializer_and_its_manifests()
    {
        var events = new IDurarPersistable[]
        {
            new KeyEvents.Failed(T0, FailoverReason.Overloaded, null, true, T0.AddSeconds(30), null, null, false),
            new KeyEvents.Used(T0.AddSeconds(1)),
        };
        var snapshot = new KeyHealthSnapshot(PersistableSamples.FullHealth);

        var writer = StartNode("writer");
        var probe = writer.CreateTestProbe();
        var actor = writer.Sys.ActorOf(RecordingActor.Props("key-google-1"));
        foreach (var e in events)
        {
            actor.Tell(new RecordingActor.Write(e), probe.Ref);
            ExpectWritten(probe, FirstUse);
        }

        actor.Tell(new RecordingActor.Snap(snapshot), probe.Ref);
        Assert.Equal(2, probe.ExpectMsg<RecordingActor.Snapped>(FirstUse).SequenceNr);
        await StopNode(writer);

        var journal = await Rows(
            "SELECT manifest, identifier, message FROM journal WHERE persistence_id = 'key-google-1' ORDER BY sequence_number");
        Assert.Equal(["key-failed", "key-used"], journal.Select(r => r.Manifest));
        Assert.All(journal, r => Assert.Equal(DurarJsonSerializer.SerializerId, r.SerializerId));
        Assert.All(journal, r => Assert.DoesNotContain("$type", r.Payload, StringComparison.Ordinal));
        Assert.StartsWith("{\"at\":\"2026-03-01T12:00:00+00:00\",\"reason\":\"Overloaded\"", journal[0].Payload, StringComparison.Ordinal);

        var snapshots = await Rows("SELECT manifest, serializer_id, snapshot FROM snapshot WHERE persistence_id = 'key-google-1'");
        var row = Assert.Single(snapshots);
        Assert.Equal("key-snapshot", row.Manifest);
        Assert.Equal(DurarJsonSerializer.SerializerId, row.SerializerId);
        Assert.DoesNotContain("$type", row.Payload, StringComparison.Ordinal);

        // And the snapshot comes back whole, with the case-insensitive model map rebuilt.
        var recovered = Recover(StartNode("reader"), "key-google-1");
        Assert.Equal(2, recovered.SnapshotSequenceNr);
        Equivalence.AssertEquivalent(snapshot, recovered.Snapshot);
        Assert.Same(StringComparer.OrdinalIgnoreCase, recovered.Snapshot!.Health.ModelCooldowns.KeyComparer);
        Assert.Empty(recovered.Events);
    }

    [Fact]
    public async Task Should_let_a_second_node_take_over_a_persistence_id_after_the_first_stopped()
    {
        // Two ActorSystems on one database, both running: the shape of two cluster nodes sharing the journal.
        var node1 = StartNode("node1");
        var node2 = StartNode("node2");
        var probe1 = node1.CreateTestProbe();
        var probe2 = node2.CreateTestProbe();

        // Node 2's journal is live (and has read the database) before node 1 writes the shared id.
        var own = node2.Sys.ActorOf(RecordingActor.Props("key-node2-own"));
        own.Tell(new RecordingActor.Write(new KeyEvents.Used(T0)), probe2.Ref);
        ExpectWritten(probe2, FirstUse);

        var written = new IDurarPersistable[]
        {
            new KeyEvents.Failed(T0, FailoverReason.RateLimit, null, true, T0.AddMinutes(1), null, null, false),
            new KeyEvents.Used(T0.AddSeconds(1)),
            new KeyEvents.Recovered(T0.AddSeconds(2)),
        };
        var onNode1 = node1.Sys.ActorOf(RecordingActor.Props("key-shared"));
        foreach (var e in written)
        {
            onNode1.Tell(new RecordingActor.Write(e), probe1.Ref);
            ExpectWritten(probe1, FirstUse);
        }

        await StopNode(node1);

        var onNode2 = node2.Sys.ActorOf(RecordingActor.Props("key-shared"));
        onNode2.Tell(RecordingActor.GetRecovered.Instance, probe2.Ref);
        var recovered = probe2.ExpectMsg<RecordingActor.Recovered>(FirstUse);
        Assert.Equal(written.Length, recovered.Events.Count);
        for (var i = 0; i < written.Length; i++)
        {
            Equivalence.AssertEquivalent(written[i], recovered.Events[i], $"events[{i}]");
        }

        // Node 2 continues the same sequence rather than starting over.
        onNode2.Tell(new RecordingActor.Write(new KeyEvents.Reset(T0.AddSeconds(3))), probe2.Ref);
        Assert.Equal(written.Length + 1, ExpectWritten(probe2, TimeSpan.FromSeconds(10)).SequenceNr);

        var rows = await Rows(
            "SELECT manifest, identifier, message FROM journal WHERE persistence_id = 'key-shared' ORDER BY sequence_number");
        Assert.Equal(["key-failed", "key-used", "key-recovered", "key-reset"], rows.Select(r => r.Manifest));
    }

    [Fact]
    public async Task Should_let_two_nodes_start_on_an_empty_database_at_once()
    {
        // Both journals create their tables on first use; started together they race to do it.
        var nodes = new[] { StartNode("racer1"), StartNode("racer2") };
        var probes = nodes.Select(n => n.CreateTestProbe()).ToArray();
        for (var i = 0; i < nodes.Length; i++)
        {
            var actor = nodes[i].Sys.ActorOf(RecordingActor.Props($"key-racer-{i}"));
            actor.Tell(new RecordingActor.Write(new KeyEvents.Used(T0)), probes[i].Ref);
            actor.Tell(new RecordingActor.Snap(new KeyHealthSnapshot(KeyHealth.Healthy)), probes[i].Ref);
        }

        foreach (var probe in probes)
        {
            Assert.Equal(1, ExpectWritten(probe, FirstUse).SequenceNr);
            var snapped = probe.ExpectMsg<object>(FirstUse);
            Assert.True(snapped is RecordingActor.Snapped, $"a snapshot failed: {snapped}");
        }

        var rows = await Rows("SELECT manifest, identifier, message FROM journal WHERE persistence_id LIKE 'key-racer-%'");
        Assert.Equal(2, rows.Count);
    }

    [Fact]
    public async Task Should_let_concurrent_writers_all_succeed()
    {
        const int actors = 20;
        const int eventsEach = 10;
        var node = StartNode("concurrent");
        var probe = node.CreateTestProbe();
        var refs = Enumerable.Range(0, actors)
            .Select(i => node.Sys.ActorOf(RecordingActor.Props($"key-concurrent-{i}"), $"writer-{i}"))
            .ToList();

        // Everything at once, snapshots included: the journal's parallel writers and the snapshot store's table creation
        // all contend for the same database (on SQLite, the same file). Any "database is locked" surfaces as a
        // WriteFailed/SnapFailed.
        foreach (var actor in refs)
        {
            for (var n = 0; n < eventsEach; n++)
            {
                actor.Tell(new RecordingActor.Write(new KeyEvents.Used(T0.AddSeconds(n))), probe.Ref);
            }

            actor.Tell(new RecordingActor.Snap(new KeyHealthSnapshot(KeyHealth.Healthy)), probe.Ref);
        }

        var written = 0;
        var snapped = 0;
        probe.Within(FirstUse + TimeSpan.FromSeconds(30), () =>
        {
            for (var i = 0; i < actors * (eventsEach + 1); i++)
            {
                switch (probe.ExpectMsg<object>())
                {
                    case RecordingActor.Written: written++; break;
                    case RecordingActor.Snapped: snapped++; break;
                    case var other: Assert.Fail($"a writer failed after {written} writes and {snapped} snapshots: {other}"); break;
                }
            }
        });

        Assert.Equal(actors * eventsEach, written);
        Assert.Equal(actors, snapped);
        await StopNode(node);

        var rows = await Rows("SELECT manifest, identifier, message FROM journal WHERE persistence_id LIKE 'key-concurrent-%'");
        Assert.Equal(actors * eventsEach, rows.Count);

        // Every actor's events are numbered 1..eventsEach without gaps or duplicates.
        Assert.Equal(actors, await Scalar(
            "SELECT count(*) FROM (SELECT persistence_id FROM journal WHERE persistence_id LIKE 'key-concurrent-%' " +
            $"GROUP BY persistence_id HAVING min(sequence_number) = 1 AND max(sequence_number) = {eventsEach} " +
            $"AND count(DISTINCT sequence_number) = {eventsEach}) ok"));
    }

    /// <summary>An ActorSystem ("node") on the spec's database with its own TestKit; terminated by the spec or at disposal.</summary>
    private Akka.TestKit.Xunit2.TestKit StartNode(string name)
    {
        var node = new Akka.TestKit.Xunit2.TestKit(Config, $"journal-{name}", output);
        _nodes.Add(node);
        return node;
    }

    private static async Task StopNode(Akka.TestKit.Xunit2.TestKit node) => await node.Sys.Terminate();

    private static RecordingActor.Recovered Recover(Akka.TestKit.Xunit2.TestKit node, string persistenceId)
    {
        var probe = node.CreateTestProbe();
        node.Sys.ActorOf(RecordingActor.Props(persistenceId)).Tell(RecordingActor.GetRecovered.Instance, probe.Ref);
        return probe.ExpectMsg<RecordingActor.Recovered>(FirstUse);
    }

    /// <summary>The next reply must be a <see cref="RecordingActor.Written"/>; a <see cref="RecordingActor.WriteFailed"/> fails with its cause.</summary>
    private static RecordingActor.Written ExpectWritten(TestProbe probe, TimeSpan timeout)
    {
        var reply = probe.ExpectMsg<object>(timeout);
        return reply as RecordingActor.Written ?? throw new Xunit.Sdk.XunitException($"expected a write acknowledgement, got {reply}");
    }
}
