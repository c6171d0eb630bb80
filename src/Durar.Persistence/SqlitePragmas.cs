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
/// <c>wal_autocheckpoint</c> (<c>gateway.persistence.sqlite.checkpointPages</c>, 4,000 pages): the commit that takes the
/// log to that size copies it into the database file and syncs both, while the writes queued behind it wait. SQLite's
/// default of 1,000 pages did that four times as often; 4,000 gave c=64 session turns 8.6 % more rate and 7 % less CPU
/// (bench/RESULTS.md, "The journal's checkpoints"). A checkpoint's syncs and the database's consistency are as before.
/// </para>
/// <para>
/// The journal's writes and the snapshot store's saves and deletes by criteria do not go through these connections on SQLite:
/// <see cref="SqliteJournalWriter"/> opens its own and runs <see cref="Sql"/> on each (the journal and the snapshot store
/// find this instance in their data options). The plugin's own connections (recovery, snapshot loads, deletes, the query
/// journal) get it here.
/// </para>
/// </remarks>
/// <param name="synchronous">The <c>synchronous</c> pragma's value: normal or full.</param>
/// <param name="checkpointPages">The <c>wal_autocheckpoint</c> pragma's value (<see cref="PersistenceOptions.SqliteCheckpointPages"/>).</param>
internal sealed class SqlitePragmas(string synchronous, int checkpointPages) : IConnectionInterceptor
{
    /// <summary>The pragmas run on every connection opened (also by <see cref="SqliteJournalWriter"/>'s own connections).</summary>
    internal string Sql { get; } = FormattableString.Invariant(
        $"PRAGMA synchronous={synchronous.ToUpperInvariant()}; PRAGMA busy_timeout={BusyTimeoutMs}; PRAGMA wal_autocheckpoint={checkpointPages};");

    /// <summary>
    /// How long SQLite itself retries a lock held by another connection (a delete's, or another process's)
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
        command.CommandText = Sql;
        command.ExecuteNonQuery();
    }

    public async Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = Sql;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
