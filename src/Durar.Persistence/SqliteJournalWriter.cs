using System.Threading.Channels;
using Akka.Actor;
using Akka.Persistence.Sql.Config;
using Microsoft.Data.Sqlite;

namespace Durar.Persistence;

/// <summary>
/// The SQLite write path of the journal (<see cref="DurarSqlWriteJournal"/>) and of the snapshot store's saves
/// (<see cref="DurarSqlSnapshotStore"/>): one writer per database (<see cref="Acquire"/>), that takes every write waiting
/// (events, snapshot saves and snapshot deletes alike) and commits them in one transaction, then the next batch. Group commit falls out of it: while a transaction is on its way,
/// the writes that arrive wait and go together in the next; a lone write goes at once. Each caller's task completes only
/// after the transaction holding its rows has committed (or fails with the transaction). The rows are the plugin's own
/// (Akka.Persistence.Sql's <c>journal</c> and <c>snapshot</c> tables, default mapping), so its recovery, its snapshot
/// loads, its query journal and its deletes read and change them as they always did. Sharing the writer keeps the
/// snapshot saves from contending with the journal's transactions for SQLite's one write lock.
/// </summary>
/// <remarks>
/// Why not the plugin's own write stage: a single-event write through it (a <c>Source.Queue</c> offer into a stream, a
/// linq2db transaction, the hand-off that lets writes share a transaction) took ~400 µs at concurrency 1 on this VM where
/// the same INSERT and COMMIT through Microsoft.Data.Sqlite take ~55 µs (bench/RESULTS.md): a session turn writes twice.
/// </remarks>
internal sealed class SqliteJournalWriter : IAsyncDisposable
{
    /// <summary>The most rows one transaction takes (the rest wait for the next).</summary>
    internal const int MaxRowsPerTransaction = 500;

    private static readonly Dictionary<string, SqliteJournalWriter> Shared = new(StringComparer.Ordinal);

    private readonly string _connectionString;
    private readonly string _pragmas;
    private readonly Channel<Batch> _queue = Channel.CreateUnbounded<Batch>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    /// <summary>How many holders of <see cref="Acquire"/> have not released it yet (under <see cref="Shared"/>'s lock).</summary>
    private int _holders;

