using System.Globalization;
using Akka.Actor;
using Akka.Persistence;
using Akka.Util;
using Microsoft.Data.Sqlite;

namespace Durar.Persistence.Tests.Journal;

/// <summary>
/// The SQLite snapshot store's saves with the gateway's wiring (<see cref="DurarSqlSnapshotStore"/>): made by the journal's
/// own <see cref="SqliteJournalWriter"/> (one per database), in the same transactions as the journal's writes, as rows the
/// plugin's loads read back; a save replaces one of the same sequence number, and a save that fails is that save's alone.
/// Deletes by criteria go the same way.
/// </summary>
public sealed class SqliteSnapshotWriterSpecs() : SqliteWriterSpecBase("snapshot-writer")
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Should_save_a_snapshot_the_plugins_load_recovers_with_the_later_events()
    {
        var connectionString = Start();
        var actor = Sys!.ActorOf(Snapper.Props("recovered"));
        Assert.Equal(1L, await actor.Ask<long>(new Event("a"), Wait));
        Assert.Equal(2L, await actor.Ask<long>(new Event("b"), Wait));
        var before = DateTime.UtcNow.Ticks;
        Assert.Equal(2L, await actor.Ask<object>(new TakeSnapshot(null), Wait));
        var after = DateTime.UtcNow.Ticks;
        Assert.Contains(Transactions, t => t.Snapshots == 1); // written by the writer, not the plugin
        Assert.Equal(3L, await actor.Ask<long>(new Event("c"), Wait));
        await actor.GracefulStop(TimeSpan.FromSeconds(10));

        // The plugin's row: its columns, the creation time in ticks (what its loads by timestamp compare), Akka's serializer.
        var (created, manifest, serializerId) = await SnapshotRowAsync(connectionString, "recovered", 2);
        Assert.InRange(created, before - TimeSpan.TicksPerSecond, after);
        Assert.Equal(Sys.Serialization.FindSerializerForType(typeof(string)).Identifier, serializerId);
        Assert.Equal(Sys.Serialization.FindSerializerForType(typeof(string)).IncludeManifest ? typeof(string).TypeQualifiedName() : "", manifest);

        var again = Sys.ActorOf(Snapper.Props("recovered"));
        Assert.Equal(new Recovered(2, "|a|b|c"), await again.Ask<Recovered>(Get.Instance, Wait));
        Assert.Equal(4L, await again.Ask<long>(new Event("d"), Wait));
    }

    [Fact]
    public async Task Should_replace_a_snapshot_saved_again_at_the_same_sequence_number()
    {
        var connectionString = Start();
        var actor = Sys!.ActorOf(Snapper.Props("replaced"));
        Assert.Equal(1L, await actor.Ask<long>(new Event("a"), Wait));
        Assert.Equal(1L, await actor.Ask<object>(new TakeSnapshot("first"), Wait));
        Assert.Equal(1L, await actor.Ask<object>(new TakeSnapshot("second"), Wait));
        await actor.GracefulStop(TimeSpan.FromSeconds(10));

        Assert.Equal(1, await ScalarAsync(connectionString, "SELECT count(*) FROM snapshot WHERE persistence_id = 'replaced'"));
        var again = Sys.ActorOf(Snapper.Props("replaced"));
        Assert.Equal(new Recovered(1, "second"), await again.Ask<Recovered>(Get.Instance, Wait));
    }

    [Fact]
    public async Task Should_write_the_snapshots_and_events_of_concurrent_actors_in_sharedTransactions_readable_once_answered()
    {
        const int actors = 32;
        const int roundsEach = 10;
        var connectionString = Start();
        var snappers = Enumerable.Range(0, actors).Select(i => Sys!.ActorOf(Snapper.Props("snapper-" + i))).ToArray();
        await Task.WhenAll(snappers.Select(s => s.Ask<long>(new Event("first"), Wait)));
        var before = Transactions.Count;
        var late = 0;
        await Task.WhenAll(snappers.Select((s, i) => Task.Run(async () =>
        {
            await using var reader = new SqliteConnection(connectionString);
            await reader.OpenAsync();
            for (var n = 0; n < roundsEach; n++)
            {
                // One event, then a snapshot at its sequence number: answered once the snapshot's transaction committed.
                var seq = await s.Ask<long>(new EventThenSnapshot("e" + n), Wait);
                if (await ScalarAsync(reader, $"SELECT count(*) FROM snapshot WHERE persistence_id = 'snapper-{i}' AND sequence_number = {seq}") != 1
                    || await ScalarAsync(reader, $"SELECT max(sequence_number) FROM journal WHERE persistence_id = 'snapper-{i}'") < seq)
                    Interlocked.Increment(ref late);
            }
        })));

        Assert.Equal(0, late);
        var transactions = Transactions.Skip(before).ToArray();
        var writes = actors * roundsEach;
        Assert.Equal(writes, transactions.Sum(t => t.Events));
        Assert.Equal(writes, transactions.Sum(t => t.Snapshots));
        // One writer for both: some transactions hold events and snapshots together, and far fewer than the 2 x writes
        // transactions of one per write.
        Assert.Contains(transactions, t => t is { Events: > 0, Snapshots: > 0 });
        Assert.True(transactions.Length < writes, $"{transactions.Length} transactions for {2 * writes} writes");
        Assert.Equal(writes, await ScalarAsync(connectionString, "SELECT count(*) FROM snapshot WHERE persistence_id LIKE 'snapper-%'"));
    }

    [Fact]
    public async Task Should_fail_a_save_while_the_table_is_gone_and_save_again_once_it_is_back()
    {
        var connectionString = Start();
        var actor = Sys!.ActorOf(Snapper.Props("outage"));
        Assert.Equal(1L, await actor.Ask<long>(new Event("a"), Wait));
        Assert.Equal(1L, await actor.Ask<object>(new TakeSnapshot(null), Wait));
        await ExecAsync(connectionString, "ALTER TABLE snapshot RENAME TO snapshot_away");

        var failed = Assert.IsType<string>(await actor.Ask<object>(new TakeSnapshot(null), Wait));

        Assert.StartsWith("failed:", failed, StringComparison.Ordinal);
        Assert.Contains("snapshot", failed, StringComparison.Ordinal);
        // The journal's writes, through the same writer, go on.
        Assert.Equal(2L, await actor.Ask<long>(new Event("b"), Wait));
        await ExecAsync(connectionString, "ALTER TABLE snapshot_away RENAME TO snapshot");
        Assert.Equal(2L, await actor.Ask<object>(new TakeSnapshot(null), Wait));
        Assert.Equal(2, await ScalarAsync(connectionString, "SELECT max(sequence_number) FROM snapshot WHERE persistence_id = 'outage'"));
    }

    [Fact]
    public async Task Should_fail_a_snapshot_that_cannot_be_serialized_and_write_the_rest()
    {
        var connectionString = Start();
        var actor = Sys!.ActorOf(Snapper.Props("poisoned"));
        var other = Sys.ActorOf(Snapper.Props("bystander"));
        Assert.Equal(1L, await actor.Ask<long>(new Event("a"), Wait));
        Assert.Equal(1L, await other.Ask<long>(new Event("a"), Wait));

        var failed = Assert.IsType<string>(await actor.Ask<object>(new TakeSnapshot(new Unserializable()), Wait));

        Assert.StartsWith("failed:", failed, StringComparison.Ordinal);
        Assert.Equal(1L, await other.Ask<object>(new TakeSnapshot(null), Wait));
        Assert.Equal(2L, await actor.Ask<long>(new Event("b"), Wait));
        Assert.Equal(2L, await actor.Ask<object>(new TakeSnapshot(null), Wait));
        Assert.Equal(0, await ScalarAsync(connectionString, "SELECT count(*) FROM snapshot WHERE persistence_id = 'poisoned' AND sequence_number = 1"));
    }

    [Fact]
    public async Task Should_delete_snapshots_up_to_the_criteria_in_the_writers_transactions_and_leave_the_rest()
    {
        var connectionString = Start();
        var actor = Sys!.ActorOf(Snapper.Props("pruned"));
        var other = Sys.ActorOf(Snapper.Props("kept"));
        Assert.Equal(1L, await other.Ask<long>(new EventThenSnapshot("x"), Wait));
        foreach (var text in new[] { "a", "b", "c" }) await actor.Ask<long>(new EventThenSnapshot(text), Wait);
        string Seqs() => string.Join(",", Rows(connectionString, "pruned"));

        var before = Transactions.Count;
        Assert.Equal("deleted", await actor.Ask<object>(new DeleteUpTo(new SnapshotSelectionCriteria(2)), Wait));
        Assert.True(Transactions.Count > before, "the delete was not committed by the writer"); // not the plugin's linq2db
        Assert.Equal("3", Seqs());
        Assert.Equal("1", string.Join(",", Rows(connectionString, "kept")));

        // Up to a time: the snapshots saved before it go, the one saved after it stays.
        await actor.Ask<long>(new EventThenSnapshot("d"), Wait); // its time is taken before it is answered
        var between = DateTime.UtcNow;
        await actor.Ask<long>(new EventThenSnapshot("e"), Wait); // and this one's after it is asked for
        Assert.Equal("deleted", await actor.Ask<object>(new DeleteUpTo(new SnapshotSelectionCriteria(long.MaxValue, between)), Wait));
        Assert.Equal("5", Seqs());

        // All of them: the next recovery replays the journal from the start.
        Assert.Equal("deleted", await actor.Ask<object>(new DeleteUpTo(SnapshotSelectionCriteria.Latest), Wait));
        Assert.Equal("", Seqs());
        await actor.GracefulStop(TimeSpan.FromSeconds(10));
        var again = Sys.ActorOf(Snapper.Props("pruned"));
        Assert.Equal(new Recovered(0, "|a|b|c|d|e"), await again.Ask<Recovered>(Get.Instance, Wait));
        Assert.Equal("1", string.Join(",", Rows(connectionString, "kept")));
    }

    [Fact]
    public async Task Should_fail_a_delete_while_the_table_is_gone_and_write_the_journal_meanwhile()
    {
        var connectionString = Start();
        var actor = Sys!.ActorOf(Snapper.Props("delete-outage"));
        Assert.Equal(1L, await actor.Ask<long>(new EventThenSnapshot("a"), Wait));
        await ExecAsync(connectionString, "ALTER TABLE snapshot RENAME TO snapshot_away");

        var failed = Assert.IsType<string>(await actor.Ask<object>(new DeleteUpTo(SnapshotSelectionCriteria.Latest), Wait));

        Assert.StartsWith("failed:", failed, StringComparison.Ordinal);
        Assert.Equal(2L, await actor.Ask<long>(new Event("b"), Wait));
        await ExecAsync(connectionString, "ALTER TABLE snapshot_away RENAME TO snapshot");
        Assert.Equal("deleted", await actor.Ask<object>(new DeleteUpTo(SnapshotSelectionCriteria.Latest), Wait));
        Assert.Empty(Rows(connectionString, "delete-outage"));
    }

    /// <summary>The sequence numbers of <paramref name="persistenceId"/>'s snapshot rows, in order.</summary>
    private static List<long> Rows(string connectionString, string persistenceId)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var query = connection.CreateCommand();
        query.CommandText = "SELECT sequence_number FROM snapshot WHERE persistence_id = $id ORDER BY sequence_number";
        query.Parameters.AddWithValue("$id", persistenceId);
        using var row = query.ExecuteReader();
        var seqs = new List<long>();
        while (row.Read()) seqs.Add(row.GetInt64(0));
        return seqs;
    }

    [Fact]
    public async Task Should_share_one_writer_per_database_until_its_last_holder_leaves()
    {
        var connectionString = Dir.Sqlite.PrepareConnectionString();
        var first = SqliteJournalWriter.Acquire(connectionString, "PRAGMA busy_timeout=5000;");
        var second = SqliteJournalWriter.Acquire(connectionString, "PRAGMA busy_timeout=5000;");
        Assert.Same(first, second);
        await ExecAsync(connectionString, "CREATE TABLE snapshot (persistence_id TEXT NOT NULL, sequence_number INTEGER NOT NULL, " +
                                          "created INTEGER NOT NULL, snapshot BLOB NOT NULL, manifest TEXT NOT NULL, serializer_id INTEGER, " +
                                          "PRIMARY KEY (persistence_id, sequence_number))");
        var upsert = SqliteJournalWriter.SnapshotUpsert("snapshot");

        await first.ReleaseAsync();
        await second.SaveSnapshotAsync(upsert, new SqliteJournalWriter.SnapshotRow("held", 1, 1, [1], "", 1)); // still running
        await second.ReleaseAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => second.SaveSnapshotAsync(upsert, new SqliteJournalWriter.SnapshotRow("held", 2, 1, [1], "", 1)));

        var next = SqliteJournalWriter.Acquire(connectionString, "PRAGMA busy_timeout=5000;");
        Assert.NotSame(first, next);
        await next.SaveSnapshotAsync(upsert, new SqliteJournalWriter.SnapshotRow("held", 3, 1, [1], "", 1));
        await next.ReleaseAsync();
        Assert.Equal(2, await ScalarAsync(connectionString, "SELECT count(*) FROM snapshot WHERE persistence_id = 'held'"));
    }

    private async Task<(long Created, string Manifest, int SerializerId)> SnapshotRowAsync(string connectionString, string persistenceId, long seq)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var query = connection.CreateCommand();
        query.CommandText = "SELECT created, manifest, serializer_id FROM snapshot WHERE persistence_id = $id AND sequence_number = $seq";
        query.Parameters.AddWithValue("$id", persistenceId);
        query.Parameters.AddWithValue("$seq", seq);
        await using var row = await query.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        return (row.GetInt64(0), row.GetString(1), row.GetInt32(2));
    }

    private static async Task ExecAsync(string connectionString, string sql)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        return await ScalarAsync(connection, sql);
    }

    private static async Task<long> ScalarAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync() is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : 0;
    }


    private sealed record Event(string Text);

    private sealed record EventThenSnapshot(string Text);

    /// <summary>Saves <paramref name="State"/>, or the actor's state when null; answered with the sequence number or "failed: ...".</summary>
    private sealed record TakeSnapshot(object? State);

    private sealed record Recovered(long SnapshotSequenceNr, string State);

    /// <summary>Deletes the snapshots <paramref name="Criteria"/> select; answered "deleted" or "failed: ...".</summary>
    private sealed record DeleteUpTo(SnapshotSelectionCriteria Criteria);

    private sealed class Get
    {
        public static Get Instance { get; } = new();
    }

    /// <summary>A snapshot no serializer can write (its only property throws).</summary>
    private sealed class Unserializable
    {
        public string Value => throw new InvalidOperationException("not serializable");
    }

    /// <summary>State: the events' texts joined with '|', after the snapshot it recovered from.</summary>
    private sealed class Snapper : ReceivePersistentActor
    {
        private string _state = "";
        private long _snapshotSequenceNr;
        private IActorRef? _snapshotTo;

        public Snapper(string id)
        {
            PersistenceId = id;
            Recover<SnapshotOffer>(offer =>
            {
                _state = (string)offer.Snapshot;
                _snapshotSequenceNr = offer.Metadata.SequenceNr;
            });
            Recover<string>(text => _state += "|" + text);
            Command<Event>(e =>
            {
                var to = Sender;
                Persist(e.Text, text =>
                {
                    _state += "|" + text;
                    to.Tell(LastSequenceNr);
                });
            });
            Command<EventThenSnapshot>(e =>
            {
                var to = Sender;
                Persist(e.Text, text =>
                {
                    _state += "|" + text;
                    _snapshotTo = to;
                    SaveSnapshot(_state);
                });
            });
            Command<TakeSnapshot>(s =>
            {
                _snapshotTo = Sender;
                SaveSnapshot(s.State ?? _state);
            });
            Command<DeleteUpTo>(d =>
            {
                _snapshotTo = Sender;
                DeleteSnapshots(d.Criteria);
            });
            Command<DeleteSnapshotsSuccess>(_ => _snapshotTo?.Tell("deleted"));
            Command<DeleteSnapshotsFailure>(f => _snapshotTo?.Tell("failed: " + f.Cause.Message));
            Command<SaveSnapshotSuccess>(s => _snapshotTo?.Tell(s.Metadata.SequenceNr));
            Command<SaveSnapshotFailure>(f => _snapshotTo?.Tell("failed: " + f.Cause.Message));
            Command<Get>(_ => Sender.Tell(new Recovered(_snapshotSequenceNr, _state)));
        }

        public override string PersistenceId { get; }

        public static Props Props(string id) => Akka.Actor.Props.Create(() => new Snapper(id));
    }
}
