using Akka.Actor;
using Akka.Persistence;
using Microsoft.Data.Sqlite;

namespace Durar.Persistence.Tests.Journal;

/// <summary>
/// The SQLite journal's writes with the gateway's wiring (<see cref="DurarPersistence.Hocon"/> and
/// <see cref="DurarPersistence.SqliteSetup"/>: <see cref="DurarSqlWriteJournal"/> and its <see cref="SqliteJournalWriter"/>):
/// writes of many persistent actors that arrive while a transaction is on its way share the next one, no writer is
/// answered before its transaction has committed, the rows are the plugin's (its recovery reads them), and one write's
/// failure is that write's alone.
/// </summary>
public sealed class SqliteGroupCommitSpecs() : SqliteWriterSpecBase("group-commit")
{
    private const int Actors = 32;
    private const int WritesEach = 20;

    [Fact]
    public async Task Should_write_the_events_of_concurrent_actors_in_shared_transactions_and_answer_each_after_its_commit()
    {
        var connectionString = Start();
        var writers = Enumerable.Range(0, Actors).Select(i => Sys!.ActorOf(Props.Create(() => new Writer("writer-" + i)))).ToArray();
        // The first write of each creates the tables or recovers; then every writer writes one event at a time.
        await Task.WhenAll(writers.Select(w => w.Ask<long>("first", TimeSpan.FromSeconds(60))));
        var before = Transactions.Count;
        var late = 0;
        await Task.WhenAll(writers.Select((w, i) => Task.Run(async () =>
        {
            await using var reader = new SqliteConnection(connectionString);
            await reader.OpenAsync();
            for (var n = 0; n < WritesEach; n++)
            {
                var seq = await w.Ask<long>("event " + n, TimeSpan.FromSeconds(60));
                // Answered: the event must already be committed, visible to another connection.
                if (await HighestAsync(reader, "writer-" + i) < seq) Interlocked.Increment(ref late);
            }
        })));

        Assert.Equal(0, late);
        var writes = Actors * WritesEach;
        var transactions = Transactions.Skip(before).Select(t => t.Events).ToArray();
        Assert.Equal(writes, transactions.Sum());
        // Without group commit every write is a transaction of its own (exactly `writes`); with it, far fewer.
        Assert.True(transactions.Length < writes / 2, $"{transactions.Length} transactions for {writes} writes");
        Assert.Equal((long)(writes + Actors), await CountAsync(connectionString, "writer-%"));
    }