    /// <param name="connectionString">The database's connection string.</param>
    /// <param name="pragmas">The SQL run on every connection opened (<see cref="SqlitePragmas"/>).</param>
    public SqliteJournalWriter(string connectionString, string pragmas)
    {
        _connectionString = connectionString;
        _pragmas = pragmas;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>
    /// The one writer of the database at <paramref name="connectionString"/>, shared by its journal and snapshot store
    /// (created by the first holder); each holder gives it back with <see cref="ReleaseAsync"/>, and the last one to do
    /// so stops it.
    /// </summary>
    public static SqliteJournalWriter Acquire(string connectionString, string pragmas)
    {
        lock (Shared)
        {
            if (!Shared.TryGetValue(connectionString, out var writer))
                Shared.Add(connectionString, writer = new SqliteJournalWriter(connectionString, pragmas));
            writer._holders++;
            return writer;
        }
    }

    /// <summary>
    /// The shared writer of the plugin <paramref name="pluginId"/>'s database (<see cref="Acquire"/>), or null when its data
    /// options carry no <see cref="SqlitePragmas"/>: PostgreSQL, or a host that built its own (the plugin then writes).
    /// </summary>
    public static SqliteJournalWriter? ForPlugin(ActorSystem system, string pluginId, Akka.Configuration.Config pluginConfig)
    {
        if (system.Settings.Setup.Get<MultiDataOptionsSetup>() is not { HasValue: true } setup
            || !setup.Value.TryGetDataOptionsFor(pluginId, out var data)
            || data?.DataContextOptions.Interceptors?.OfType<SqlitePragmas>().FirstOrDefault() is not { } pragmas)
            return null;
        return Acquire(pluginConfig.GetString("connection-string"), pragmas.Sql);
    }

    /// <summary>Gives back a writer of <see cref="Acquire"/>; the last holder's call stops it (its writes taken are finished first).</summary>
    public ValueTask ReleaseAsync()
    {
        lock (Shared)
        {
            if (--_holders > 0) return ValueTask.CompletedTask;
            // Out of the registry before it stops: a holder arriving now gets a new writer, never a stopping one.
            Shared.Remove(_connectionString);
        }
        return DisposeAsync();
    }

    /// <summary>The INSERT of one event into Akka.Persistence.Sql's journal table <paramref name="table"/> (default mapping).</summary>
    public static string JournalInsert(string table) =>
        $"INSERT INTO {Quote(table)} (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid) " +
        "VALUES ($1, 0, $2, $3, $4, $5, $6, $7)";

    /// <summary>
    /// The save of one snapshot into Akka.Persistence.Sql's snapshot table <paramref name="table"/> (default mapping): a
    /// snapshot of the same persistence id and sequence number is replaced, as the plugin's <c>InsertOrReplace</c> does.
    /// </summary>
    public static string SnapshotUpsert(string table) =>
        $"INSERT OR REPLACE INTO {Quote(table)} (persistence_id, sequence_number, created, snapshot, manifest, serializer_id) " +
        "VALUES ($1, $2, $3, $4, $5, $6)";

    /// <summary>
    /// The delete of one persistence id's snapshots up to a sequence number and a creation time (in ticks) from the snapshot
    /// table <paramref name="table"/>: what the plugin's four <c>DeleteUpTo...</c> queries do, with <see cref="long.MaxValue"/>
    /// and <see cref="DateTime.MaxValue"/>'s ticks standing for no bound.
    /// </summary>
    public static string SnapshotDelete(string table) =>
        $"DELETE FROM {Quote(table)} WHERE persistence_id = $1 AND sequence_number <= $2 AND created <= $3";

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>One journal row, as Akka.Persistence.Sql writes it.</summary>
    internal readonly record struct Row(long Created, string PersistenceId, long SequenceNr, byte[] Message, string Manifest, int Identifier, string WriterUuid);

    /// <summary>One snapshot row, as Akka.Persistence.Sql's <c>ByteArrayLongSnapshotSerializer</c> writes it.</summary>
    internal readonly record struct SnapshotRow(string PersistenceId, long SequenceNr, long Created, byte[] Snapshot, string Manifest, int SerializerId);

    /// <summary>The snapshots of <see cref="PersistenceId"/> up to a sequence number and a creation time (ticks), both inclusive.</summary>
    internal readonly record struct SnapshotDeletion(string PersistenceId, long MaxSequenceNr, long MaxCreated);

    private sealed class Batch(string sql, IReadOnlyList<Row>? rows, SnapshotRow snapshot, SnapshotDeletion? deletion = null)
    {
        public string Sql { get; } = sql;

        /// <summary>The events of a journal write; null for a snapshot.</summary>
        public IReadOnlyList<Row>? Rows { get; } = rows;

        public SnapshotRow Snapshot { get; } = snapshot;

        /// <summary>The snapshots a delete removes; null for a journal write or a save.</summary>
        public SnapshotDeletion? Deletion { get; } = deletion;

        public int Count => Rows?.Count ?? 1;

        // Completed on the writer: the caller's continuation (a Tell to the journal's resequencer) runs there, without a hop.
        public TaskCompletionSource Done { get; } = new();
    }

    /// <summary>Writes <paramref name="rows"/> with <paramref name="insert"/> (<see cref="JournalInsert"/>) in the next transaction; completes once it has committed.</summary>
    public Task WriteAsync(string insert, IReadOnlyList<Row> rows) => Enqueue(new Batch(insert, rows, default));

    /// <summary>Saves <paramref name="snapshot"/> with <paramref name="upsert"/> (<see cref="SnapshotUpsert"/>) in the next transaction; completes once it has committed.</summary>
    public Task SaveSnapshotAsync(string upsert, SnapshotRow snapshot) => Enqueue(new Batch(upsert, null, snapshot));

    /// <summary>Deletes <paramref name="deletion"/>'s snapshots with <paramref name="delete"/> (<see cref="SnapshotDelete"/>) in the next transaction; completes once it has committed.</summary>
    public Task DeleteSnapshotsAsync(string delete, SnapshotDeletion deletion) => Enqueue(new Batch(delete, null, default, deletion));

    private Task Enqueue(Batch batch)
    {
        if (!_queue.Writer.TryWrite(batch)) batch.Done.TrySetException(new InvalidOperationException("The SQLite writer is stopped."));
        return batch.Done.Task;
    }

    private async Task LoopAsync()
    {
        var reader = _queue.Reader;
        var taken = new List<Batch>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var rows = 0;
            while (rows < MaxRowsPerTransaction && reader.TryRead(out var next))
            {
                taken.Add(next);
                rows += next.Count;
            }
            try
            {
                Commit(taken);
                foreach (var batch in taken) batch.Done.TrySetResult();
            }
            catch (Exception) when (taken.Count > 1)
            {
                Close();
                // One write's rows failed the shared transaction (say a sequence number already taken, or a table gone):
                // nothing of it was committed, so each write is tried alone and only the one at fault fails.
                foreach (var batch in taken) CommitAlone(batch);
            }
            catch (Exception e)
            {
                Close();
                taken[0].Done.TrySetException(e);
            }
            taken.Clear();
        }
    }

