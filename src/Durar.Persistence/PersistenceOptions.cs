using Akka.Configuration;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Microsoft.Data.Sqlite;

namespace Durar.Persistence;

/// <summary>The journal/snapshot databases Durar supports; the values of <c>gateway.persistence.provider</c>.</summary>
public static class PersistenceProviders
{
    /// <summary>A local SQLite file (the default): one gateway process, no server to run.</summary>
    public const string Sqlite = "sqlite";

    /// <summary>PostgreSQL 15+: several gateway nodes, or when the state must outlive the machine.</summary>
    public const string PostgreSql = "postgresql";
}

/// <summary>
/// Where Durar's journal and snapshots live. It exists so the host chooses the store with two HOCON keys
/// (<c>gateway.persistence.provider</c>, <c>gateway.persistence.connectionString</c>) and <see cref="DurarPersistence"/>
/// turns them into the Akka.Persistence.Sql plugin configuration.
/// </summary>
/// <param name="Provider"><see cref="PersistenceProviders.Sqlite"/> (default) or <see cref="PersistenceProviders.PostgreSql"/>.</param>
/// <param name="ConnectionString">
/// The ADO.NET connection string. Empty for SQLite means <c>Data Source=&lt;DataDir&gt;/durar.db</c>; required for PostgreSQL.
/// </param>
/// <param name="DataDir">The directory of the default SQLite file; created when missing.</param>
public sealed record PersistenceOptions(string Provider, string ConnectionString, string DataDir)
{
    /// <summary>HOCON path of the provider key.</summary>
    public const string ProviderPath = "gateway.persistence.provider";

    /// <summary>HOCON path of the connection string key.</summary>
    public const string ConnectionStringPath = "gateway.persistence.connectionString";

    /// <summary>HOCON path of the SQLite synchronous mode.</summary>
    public const string SqliteSynchronousPath = "gateway.persistence.sqlite.synchronous";

    /// <summary>
    /// SQLite's <c>synchronous</c> pragma for the journal's connections: <c>normal</c> (a commit survives the process
    /// dying, not a power loss; the default in durar.conf) or <c>full</c> (the write-ahead log is synced at every commit).
    /// Not used with PostgreSQL (its server's <c>synchronous_commit</c> decides).
    /// </summary>
    public string SqliteSynchronous { get; init; } = "normal";

    /// <summary>HOCON path of the SQLite checkpoint mark.</summary>
    public const string SqliteCheckpointPagesPath = "gateway.persistence.sqlite.checkpointPages";

    /// <summary>The default of <see cref="SqliteCheckpointPages"/> (16 MB of log at SQLite's 4 KB pages).</summary>
    public const int DefaultSqliteCheckpointPages = 4000;

    /// <summary>The most <see cref="SqliteCheckpointPages"/> can be (4 GB of log at 4 KB pages).</summary>
    public const int MaxSqliteCheckpointPages = 1_000_000;

    /// <summary>
    /// SQLite's <c>wal_autocheckpoint</c> for the journal's connections: the write-ahead log is copied into the database
    /// file by the commit that takes it to this many pages (SQLite's own default is 1,000). A commit that checkpoints holds
    /// up the writes behind it, so fewer, larger checkpoints leave session turns more of the disk (bench/RESULTS.md); the
    /// log file grows to about this size. Not used with PostgreSQL.
    /// </summary>
    public int SqliteCheckpointPages { get; init; } = DefaultSqliteCheckpointPages;

    /// <summary>File name of the default SQLite database inside <see cref="DataDir"/>.</summary>
    public const string DefaultSqliteFileName = "durar.db";

    /// <summary>SQLite in <paramref name="dataDir"/> with the default file name.</summary>
    public static PersistenceOptions Sqlite(string dataDir) => new(PersistenceProviders.Sqlite, "", dataDir);