    [Fact]
    public async Task Should_write_rows_the_plugins_recovery_reads_back()
    {
        Start();
        var writer = Sys!.ActorOf(Props.Create(() => new Writer("readback")));
        for (var n = 0; n < 5; n++) Assert.Equal(n + 1, await writer.Ask<long>("event " + n, TimeSpan.FromSeconds(60)));
        Assert.Equal(5, Transactions.Count);

        await writer.GracefulStop(TimeSpan.FromSeconds(10));
        var again = Sys.ActorOf(Props.Create(() => new Writer("readback")));
        Assert.Equal(["event 0", "event 1", "event 2", "event 3", "event 4"], await again.Ask<string[]>("recovered", TimeSpan.FromSeconds(60)));
        Assert.Equal(6, await again.Ask<long>("event 5", TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Should_refuse_an_event_that_cannot_be_serialized_and_write_the_next()
    {
        var connectionString = Start();
        var writer = Sys!.ActorOf(Props.Create(() => new Writer("poisoned")));
        Assert.Equal(1, await writer.Ask<long>("event 0", TimeSpan.FromSeconds(60)));

        var refused = await writer.Ask<string>(new Unserializable(), TimeSpan.FromSeconds(60));

        Assert.StartsWith("rejected:", refused, StringComparison.Ordinal);
        Assert.Equal(3, await writer.Ask<long>("event 1", TimeSpan.FromSeconds(60))); // the refused event took sequence number 2
        Assert.Equal(2, await CountAsync(connectionString, "poisoned"));
    }

    [Fact]
    public async Task Should_fail_only_the_write_at_fault_when_it_shared_a_transaction()
    {
        var connectionString = Start();
        var first = Sys!.ActorOf(Props.Create(() => new Writer("shared")));
        Assert.Equal(1, await first.Ask<long>("event 0", TimeSpan.FromSeconds(60))); // the tables exist, ("shared", 1) is taken
        await using var writer = new SqliteJournalWriter(connectionString, "PRAGMA busy_timeout=5000;");
        var insert = SqliteJournalWriter.JournalInsert("journal");

        // Another connection holds the write lock: the writer's first transaction waits for it, and the next two writes
        // queue behind it, so they are taken together.
        await using (var holder = new SqliteConnection(connectionString))
        {
            await holder.OpenAsync();
            await using var hold = holder.CreateCommand();
            hold.CommandText = "BEGIN IMMEDIATE";
            await hold.ExecuteNonQueryAsync();
            var waiting = writer.WriteAsync(insert, [Row("other", 1)]);
            await Task.Delay(200);
            var good = writer.WriteAsync(insert, [Row("other", 2)]);
            var duplicate = writer.WriteAsync(insert, [Row("shared", 1)]);
            hold.CommandText = "COMMIT";
            await hold.ExecuteNonQueryAsync();

            await waiting;
            await good;
            await Assert.ThrowsAsync<SqliteException>(() => duplicate);
        }
        Assert.Equal(2, await CountAsync(connectionString, "other"));
        Assert.Equal(1, await CountAsync(connectionString, "shared"));
        // The shared transaction failed (not counted); the good write was committed alone after it.
        Assert.Equal([1, 1, 1], Transactions.Select(t => t.Events).ToArray());
    }

    [Fact]
    public async Task Should_fail_a_write_with_the_databases_own_error_and_write_again_once_it_is_back()
    {
        var connectionString = Start();
        var writer = Sys!.ActorOf(Props.Create(() => new Writer("outage")));
        Assert.Equal(1, await writer.Ask<long>("event 0", TimeSpan.FromSeconds(60)));
        await ExecAsync(connectionString, "ALTER TABLE journal RENAME TO journal_away");

        var failed = await writer.Ask<string>("event 1", TimeSpan.FromSeconds(60));

        Assert.StartsWith("failed: " + typeof(SqliteException).FullName, failed, StringComparison.Ordinal);
        Assert.Contains("journal", failed, StringComparison.Ordinal);
        await ExecAsync(connectionString, "ALTER TABLE journal_away RENAME TO journal");
        var again = Sys.ActorOf(Props.Create(() => new Writer("outage"))); // a failed write stops its actor (Akka)
        Assert.Equal(2, await again.Ask<long>("event 2", TimeSpan.FromSeconds(60)));
    }

    private static async Task ExecAsync(string connectionString, string sql)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static SqliteJournalWriter.Row Row(string persistenceId, long seq) =>
        new(DateTime.UtcNow.Ticks, persistenceId, seq, [1, 2, 3], "", 1, "spec");


    private static async Task<long> HighestAsync(SqliteConnection reader, string persistenceId)
    {
        await using var query = reader.CreateCommand();
        query.CommandText = "SELECT coalesce(max(sequence_number), 0) FROM journal WHERE persistence_id = $id";
        query.Parameters.AddWithValue("$id", persistenceId);
        return Convert.ToInt64(await query.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<long> CountAsync(string connectionString, string persistenceIdLike)
    {
        await using var check = new SqliteConnection(connectionString);
        await check.OpenAsync();
        await using var count = check.CreateCommand();
        count.CommandText = "SELECT count(*) FROM journal WHERE persistence_id LIKE $id";
        count.Parameters.AddWithValue("$id", persistenceIdLike);
        return Convert.ToInt64(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>An event no serializer can write (its only property throws).</summary>
    private sealed class Unserializable
    {
        public string Value => throw new InvalidOperationException("not serializable");
    }

    private sealed class Writer : ReceivePersistentActor
    {
        private readonly List<string> _events = [];
        private IActorRef? _rejectedTo;

        public Writer(string id)
        {
            PersistenceId = id;
            Recover<string>(_events.Add);
            Command<string>(text => text == "recovered", _ => Sender.Tell(_events.ToArray()));
            Command<string>(text =>
            {
                var replyTo = _askedBy = Sender;
                Persist(text, _ => replyTo.Tell(LastSequenceNr));
            });
            Command<Unserializable>(poison =>
            {
                _rejectedTo = Sender;
                Persist(poison, _ => _rejectedTo.Tell("written"));
            });
        }

        public override string PersistenceId { get; }

        private IActorRef? _askedBy;

        protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr) =>
            _rejectedTo?.Tell("rejected: " + cause.Message);

        protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
        {
            _askedBy?.Tell($"failed: {cause.GetType().FullName}: {cause.Message}");
            base.OnPersistFailure(cause, @event, sequenceNr);
        }
    }
}
