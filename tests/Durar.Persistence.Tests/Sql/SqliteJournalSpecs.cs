using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Durar.Actors;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Persistence.Serialization;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Durar.Persistence.Tests.Sql;

/// <summary>
/// The SQLite journal and snapshot store as configured by <see cref="DurarPersistence.Hocon"/>, against a real file:
/// events survive a restart in order, rows carry Durar's serializer and manifests, and concurrent writers do not hit
/// "database is locked".
/// </summary>
public sealed class SqliteJournalSpecs : Akka.TestKit.Xunit2.TestKit
{
    // The first journal use creates the tables (about 2 s); a busy CI machine needs more.
    private static readonly TimeSpan FirstUse = TimeSpan.FromSeconds(30);

    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDataDir _dir;
    private readonly Config _config;

    public SqliteJournalSpecs(ITestOutputHelper output)
        : this(new TempDataDir(), output)
    {
    }

    private SqliteJournalSpecs(TempDataDir dir, ITestOutputHelper output)
        : this(dir, DurarPersistence.Hocon(dir.Sqlite), output)
    {
    }

    private SqliteJournalSpecs(TempDataDir dir, Config config, ITestOutputHelper output)
        : base(config, "sqlite-journal-specs", output)
    {
        _dir = dir;
        _config = config;
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

        await WithSystem("first", probe =>
        {
            var actor = probe.ChildActorOf(RecordingActor.Props("key-openai-1"));
            for (var i = 0; i < written.Length; i++)
            {
                actor.Tell(new RecordingActor.Write(written[i]), probe.Ref);
                var ack = probe.ExpectMsg<RecordingActor.Written>(i == 0 ? FirstUse : TimeSpan.FromSeconds(10));
                Assert.Equal(i + 1, ack.SequenceNr);
            }
        });

        await WithSystem("second", probe =>
        {
            var actor = probe.ChildActorOf(RecordingActor.Props("key-openai-1"));
            actor.Tell(RecordingActor.GetRecovered.Instance, probe.Ref);
            var recovered = probe.ExpectMsg<RecordingActor.Recovered>(FirstUse);

            Assert.Null(recovered.Snapshot);
            Assert.Equal(written.Length, recovered.Events.Count);
            for (var i = 0; i < written.Length; i++)
            {
                Equivalence.AssertEquivalent(written[i], recovered.Events[i], $"events[{i}]");
            }
        });
    }

    [Fact]
    public async Task Should_recover_from_a_snapshot_then_the_later_events()
    {
        var snapshot = new KeyHealthSnapshot(PersistableSamples.FullHealth);
        var after = new KeyEvents.Used(T0.AddMinutes(10));

        await WithSystem("first", probe =>
        {
            var actor = probe.ChildActorOf(RecordingActor.Props("key-anthropic-1"));
            actor.Tell(new RecordingActor.Write(new KeyEvents.Recovered(T0)), probe.Ref);
            probe.ExpectMsg<RecordingActor.Written>(FirstUse);
            actor.Tell(new RecordingActor.Snap(snapshot), probe.Ref);
            Assert.Equal(1, probe.ExpectMsg<RecordingActor.Snapped>(FirstUse).SequenceNr);
            actor.Tell(new RecordingActor.Write(after), probe.Ref);
            probe.ExpectMsg<RecordingActor.Written>();
        });

        await WithSystem("second", probe =>
        {
            var actor = probe.ChildActorOf(RecordingActor.Props("key-anthropic-1"));
            actor.Tell(RecordingActor.GetRecovered.Instance, probe.Ref);
            var recovered = probe.ExpectMsg<RecordingActor.Recovered>(FirstUse);

            Assert.Equal(1, recovered.SnapshotSequenceNr);
            Equivalence.AssertEquivalent(snapshot, recovered.Snapshot);
            Assert.Same(StringComparer.OrdinalIgnoreCase, recovered.Snapshot!.Health.ModelCooldowns.KeyComparer);
            Equivalence.AssertEquivalent(after, Assert.Single(recovered.Events));
        });
    }

    [Fact]
    public async Task Should_store_rows_with_the_durar_serializer_and_its_manifests()
    {
        var events = new IDurarPersistable[]
        {
            new KeyEvents.Failed(T0, FailoverReason.Overloaded, null, true, T0.AddSeconds(30), null, null, false),
            new KeyEvents.Used(T0.AddSeconds(1)),
        };

        await WithSystem("writer", probe =>
        {
            var actor = probe.ChildActorOf(RecordingActor.Props("key-google-1"));
            foreach (var e in events)
            {
                actor.Tell(new RecordingActor.Write(e), probe.Ref);
                probe.ExpectMsg<RecordingActor.Written>(FirstUse);
            }

            actor.Tell(new RecordingActor.Snap(new KeyHealthSnapshot(KeyHealth.Healthy)), probe.Ref);
            probe.ExpectMsg<RecordingActor.Snapped>(FirstUse);
        });

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
    }

    [Fact]
    public async Task Should_let_concurrent_writers_share_one_file()
    {
        const int actors = 20;
        const int eventsEach = 10;
        var probe = CreateTestProbe();
        var refs = Enumerable.Range(0, actors)
            .Select(i => Sys.ActorOf(RecordingActor.Props($"key-concurrent-{i}"), $"writer-{i}"))
            .ToList();

        // Everything at once, snapshots included: the journal's parallel writers and the snapshot store's table
        // creation all contend for the same SQLite file. Any "database is locked" surfaces as a WriteFailed/SnapFailed.
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
        var deadline = DateTime.UtcNow + FirstUse + TimeSpan.FromSeconds(30);
        while (written + snapped < actors * (eventsEach + 1))
        {
            var remaining = deadline - DateTime.UtcNow;
            Assert.True(remaining > TimeSpan.Zero, $"only {written} writes and {snapped} snapshots acknowledged in time");
            switch (await probe.ReceiveOneAsync(remaining))
            {
                case RecordingActor.Written:
                    written++;
                    break;
                case RecordingActor.Snapped:
                    snapped++;
                    break;
                case null:
                    break;
                case var other:
                    Assert.Fail($"a writer failed: {other}");
                    break;
            }
        }

        Assert.Equal(actors * eventsEach, written);
        Assert.Equal(actors, snapped);
        var rows = await Rows("SELECT manifest, identifier, message FROM journal WHERE persistence_id LIKE 'key-concurrent-%'");
        Assert.Equal(actors * eventsEach, rows.Count);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _dir.Dispose();
    }

    /// <summary>Runs <paramref name="body"/> in its own ActorSystem on the spec's database, then terminates that system.</summary>
    private async Task WithSystem(string name, Action<Akka.TestKit.TestProbe> body)
    {
        var system = ActorSystem.Create($"sqlite-{name}", _config);
        try
        {
            body(CreateTestProbe(system));
        }
        finally
        {
            await system.Terminate();
        }
    }

    private async Task<List<(string Manifest, int SerializerId, string Payload)>> Rows(string sql)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _dir.DatabaseFile }.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, int, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetInt32(1), Encoding.UTF8.GetString((byte[])reader.GetValue(2))));
        }

        return rows;
    }
}