    /// <summary>Reads <c>gateway.persistence.provider</c> (default sqlite) and <c>gateway.persistence.connectionString</c> (default empty).</summary>
    /// <exception cref="DurarConfigException">The provider is unknown, or PostgreSQL has no connection string.</exception>
    public static PersistenceOptions FromConfig(Config config, string dataDir)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDir);

        var provider = config.GetString(ProviderPath, PersistenceProviders.Sqlite)?.Trim() ?? PersistenceProviders.Sqlite;
        var connectionString = config.GetString(ConnectionStringPath, "")?.Trim() ?? "";
        var synchronous = config.GetString(SqliteSynchronousPath, "normal")?.Trim().ToLowerInvariant() ?? "normal";
        var checkpointPages = config.HasPath(SqliteCheckpointPagesPath)
            ? (int)HoconReader.RequiredLong(config, SqliteCheckpointPagesPath, min: 1, max: MaxSqliteCheckpointPages)
            : DefaultSqliteCheckpointPages;
        var options = new PersistenceOptions(provider, connectionString, dataDir) { SqliteSynchronous = synchronous, SqliteCheckpointPages = checkpointPages };
        options.Validate();
        return options with { Provider = options.NormalizedProvider() };
    }

    /// <summary>The provider in its canonical lower-case spelling (a method, not a property, so the record's ToString never throws).</summary>
    /// <exception cref="DurarConfigException">The provider is unknown.</exception>
    public string NormalizedProvider() => Provider.Trim().ToLowerInvariant() switch
    {
        PersistenceProviders.Sqlite => PersistenceProviders.Sqlite,
        PersistenceProviders.PostgreSql => PersistenceProviders.PostgreSql,
        _ => throw new DurarConfigException(
            ProviderPath,
            $"unknown provider \"{Provider}\" (expected {PersistenceProviders.Sqlite} or {PersistenceProviders.PostgreSql})"),
    };

    /// <summary>Checks the provider and connection string without touching the disk.</summary>
    /// <exception cref="DurarConfigException">The provider is unknown, or PostgreSQL has no connection string.</exception>
    public void Validate()
    {
        if (SqliteSynchronous is not ("normal" or "full"))
        {
            throw new DurarConfigException(SqliteSynchronousPath, $"must be normal or full, not \"{SqliteSynchronous}\"");
        }
        if (SqliteCheckpointPages is < 1 or > MaxSqliteCheckpointPages)
        {
            throw new DurarConfigException(SqliteCheckpointPagesPath, $"must be between 1 and {MaxSqliteCheckpointPages} (got {SqliteCheckpointPages})");
        }
        if (NormalizedProvider() == PersistenceProviders.PostgreSql && string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new DurarConfigException(ConnectionStringPath, "is required when the provider is postgresql (e.g. \"Host=127.0.0.1;Port=5432;Database=durar;Username=postgres\")");
        }
    }

    /// <summary>
    /// Readies the store and returns the connection string the plugins get. PostgreSQL: the connection string as given.
    /// SQLite: an empty <see cref="ConnectionString"/> becomes <c>Data Source=&lt;DataDir&gt;/durar.db;Pooling=True</c>
    /// (absolute path); the database directory and file are created owner-only (0700/0600, see <see cref="OwnerOnly"/>) or
    /// tightened to that; and the file is switched to write-ahead logging.
    /// </summary>
    /// <remarks>
    /// Why WAL: Microsoft.Data.Sqlite already retries SQLITE_BUSY until the command timeout (30 s), so concurrent writers
    /// (the journal's parallel writers, the snapshot store, many persistent actors) do not fail with "database is locked" in
    /// the default rollback-journal mode, but they queue behind each other with sleep-and-retry: 20 actors writing 1,000
    /// events took about 11.6 s here, against about 3.2 s in WAL mode (readers no longer block the writer either).
    /// <c>Cache=Shared</c> does not help (about 9.3 s) and SQLite discourages it. The connection string cannot select WAL,
    /// but the mode is stored in the database file, so setting it once before the plugins open the file is enough.
    /// </remarks>
    public string PrepareConnectionString()
    {
        Validate();
        if (NormalizedProvider() != PersistenceProviders.Sqlite)
        {
            return ConnectionString;
        }

        var builder = string.IsNullOrWhiteSpace(ConnectionString)
            ? new SqliteConnectionStringBuilder
            {
                DataSource = Path.GetFullPath(Path.Combine(DataDir, DefaultSqliteFileName)),
                Pooling = true,
            }
            : new SqliteConnectionStringBuilder(ConnectionString);

        var isFile = builder.Mode is not (SqliteOpenMode.Memory or SqliteOpenMode.ReadOnly)
                     && !string.IsNullOrEmpty(builder.DataSource)
                     && builder.DataSource != ":memory:"
                     && !builder.DataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase);
        if (isFile)
        {
            var file = Path.GetFullPath(builder.DataSource);
            if (Path.GetDirectoryName(file) is { Length: > 0 } directory)
            {
                OwnerOnly.Directory(directory);
            }

            // Owner-only before SQLite opens it: SQLite gives the -wal and -shm files the database file's permissions.
            OwnerOnly.File(file);
            OwnerOnly.Tighten(file + "-wal");
            OwnerOnly.Tighten(file + "-shm");
            EnableWriteAheadLog(builder.ConnectionString);
        }

        return builder.ConnectionString;
    }

    /// <summary>The SQLite journal mode of the file behind <paramref name="connectionString"/> after switching it to WAL.</summary>
    internal static string EnableWriteAheadLog(string connectionString)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        return command.ExecuteScalar() as string ?? "";
    }
}
