using Microsoft.Data.Sqlite;

namespace Durar.Persistence.Tests;

/// <summary>A fresh directory under the system temp dir for one spec's database; deleted when disposed.</summary>
public sealed class TempDataDir : IDisposable
{
    public TempDataDir()
    {
        // Not created here: DurarPersistence must create it.
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "durar-persistence-tests", Guid.NewGuid().ToString("N"));
    }

    public string Path { get; }

    public string DatabaseFile => System.IO.Path.Combine(Path, PersistenceOptions.DefaultSqliteFileName);

    public PersistenceOptions Sqlite => PersistenceOptions.Sqlite(Path);

    public void Dispose()
    {
        // Pooled connections keep the file open; release them before deleting.
        SqliteConnection.ClearAllPools();
        try
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp dir must not fail a spec.
        }
    }
}
