using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence.Sql.Config;
using LinqToDB;
using Durar.Actors;
using Durar.Persistence.Serialization;

namespace Durar.Persistence;

/// <summary>
/// Durar's persistence wiring as HOCON: the Akka.Persistence.Sql journal, snapshot store and query journal (linq2db), plus the
/// binding of every <see cref="IDurarPersistable"/> to <see cref="DurarJsonSerializer"/> and of every <see cref="IDurarWireMessage"/>
/// (messages between cluster nodes) to <see cref="DurarWireSerializer"/>. It exists because
/// Akka.Persistence.Sql.Hosting is not available to us, so the plugin is configured the way its reference.conf documents:
/// the wiring is the embedded <c>persistence.conf</c>, and only its three values (connection string, provider name, read
/// isolation) are generated from <see cref="PersistenceOptions"/>.
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

    /// <summary>The HOCON path the generated values live under; <c>persistence.conf</c> substitutes them.</summary>
    internal const string ValuesPath = "durar.persistence";

    private const string ConfResource = "Durar.Persistence.persistence.conf";

    /// <summary>The text of the embedded <c>persistence.conf</c>: the wiring, with <c>${durar.persistence.*}</c> for the values.</summary>
    internal static string ConfText { get; } = ReadConf();

    private static string ReadConf()
    {
        using var stream = typeof(DurarPersistence).Assembly.GetManifestResourceStream(ConfResource)
            ?? throw new InvalidOperationException($"embedded resource {ConfResource} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// The persistence and serialization configuration for <paramref name="options"/>. For SQLite this also creates the
    /// database directory when missing and switches the file to WAL (see <see cref="PersistenceOptions.PrepareConnectionString"/>).
    /// </summary>
    /// <exception cref="Durar.Actors.Configuration.DurarConfigException">The options name an unknown provider or lack a required connection string.</exception>
    public static Config Hocon(PersistenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return HoconFor(options, options.PrepareConnectionString());
    }

    private static Config HoconFor(PersistenceOptions options, string connectionString) =>
        // Akka's HOCON resolves substitutions within the text it parses (not across WithFallback), so the values go in
        // front of the file they are substituted into.
        ConfigurationFactory.ParseString(Values(options, connectionString) + "\n" + ConfText);

    /// <summary>
    /// The SQLite plugins' connection options: the same connection string and provider as the HOCON, plus
    /// <see cref="SqlitePragmas"/> on every connection they open (<see cref="PersistenceOptions.SqliteSynchronous"/>,
    /// <see cref="PersistenceOptions.SqliteCheckpointPages"/>).
    /// Null for PostgreSQL. <see cref="WithDurarPersistence"/> adds it; a host that builds its own actor system passes it
    /// in the system's setup.
    /// </summary>
    public static Akka.Actor.Setup.Setup? SqliteSetup(PersistenceOptions options, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.NormalizedProvider() != PersistenceProviders.Sqlite) return null;
        var data = new DataOptions().UseConnectionString(SqliteProviderName, connectionString);
        var setup = new MultiDataOptionsSetup();
        // The journal and the snapshot store find the pragmas here for their shared writer's connection too (SqliteJournalWriter).
        var pragmas = data.UseInterceptor(new SqlitePragmas(options.SqliteSynchronous, options.SqliteCheckpointPages));
        foreach (var plugin in (ReadOnlySpan<string>)[JournalPluginId, SnapshotPluginId, QueryJournalPluginId]) setup.AddDataOptions(plugin, pragmas);
        return setup;
    }

    /// <summary>
    /// The only generated HOCON: the values <c>persistence.conf</c> substitutes, each quoted with Akka.Hosting's
    /// <see cref="HoconExtensions.ToHocon(string)"/> so any connection string survives (quotes, backslashes, <c>${</c>).
    /// </summary>
    internal static string Values(PersistenceOptions options, string connectionString)
    {
        var sqlite = options.NormalizedProvider() == PersistenceProviders.Sqlite;
        // SQLite reads read-uncommitted (why: persistence.conf); PostgreSQL keeps the plugin's default.
        var readIsolation = sqlite ? "read-uncommitted" : "unspecified";
        return $$"""
            {{ValuesPath}} {
              connection-string = {{connectionString.ToHocon()}}
              provider-name = {{(sqlite ? SqliteProviderName : PostgreSqlProviderName).ToHocon()}}
              read-isolation-level = {{readIsolation.ToHocon()}}
              journal-parallelism = {{(sqlite ? 1 : 3)}}
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
        ArgumentNullException.ThrowIfNull(options);
        var connectionString = options.PrepareConnectionString();
        builder.AddHocon(HoconFor(options, connectionString), HoconAddMode.Prepend);
        return SqliteSetup(options, connectionString) is { } setup ? builder.AddSetup(setup) : builder;
    }
}
