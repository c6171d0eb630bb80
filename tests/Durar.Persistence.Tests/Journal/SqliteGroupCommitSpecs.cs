using System.Data.Common;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Persistence;
using Akka.Persistence.Sql.Config;
using LinqToDB;
using LinqToDB.Interceptors;
using Microsoft.Data.Sqlite;

namespace Durar.Persistence.Tests.Journal;

/// <summary>
/// Group commit on SQLite with the gateway's wiring (<see cref="DurarPersistence.Hocon"/> and
/// <see cref="DurarPersistence.SqliteSetup"/>): journal writes of many persistent actors that arrive while a transaction is
/// on its way share the next one, and no writer is answered before its transaction has committed.
/// </summary>
public sealed class SqliteGroupCommitSpecs : IDisposable
{
    private const int Actors = 32;
    private const int WritesEach = 20;

    private readonly TempDataDir _dir = new();
    private ActorSystem? _system;

    public void Dispose()
    {
        _system?.Terminate().Wait(TimeSpan.FromSeconds(30));
        _dir.Dispose();
    }

    [Fact]
    public async Task Should_write_the_events_of_concurrent_actors_in_shared_transactions_and_answer_each_after_its_commit()
    {
        var options = _dir.Sqlite;
        var connectionString = options.PrepareConnectionString();
        var inserts = new InsertCounter();
        // The gateway's own data options, with a counter of the journal's INSERT commands added.
        var wired = Assert.IsType<MultiDataOptionsSetup>(DurarPersistence.SqliteSetup(options, connectionString));
        var setup = new MultiDataOptionsSetup();
        foreach (var plugin in (string[])[DurarPersistence.JournalPluginId, DurarPersistence.SnapshotPluginId, DurarPersistence.QueryJournalPluginId])
        {
            Assert.True(wired.TryGetDataOptionsFor(plugin, out var data));
            setup.AddDataOptions(plugin, plugin == DurarPersistence.JournalPluginId ? data!.UseInterceptor(inserts) : data!);
        }
        _system = ActorSystem.Create("group-commit",
            ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(DurarPersistence.Hocon(options)), setup));

        var writers = Enumerable.Range(0, Actors).Select(i => _system.ActorOf(Props.Create(() => new Writer("writer-" + i)))).ToArray();
        // The first write of each creates the tables or recovers; then every writer writes one event at a time.
        await Task.WhenAll(writers.Select(w => w.Ask<long>("first", TimeSpan.FromSeconds(60))));
        var before = inserts.Count;
        var late = 0;
        await Task.WhenAll(writers.Select((w, i) => Task.Run(async () =>
        {
            await using var reader = new SqliteConnection(connectionString);
            await reader.OpenAsync();
            for (var n = 0; n < WritesEach; n++)
            {
                var seq = await w.Ask<long>("event " + n, TimeSpan.FromSeconds(60));
                // Answered: the event must already be committed, visible to another connection.
                await using var query = reader.CreateCommand();
                query.CommandText = $"SELECT coalesce(max(sequence_number), 0) FROM journal WHERE persistence_id = 'writer-{i}'";
                if (Convert.ToInt64(await query.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) < seq)
                    Interlocked.Increment(ref late);
            }
        })));

        Assert.Equal(0, late);
        var writes = Actors * WritesEach;
        var transactions = inserts.Count - before;
        // Without group commit every write is an INSERT of its own (exactly `writes`); with it, far fewer.
        Assert.True(transactions < writes / 2, $"{transactions} INSERT commands for {writes} writes");
        await using var check = new SqliteConnection(connectionString);
        await check.OpenAsync();
        await using var count = check.CreateCommand();
        count.CommandText = "SELECT count(*) FROM journal WHERE persistence_id LIKE 'writer-%'";
        Assert.Equal((long)(writes + Actors), Convert.ToInt64(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    private sealed class Writer : ReceivePersistentActor
    {
        public Writer(string id)
        {
            PersistenceId = id;
            Recover<string>(_ => { });
            Command<string>(text =>
            {
                var replyTo = Sender;
                Persist(text, _ => replyTo.Tell(LastSequenceNr));
            });
        }

        public override string PersistenceId { get; }
    }

    /// <summary>Counts the INSERT commands linq2db prepares on the journal's connections (one per write transaction).</summary>
    private sealed class InsertCounter : CommandInterceptor
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override DbCommand CommandInitialized(CommandEventData eventData, DbCommand command)
        {
            if (command.CommandText.Contains("INSERT INTO", StringComparison.OrdinalIgnoreCase)) Interlocked.Increment(ref _count);
            return command;
        }
    }
}