    private void CommitAlone(Batch batch)
    {
        try
        {
            Commit([batch]);
            batch.Done.TrySetResult();
        }
        catch (Exception e)
        {
            Close();
            batch.Done.TrySetException(e);
        }
    }

    private void Commit(List<Batch> batches)
    {
        var connection = _connection ?? Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var events = 0;
        var snapshots = 0;
        foreach (var batch in batches)
        {
            var command = Command(batch.Sql, batch.Rows is not null ? 7 : batch.Deletion is null ? 6 : 3);
            command.Transaction = transaction;
            var p = command.Parameters;
            if (batch.Rows is { } rows)
            {
                foreach (var row in rows)
                {
                    p[0].Value = row.Created;
                    p[1].Value = row.PersistenceId;
                    p[2].Value = row.SequenceNr;
                    p[3].Value = row.Message;
                    p[4].Value = row.Manifest;
                    p[5].Value = row.Identifier;
                    p[6].Value = row.WriterUuid;
                    command.ExecuteNonQuery();
                }
                events += rows.Count;
            }
            else if (batch.Deletion is { } deletion)
            {
                p[0].Value = deletion.PersistenceId;
                p[1].Value = deletion.MaxSequenceNr;
                p[2].Value = deletion.MaxCreated;
                command.ExecuteNonQuery();
            }
            else
            {
                var snapshot = batch.Snapshot;
                p[0].Value = snapshot.PersistenceId;
                p[1].Value = snapshot.SequenceNr;
                p[2].Value = snapshot.Created;
                p[3].Value = snapshot.Snapshot;
                p[4].Value = snapshot.Manifest;
                p[5].Value = snapshot.SerializerId;
                command.ExecuteNonQuery();
                snapshots++;
            }
        }
        transaction.Commit();
        Committed?.Invoke(_connectionString, events, snapshots);
    }

    // The writer's own connection, its pragmas run once, and each statement prepared once: opened at the first write, and
    // again after a failure (which drops them: a connection that failed is not trusted with the next transaction).
    private SqliteConnection? _connection;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using var pragmas = connection.CreateCommand();
            pragmas.CommandText = _pragmas;
            pragmas.ExecuteNonQuery();
            return _connection = connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private SqliteCommand Command(string sql, int parameters)
    {
        if (_commands.TryGetValue(sql, out var command)) return command;
        command = _connection!.CreateCommand();
        try
        {
            command.CommandText = sql;
            // $1..$n, bound by position (JournalInsert has 7, SnapshotUpsert 6, SnapshotDelete 3).
            for (var i = 1; i <= parameters; i++) command.Parameters.Add(new SqliteParameter("$" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), null));
            command.Prepare();
        }
        catch
        {
            command.Dispose();
            throw;
        }
        _commands.Add(sql, command);
        return command;
    }

    private void Close()
    {
        foreach (var command in _commands.Values) command.Dispose();
        _commands.Clear();
        _connection?.Dispose();
        _connection = null;
    }

    /// <summary>
    /// Raised after each commit with the database's connection string and the events and snapshots the transaction held
    /// (specs count transactions with it: group commit is observable only as fewer transactions than writes).
    /// </summary>
    internal static event Action<string, int, int>? Committed;

    /// <summary>Stops taking writes and waits for those taken to be committed or failed.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        Close();
    }
}
