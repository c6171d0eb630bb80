using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Actor.Setup;

namespace Durar.Persistence.Tests.Journal;

/// <summary>
/// What the specs of Durar's SQLite writer share: a temporary data directory, an actor system with the gateway's SQLite
/// wiring (<see cref="DurarPersistence.Hocon"/>, <see cref="DurarPersistence.SqliteSetup"/>), and the transactions the
/// writer committed for that database (<see cref="SqliteJournalWriter.Committed"/>: events and snapshots per transaction).
/// </summary>
public abstract class SqliteWriterSpecBase : IDisposable
{
    private readonly TempDataDir _dir = new();
    private readonly string _systemName;
    private string? _connectionString;

    protected SqliteWriterSpecBase(string systemName)
    {
        _systemName = systemName;
        SqliteJournalWriter.Committed += Count;
    }

    /// <summary>Every transaction the writer committed for this spec's database, in order.</summary>
    protected ConcurrentQueue<(int Events, int Snapshots)> Transactions { get; } = new();

    /// <summary>The spec's data directory (its SQLite database).</summary>
    protected TempDataDir Dir => _dir;

    /// <summary>The actor system <see cref="Start"/> made.</summary>
    protected ActorSystem? Sys { get; private set; }

    /// <summary>Starts an actor system with the gateway's SQLite wiring; returns the journal's connection string.</summary>
    protected string Start()
    {
        var options = _dir.Sqlite;
        _connectionString = options.PrepareConnectionString();
        Sys = ActorSystem.Create(_systemName, ActorSystemSetup.Create(
            BootstrapSetup.Create().WithConfig(DurarPersistence.Hocon(options)), DurarPersistence.SqliteSetup(options, _connectionString)!));
        return _connectionString;
    }

    private void Count(string connectionString, int events, int snapshots)
    {
        if (connectionString == _connectionString) Transactions.Enqueue((events, snapshots));
    }

    public void Dispose()
    {
        SqliteJournalWriter.Committed -= Count;
        Sys?.Terminate().Wait(TimeSpan.FromSeconds(30));
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }
}
