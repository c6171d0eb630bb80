using System.Text;
using Akka.Configuration;
using Durar.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Durar.Persistence.Tests.Journal;

/// <summary>
/// <see cref="JournalSpecs"/> on PostgreSQL (<see cref="PostgresServer"/>: the one <c>.ci/run</c> starts, else a private one;
/// no server fails these specs, it never skips them), with a database of its own per spec: the store a cluster shares.
/// </summary>
public sealed class PostgresJournalSpecs(ITestOutputHelper output) : JournalSpecs(output)
{
    // PersistenceOptions wants a data dir; PostgreSQL never touches it.
    private static readonly string UnusedDataDir = Path.Combine(Path.GetTempPath(), "durar-persistence-tests", "unused");

    private PostgresDatabase? _database;

    private PostgresDatabase Database => _database ?? throw new InvalidOperationException("InitializeAsync did not run");

    protected override string ProviderName => DurarPersistence.PostgreSqlProviderName;

    protected override async Task<Config> OpenStoreAsync()
    {
        // Throws with instructions when no PostgreSQL is available: the specs fail, loudly.
        var server = await PostgresServer.StartOrUseAsync();
        _database = await server.CreateDatabaseAsync();
        return DurarPersistence.Hocon(new PersistenceOptions(PersistenceProviders.PostgreSql, _database.ConnectionString, UnusedDataDir));
    }

    protected override async Task CloseStoreAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
    }

    protected override void AssertConnectionString(string connectionString) => Assert.Equal(Database.ConnectionString, connectionString);

    protected override async Task<List<(string Manifest, int SerializerId, string Payload)>> Rows(string sql)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, int, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetInt32(1), Encoding.UTF8.GetString((byte[])reader.GetValue(2))));
        }

        return rows;
    }

    protected override async Task<long> Scalar(string sql)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
