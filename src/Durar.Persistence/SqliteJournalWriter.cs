using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Durar.Persistence;

/// <summary>
/// The SQLite journal's write path (<see cref="DurarSqlWriteJournal"/>): one writer that takes every write waiting and
/// commits them in one transaction, then the next batch. Group commit falls out of it: while a transaction is on its way,
/// the writes that arrive wait and go together in the next; a lone write goes at once. Each caller's task completes only
/// after the transaction holding its rows has committed (or fails with the transaction). The rows are the plugin's own
/// (Akka.Persistence.Sql's <c>journal</c> table, default mapping), so its recovery, its query journal and its deletes read
/// and change them as they always did.
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

    private readonly string _connectionString;
    private readonly string _pragmas;
    private readonly string _insert;
    private readonly Channel<Batch> _queue = Channel.CreateUnbounded<Batch>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    /// <param name="connectionString">The journal's connection string.</param>
    /// <param name="pragmas">The SQL run on every connection opened (<see cref="SqlitePragmas"/>).</param>
    /// <param name="table">The journal table's name.</param>
    public SqliteJournalWriter(string connectionString, string pragmas, string table)
    {
        _connectionString = connectionString;
        _pragmas = pragmas;
        _insert = $"INSERT INTO \"{table.Replace("\"", "\"\"", StringComparison.Ordinal)}\" " +
                  "(created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid) " +
                  "VALUES ($created, 0, $pid, $seq, $message, $manifest, $identifier, $writer)";
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>One journal row, as Akka.Persistence.Sql writes it.</summary>
    internal readonly record struct Row(long Created, string PersistenceId, long SequenceNr, byte[] Message, string Manifest, int Identifier, string WriterUuid);

    private sealed class Batch(IReadOnlyList<Row> rows)
    {
        public IReadOnlyList<Row> Rows { get; } = rows;

        // Completed on the writer: the journal's continuation (a Tell to its resequencer) runs there, without a hop.
        public TaskCompletionSource Done { get; } = new();
    }

    /// <summary>Writes <paramref name="rows"/> in the next transaction; completes once it has committed.</summary>
    public Task WriteAsync(IReadOnlyList<Row> rows)
    {
        var batch = new Batch(rows);
        if (!_queue.Writer.TryWrite(batch)) batch.Done.TrySetException(new InvalidOperationException("The journal writer is stopped."));
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
                rows += next.Rows.Count;
            }
            try
            {
                Commit(taken);
                foreach (var batch in taken) batch.Done.TrySetResult();
            }
            catch (Exception) when (taken.Count > 1)
            {
                Close();
                // One write's rows failed the shared transaction (say a sequence number already taken): nothing of it was
                // committed, so each write is tried alone and only the one at fault fails.
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
        var insert = _insertCommand ?? Open();
        using var transaction = _connection!.BeginTransaction(deferred: false);
        insert.Transaction = transaction;
        var p = insert.Parameters;
        foreach (var batch in batches)
        {
            foreach (var row in batch.Rows)
            {
                p[0].Value = row.Created;
                p[1].Value = row.PersistenceId;
                p[2].Value = row.SequenceNr;
                p[3].Value = row.Message;
                p[4].Value = row.Manifest;
                p[5].Value = row.Identifier;
                p[6].Value = row.WriterUuid;
                insert.ExecuteNonQuery();
            }
        }
        transaction.Commit();
        Committed?.Invoke(_connectionString, batches.Sum(b => b.Rows.Count));
    }

    // The writer's own connection, its pragmas run once, and the INSERT prepared once: opened at the first write, and
    // again after a failure (which drops them: a connection that failed is not trusted with the next transaction).
    private SqliteConnection? _connection;
    private SqliteCommand? _insertCommand;

    private SqliteCommand Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using (var pragmas = connection.CreateCommand())
            {
                pragmas.CommandText = _pragmas;
                pragmas.ExecuteNonQuery();
            }
            var insert = connection.CreateCommand();
            insert.CommandText = _insert;
            insert.Parameters.Add("$created", SqliteType.Integer);
            insert.Parameters.Add("$pid", SqliteType.Text);
            insert.Parameters.Add("$seq", SqliteType.Integer);
            insert.Parameters.Add("$message", SqliteType.Blob);
            insert.Parameters.Add("$manifest", SqliteType.Text);
            insert.Parameters.Add("$identifier", SqliteType.Integer);
            insert.Parameters.Add("$writer", SqliteType.Text);
            insert.Prepare();
            (_connection, _insertCommand) = (connection, insert);
            return insert;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void Close()
    {
        _insertCommand?.Dispose();
        _connection?.Dispose();
        (_connection, _insertCommand) = (null, null);
    }

    /// <summary>
    /// Raised after each commit with the journal's connection string and the rows the transaction held (specs count
    /// transactions with it: group commit is observable only as fewer transactions than writes).
    /// </summary>
    internal static event Action<string, int>? Committed;

    /// <summary>Stops taking writes and waits for those taken to be committed or failed.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        Close();
    }
}
