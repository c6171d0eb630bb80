using System.Text;
using Akka.Configuration;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Durar.Persistence.Tests.Journal;

/// <summary><see cref="JournalSpecs"/> on SQLite: a fresh file in a temporary data directory per spec (the gateway's default store).</summary>
public sealed class SqliteJournalSpecs(ITestOutputHelper output) : JournalSpecs(output)
{
    private readonly TempDataDir _dir = new();

    protected override string ProviderName => DurarPersistence.SqliteProviderName;

    protected override Task<Config> OpenStoreAsync() => Task.FromResult(DurarPersistence.Hocon(_dir.Sqlite));

    protected override Task CloseStoreAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    protected override void AssertConnectionString(string connectionString) =>
        Assert.Equal(_dir.DatabaseFile, new SqliteConnectionStringBuilder(connectionString).DataSource);

    protected override async Task<List<(string Manifest, int SerializerId, string Payload)>> Rows(string sql)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
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
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<SqliteConnection> OpenAsync()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _dir.DatabaseFile }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}
