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
/// </remarks>
internal sealed class SqlitePragmas : IConnectionInterceptor
{
    private readonly string _sql;

    public SqlitePragmas(string synchronous) => _sql = $"PRAGMA synchronous={synchronous.ToUpperInvariant()};";

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
    }
}
