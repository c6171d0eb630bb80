using Akka.Configuration;
using Akka.Hosting;
using Durar.Actors;
using Durar.Persistence.Serialization;

namespace Durar.Persistence;

/// <summary>
/// Durar's persistence wiring as HOCON: the Akka.Persistence.Sql journal, snapshot store and query journal (linq2db), plus the
/// binding of every <see cref="IDurarPersistable"/> to <see cref="DurarJsonSerializer"/> and of every <see cref="IDurarWireMessage"/>
/// (messages between cluster nodes) to <see cref="DurarWireSerializer"/>. It exists because
/// Akka.Persistence.Sql.Hosting is not available to us, so the plugin is configured the way its reference.conf documents.
/// </summary>
public static class DurarPersistence
{
    /// <summary>The HOCON id of the journal plugin (also the query journal's write plugin).</summary>
    public const string JournalPluginId = "akka.persistence.journal.sql";

    /// <summary>The HOCON id of the snapshot-store plugin.</summary>
    public const string SnapshotPluginId = "akka.persistence.snapshot-store.sql";

    /// <summary>The HOCON id of the query (read) journal, for <c>PersistenceQuery.ReadJournalFor</c>.</summary>
    public const string QueryJournalPluginId = "akka.persistence.query.journal.sql";

    /// <summary>The name <see cref="DurarJsonSerializer"/> is registered under in <c>akka.actor.serializers</c>.</summary>
    public const string SerializerName = "durar";

    /// <summary>linq2db provider names (<c>LinqToDB.ProviderName</c>); a specific version skips provider detection.</summary>
    public const string SqliteProviderName = "SQLite.MS";

    /// <inheritdoc cref="SqliteProviderName"/>
    public const string PostgreSqlProviderName = "PostgreSQL.15";

    private const string MarkerTypeName = "Durar.Actors.IDurarPersistable, Durar.Actors";

    /// <summary>
    /// The persistence and serialization configuration for <paramref name="options"/>. For SQLite this also creates the
    /// database directory when missing and switches the file to WAL (see <see cref="PersistenceOptions.PrepareConnectionString"/>).
    /// </summary>
    /// <exception cref="Durar.Actors.Configuration.DurarConfigException">The options name an unknown provider or lack a required connection string.</exception>
    public static Config Hocon(PersistenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return ConfigurationFactory.ParseString(HoconText(options));
    }

    /// <summary>The text of <see cref="Hocon"/> (with the same side effects on the store).</summary>
    internal static string HoconText(PersistenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var provider = options.NormalizedProvider();
        var connectionString = Quote(options.PrepareConnectionString());
        var providerName = Quote(provider == PersistenceProviders.Sqlite ? SqliteProviderName : PostgreSqlProviderName);

        // PostgreSQL keeps its read-committed default. SQLite reads run with read-isolation-level = read-uncommitted: the
        // driver then opens a plain deferred BEGIN instead of BEGIN IMMEDIATE (which takes the write lock for a read, so
        // every recovery read collided with journal writes and slept 150 ms in the driver's retry loop: session creation
        // went from ~70/s to 1,000+/s). Without a shared cache SQLite never reads uncommitted data: WAL reads stay consistent.
        var readIsolation = provider == PersistenceProviders.Sqlite ? "read-isolation-level = read-uncommitted" : "";
        return $$"""
            akka.persistence {
              journal {
                plugin = "{{JournalPluginId}}"
                sql {
                  class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
                  connection-string = {{connectionString}}
                  provider-name = {{providerName}}
                  table-mapping = default
                  auto-initialize = true
                  {{readIsolation}}
                }
              }
              snapshot-store {
                plugin = "{{SnapshotPluginId}}"
                sql {
                  class = "Akka.Persistence.Sql.Snapshot.SqlSnapshotStore, Akka.Persistence.Sql"
                  connection-string = {{connectionString}}
                  provider-name = {{providerName}}
                  table-mapping = default
                  auto-initialize = true
                  {{readIsolation}}
                }
              }
              query.journal.sql {
                class = "Akka.Persistence.Sql.Query.SqlReadJournalProvider, Akka.Persistence.Sql"
                write-plugin = "{{JournalPluginId}}"
                connection-string = {{connectionString}}
                provider-name = {{providerName}}
                table-mapping = default
                {{readIsolation}}
              }
            }
            akka.actor {
              serializers {
                {{SerializerName}} = "{{DurarJsonSerializer.TypeName}}"
                {{DurarWireSerializer.SerializerName}} = "{{DurarWireSerializer.TypeName}}"
              }
              serialization-bindings {
                "{{MarkerTypeName}}" = {{SerializerName}}
                "{{DurarWireSerializer.MarkerTypeName}}" = {{DurarWireSerializer.SerializerName}}
              }
              serialization-identifiers {
                "{{DurarJsonSerializer.TypeName}}" = {{DurarJsonSerializer.SerializerId}}
                "{{DurarWireSerializer.TypeName}}" = {{DurarWireSerializer.SerializerId}}
              }
            }

            """;
    }

    /// <summary>
    /// Adds <see cref="DurarPersistence.Hocon"/> with <see cref="HoconAddMode.Prepend"/>, so typed options added later
    /// still win over it.
    /// </summary>
    public static AkkaConfigurationBuilder WithDurarPersistence(this AkkaConfigurationBuilder builder, PersistenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddHocon(Hocon(options), HoconAddMode.Prepend);
    }

    /// <summary>A HOCON quoted string: backslashes and quotes escaped, so any connection string survives.</summary>
    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
