using Microsoft.Data.Sqlite;
using Npgsql;

namespace Durar.Persistence;

/// <summary>
/// Whether the journal's database answers right now: one connection and <c>SELECT 1</c>, for the gateway's readiness
/// check. It exists because Akka.Persistence only notices an unreachable database when an actor next writes or recovers;
/// a load balancer should stop sending traffic before that.
/// </summary>
internal static class JournalProbe
{
    /// <summary>Opens a connection to the journal's database and runs <c>SELECT 1</c>; returns where it looked.</summary>
    /// <exception cref="Exception">The database cannot be reached or refused the query (the provider's own exception).</exception>
    public static async Task<string> ProbeAsync(PersistenceOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.NormalizedProvider() == PersistenceProviders.PostgreSql)
        {
            await using var pg = new NpgsqlConnection(options.ConnectionString);
            await pg.OpenAsync(ct).ConfigureAwait(false);
            await using var query = new NpgsqlCommand("SELECT 1", pg);
            await query.ExecuteScalarAsync(ct).ConfigureAwait(false);
            return $"postgresql {pg.Host}:{pg.Port}/{pg.Database}";
        }
        var builder = string.IsNullOrWhiteSpace(options.ConnectionString)
            ? new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(Path.Combine(options.DataDir, PersistenceOptions.DefaultSqliteFileName)) }
            : new SqliteConnectionStringBuilder(options.ConnectionString);
        // The journal created the file at start: a missing file is a failure, not something to create here.
        if (builder.Mode == SqliteOpenMode.ReadWriteCreate) builder.Mode = SqliteOpenMode.ReadWrite;
        await using var sqlite = new SqliteConnection(builder.ConnectionString);
        await sqlite.OpenAsync(ct).ConfigureAwait(false);
        await using var command = sqlite.CreateCommand();
        command.CommandText = "SELECT 1";
        await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return $"sqlite {builder.DataSource}";
    }
}
