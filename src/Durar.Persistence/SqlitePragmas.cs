using System.Data.Common;
using LinqToDB.Interceptors;

namespace Durar.Persistence;

/// <summary>
/// Sets the per-connection SQLite pragmas the journal, snapshot store and query journal need on every connection they
/// open (linq2db opens one per write; a pragma such as <c>synchronous</c> lives on the connection, not in the file, and a
/// connection string cannot carry it). Given to Akka.Persistence.Sql through <see cref="DurarPersistence.SqliteSetup"/>.
/// </summary>
/// <remarks>
/// <c>synchronous</c> (<c>gateway.persistence.sqlite.synchronous</c>): <c>full</c> syncs the write-ahead log to the disk
/// at every commit; <c>normal</c> syncs it at checkpoints only. In WAL mode both keep the database consistent, and both
/// keep every committed write when the process dies (SIGKILL, a crash, an OOM kill): the commit is in the operating
/// system's cache. Only a power loss or a kernel crash can take back the last commits under <c>normal</c>. Measured on
/// this project's VM: 3.0 ms per commit with <c>full</c>, 0.02 ms with <c>normal</c> (bench/RESULTS.md).
/// <para>
/// Group commit (<paramref name="yieldAfterOpen"/>, the journal's connections): Microsoft.Data.Sqlite's async methods
/// complete synchronously, so without a yield the plugin's write stage (a <c>Source.Queue</c>, <c>BatchWeighted</c>, then
/// <c>SelectAsync(parallelism)</c>) runs each write to its commit inside the stream's actor before it takes the next offer:
/// <c>BatchWeighted</c> never had two writes to join, and every persisted event was a transaction of its own (6,400
/// transactions for 6,400 writes of 64 concurrent actors). Yielding once the connection is open hands the rest of the
/// write to the thread pool; the writes offered meanwhile are joined into the next transaction (349 transactions for
/// the same 6,400 writes). Each caller is still answered only after the transaction holding its rows has committed.
/// </para>
/// </remarks>
/// <param name="synchronous">The <c>synchronous</c> pragma's value: normal or full.</param>
/// <param name="yieldAfterOpen">Continue asynchronously after opening a connection (the journal's writes: group commit).</param>
internal sealed class SqlitePragmas(string synchronous, bool yieldAfterOpen) : IConnectionInterceptor
{
    private readonly string _sql = $"PRAGMA synchronous={synchronous.ToUpperInvariant()}; PRAGMA busy_timeout={BusyTimeoutMs};";

    /// <summary>
    /// How long SQLite itself retries a lock held by another connection (the snapshot store's, or another process's)
    /// before it answers busy. Its handler sleeps 1, 2, 5, 10, 15, 20, 25 ms and so on between tries; without it, a
    /// journal write that met a snapshot's transaction went back to Microsoft.Data.Sqlite's own retry loop, which sleeps
    /// 150 ms at a time: the p99 of session turns at c=1 was 188 ms, one snapshot collision (bench/RESULTS.md, run 6).
    /// The driver's loop still runs after it, up to the command timeout.
    /// </summary>
    internal const int BusyTimeoutMs = 5000;

    public void ConnectionOpening(ConnectionEventData eventData, DbConnection connection)
    {
    }

    public Task ConnectionOpeningAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public void ConnectionOpened(ConnectionEventData eventData, DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = _sql;
        command.ExecuteNonQuery();
    }

    public async Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = _sql;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        if (yieldAfterOpen) await Task.Yield();
    }
}
