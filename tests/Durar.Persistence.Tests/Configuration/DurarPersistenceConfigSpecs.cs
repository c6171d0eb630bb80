using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Durar.Actors;
using Durar.Actors.Configuration;
using Durar.Persistence.Serialization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Durar.Persistence.Tests.Configuration;

/// <summary>
/// Config sanity (C14): the <c>gateway.persistence</c> keys of durar.conf select the store, and the HOCON
/// <see cref="DurarPersistence"/> produces holds the values the plugin and the serializer binding need.
/// </summary>
public sealed class DurarPersistenceConfigSpecs : IDisposable
{
    private readonly TempDataDir _dir = new();

    [Fact]
    public void Should_default_to_sqlite_in_the_data_dir()
    {
        var options = PersistenceOptions.FromConfig(DurarSettingsLoader.Defaults, _dir.Path);

        Assert.Equal(new PersistenceOptions("sqlite", "", _dir.Path), options);

        var config = DurarPersistence.Hocon(options);
        var expected = $"Data Source={_dir.DatabaseFile};Pooling=True";
        Assert.Equal(expected, config.GetString("akka.persistence.journal.sql.connection-string"));
        Assert.Equal(expected, config.GetString("akka.persistence.snapshot-store.sql.connection-string"));
        Assert.Equal(expected, config.GetString("akka.persistence.query.journal.sql.connection-string"));
        Assert.All(ProviderNames(config), name => Assert.Equal("SQLite.MS", name));
    }

    [Fact]
    public void Should_configure_the_sql_plugins_and_bind_persistables_to_the_durar_serializer()
    {
        var config = DurarPersistence.Hocon(_dir.Sqlite);

        Assert.Equal("akka.persistence.journal.sql", config.GetString("akka.persistence.journal.plugin"));
        Assert.Equal("akka.persistence.snapshot-store.sql", config.GetString("akka.persistence.snapshot-store.plugin"));
        Assert.Equal("akka.persistence.journal.sql", config.GetString("akka.persistence.query.journal.sql.write-plugin"));
        Assert.Equal("Durar.Persistence.DurarSqlWriteJournal, Durar.Persistence", config.GetString("akka.persistence.journal.sql.class"));
        Assert.Equal("Durar.Persistence.DurarSqlSnapshotStore, Durar.Persistence", config.GetString("akka.persistence.snapshot-store.sql.class"));
        Assert.Equal("Akka.Persistence.Sql.Query.SqlReadJournalProvider, Akka.Persistence.Sql", config.GetString("akka.persistence.query.journal.sql.class"));
        foreach (var plugin in new[] { "akka.persistence.journal.sql", "akka.persistence.snapshot-store.sql", "akka.persistence.query.journal.sql" })
        {
            Assert.Equal("default", config.GetString($"{plugin}.table-mapping"));
        }

        Assert.True(config.GetBoolean("akka.persistence.journal.sql.auto-initialize"));
        Assert.True(config.GetBoolean("akka.persistence.snapshot-store.sql.auto-initialize"));

        Assert.Equal(DurarJsonSerializer.TypeName, config.GetString("akka.actor.serializers.durar"));
        Assert.Equal("durar", config.GetConfig("akka.actor.serialization-bindings").AsEnumerable()
            .Single(e => e.Key == "Durar.Actors.IDurarPersistable, Durar.Actors").Value.GetString());
        Assert.Equal(DurarJsonSerializer.SerializerId, config.GetConfig("akka.actor.serialization-identifiers").AsEnumerable()
            .Single(e => e.Key == DurarJsonSerializer.TypeName).Value.GetInt());
        Assert.True(DurarJsonSerializer.SerializerId > 100, "ids up to 100 are reserved for Akka");
    }

    [Fact]
    public void Should_let_the_query_journal_step_over_gaps_of_deleted_rows_within_half_a_second()
    {
        var config = DurarPersistence.Hocon(_dir.Sqlite).GetConfig("akka.persistence.query.journal.sql.journal-sequence-retrieval");

        Assert.Equal(TimeSpan.FromMilliseconds(100), config.GetTimeSpan("query-delay"));
        Assert.Equal(5, config.GetInt("max-tries"));
    }

    [Fact]
    public void Should_create_the_data_dir_and_switch_the_file_to_write_ahead_logging()
    {
        Assert.False(Directory.Exists(_dir.Path));

        DurarPersistence.Hocon(_dir.Sqlite);

        Assert.True(File.Exists(_dir.DatabaseFile));
        using var connection = new SqliteConnection($"Data Source={_dir.DatabaseFile};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", command.ExecuteScalar());
    }

    [Fact]
    public void Should_select_postgresql_from_the_commented_profile()
    {
        var config = DurarSettingsLoader.FromText(
            """
            gateway.persistence {
              provider = "postgresql"
              connectionString = "Host=127.0.0.1;Port=5432;Database=durar;Username=postgres"
            }
            """);

        var options = PersistenceOptions.FromConfig(config, _dir.Path);
        var hocon = DurarPersistence.Hocon(options);

        Assert.Equal(PersistenceProviders.PostgreSql, options.Provider);
        Assert.All(ProviderNames(hocon), name => Assert.Equal("PostgreSQL.15", name));
        Assert.Equal("Host=127.0.0.1;Port=5432;Database=durar;Username=postgres", hocon.GetString("akka.persistence.journal.sql.connection-string"));
        // Nothing local is needed for PostgreSQL.
        Assert.False(Directory.Exists(_dir.Path));
    }

    [Theory]
    [InlineData("""Host=db;Username=durar;Password=a"b\c;d'e""")]
    [InlineData("Host=db;Password=${NOT_A_SUBSTITUTION}")]
    [InlineData("Host=db;Password=x#y//z{}[]:,=?!@*&^`")]
    [InlineData("Host=db;Password=\"quoted\"")]
    [InlineData("Host=db;Password=line\nbreak\ttab")]
    public void Should_pass_any_connection_string_through_unchanged(string connectionString)
    {
        var hocon = DurarPersistence.Hocon(new PersistenceOptions("PostgreSQL", connectionString, _dir.Path));

        foreach (var plugin in Plugins) Assert.Equal(connectionString, hocon.GetString($"{plugin}.connection-string"));
    }

    [Fact]
    public void Should_read_uncommitted_on_sqlite_and_keep_the_plugin_default_on_postgresql()
    {
        var sqlite = DurarPersistence.Hocon(_dir.Sqlite);
        var postgres = DurarPersistence.Hocon(new PersistenceOptions("postgresql", "Host=db", _dir.Path));

        Assert.All(Plugins, plugin => Assert.Equal("read-uncommitted", sqlite.GetString($"{plugin}.read-isolation-level")));
        Assert.All(Plugins, plugin => Assert.Equal("unspecified", postgres.GetString($"{plugin}.read-isolation-level")));
    }

    [Fact]
    public void Should_keep_the_wiring_in_the_embedded_file_and_generate_only_its_values()
    {
        // The file holds no store-specific value: every one is a substitution of the generated block.
        Assert.Contains("${durar.persistence.connection-string}", DurarPersistence.ConfText, StringComparison.Ordinal);
        Assert.DoesNotContain("Data Source", DurarPersistence.ConfText, StringComparison.Ordinal);
        Assert.Contains("provider-name = ${durar.persistence.provider-name}", DurarPersistence.ConfText, StringComparison.Ordinal);
        Assert.Contains("read-isolation-level = ${durar.persistence.read-isolation-level}", DurarPersistence.ConfText, StringComparison.Ordinal);

        var values = ConfigurationFactory.ParseString(DurarPersistence.Values(_dir.Sqlite, _dir.Sqlite.PrepareConnectionString()));
        Assert.Equal(["connection-string", "journal-parallelism", "provider-name", "read-isolation-level"],
            values.GetConfig(DurarPersistence.ValuesPath).AsEnumerable().Select(e => e.Key).Order());
        Assert.Single(values.Root.GetObject().Items); // nothing outside durar.persistence

        // The file's literal ids are the constants the code uses.
        var config = DurarPersistence.Hocon(_dir.Sqlite);
        Assert.Equal(DurarPersistence.JournalPluginId, config.GetString("akka.persistence.journal.plugin"));
        Assert.Equal(DurarPersistence.SnapshotPluginId, config.GetString("akka.persistence.snapshot-store.plugin"));
        Assert.True(config.HasPath(DurarPersistence.QueryJournalPluginId + ".class"));
        Assert.Equal(DurarJsonSerializer.TypeName, config.GetString($"akka.actor.serializers.{DurarPersistence.SerializerName}"));
    }

    private static readonly string[] Plugins = ["akka.persistence.journal.sql", "akka.persistence.snapshot-store.sql", "akka.persistence.query.journal.sql"];

    [Theory]
    [InlineData("mysql")]
    [InlineData("sqlserver")]
    [InlineData("")]
    public void Should_reject_an_unknown_provider_naming_the_key(string provider)
    {
        var config = DurarSettingsLoader.FromText($"gateway.persistence.provider = \"{provider}\"");

        var error = Assert.Throws<DurarConfigException>(() => PersistenceOptions.FromConfig(config, _dir.Path));

        Assert.Equal("gateway.persistence.provider", error.Path);
        Assert.Contains($"\"{provider}\"", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_require_a_connection_string_for_postgresql()
    {
        var config = DurarSettingsLoader.FromText("gateway.persistence.provider = postgresql");

        var error = Assert.Throws<DurarConfigException>(() => PersistenceOptions.FromConfig(config, _dir.Path));

        Assert.Equal("gateway.persistence.connectionString", error.Path);
    }

    [Fact]
    public async Task Should_wire_the_hosted_actor_system_and_let_later_options_win()
    {
        using var host = new HostBuilder()
            .ConfigureServices(services => services.AddAkka("durar-hosting-spec", builder =>
            {
                builder.WithDurarPersistence(_dir.Sqlite);
                // A later typed setting (added with Prepend, as Akka.Hosting does) overrides ours.
                builder.AddHocon("akka.persistence.journal.sql.batch-size = 7", HoconAddMode.Prepend);
            }))
            .Build();
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            var config = system.Settings.Config;

            Assert.Equal("akka.persistence.journal.sql", config.GetString("akka.persistence.journal.plugin"));
            Assert.Equal("SQLite.MS", config.GetString("akka.persistence.journal.sql.provider-name"));
            Assert.Equal(7, config.GetInt("akka.persistence.journal.sql.batch-size"));
            Assert.IsType<DurarJsonSerializer>(system.Serialization.FindSerializerForType(typeof(IDurarPersistable)));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void Should_write_the_sqlite_journal_with_one_writer_and_postgresql_with_the_plugins_three()
    {
        // One SQLite writer: a second write transaction would meet the write lock and sleep in the driver's retry loop;
        // writes that come meanwhile go together in the next transaction (group commit).
        Assert.Equal(1, DurarPersistence.Hocon(_dir.Sqlite).GetInt("akka.persistence.journal.sql.parallelism"));
        var postgres = DurarPersistence.Hocon(new PersistenceOptions("postgresql", "Host=db", _dir.Path));
        Assert.Equal(3, postgres.GetInt("akka.persistence.journal.sql.parallelism"));
    }

    [Theory]
    [InlineData("", 1)] // durar.conf's default: normal
    [InlineData("gateway.persistence.sqlite.synchronous = normal", 1)]
    [InlineData("gateway.persistence.sqlite.synchronous = FULL", 2)]
    public void Should_open_every_plugin_connection_with_the_configured_synchronous_mode(string text, long expected)
    {
        // SQLite's own answer on a connection the plugin would open: 1 = NORMAL, 2 = FULL (its default is FULL).
        Assert.All(PragmaOnEachPluginConnection(text, "synchronous"), value => Assert.Equal(expected, value));
        Assert.Null(DurarPersistence.SqliteSetup(new PersistenceOptions("postgresql", "Host=db", _dir.Path), "Host=db"));
    }

    [Fact]
    public void Should_open_every_plugin_connection_with_sqlites_own_busy_wait()
    {
        // A journal write that meets the snapshot store's transaction waits in SQLite's busy handler (1, 2, 5, 10 ms ...)
        // instead of returning busy to Microsoft.Data.Sqlite, whose retry loop sleeps 150 ms at a time (the p99 of session
        // turns was one such sleep: bench/RESULTS.md, run 6).
        Assert.All(PragmaOnEachPluginConnection("", "busy_timeout"), value => Assert.Equal(SqlitePragmas.BusyTimeoutMs, value));
    }

    [Theory]
    [InlineData("", 4000)] // durar.conf's default
    [InlineData("gateway.persistence.sqlite.checkpointPages = 1000", 1000)]
    [InlineData("gateway.persistence.sqlite.checkpointPages = \"16000\"", 16000)]
    public void Should_open_every_plugin_connection_with_the_configured_checkpoint_mark(string text, long expected)
    {
        // SQLite's own answer (its default is 1000); the journal's writer runs the same pragmas on its connection.
        Assert.All(PragmaOnEachPluginConnection(text, "wal_autocheckpoint"), value => Assert.Equal(expected, value));
    }

    // The value of PRAGMA <pragma> on a connection each plugin (journal, snapshot store, query journal) would open, with
    // the gateway's SQLite wiring for the config <text>.
    private long[] PragmaOnEachPluginConnection(string text, string pragma)
    {
        var options = PersistenceOptions.FromConfig(DurarSettingsLoader.FromText(text), _dir.Path);
        var setup = Assert.IsType<Akka.Persistence.Sql.Config.MultiDataOptionsSetup>(DurarPersistence.SqliteSetup(options, options.PrepareConnectionString()));
        return Plugins.Select(plugin =>
        {
            Assert.True(setup.TryGetDataOptionsFor(plugin, out var data), plugin);
            using var db = new LinqToDB.Data.DataConnection(data!);
            return LinqToDB.Data.DataContextExtensions.Execute<long>(db, "PRAGMA " + pragma);
        }).ToArray();
    }

    [Theory]
    [InlineData("0", "between 1 and 1000000")] // 0 would turn checkpoints off: a log that grows without bound
    [InlineData("-5", "must not be negative")]
    [InlineData("2000000", "between 1 and 1000000")]
    [InlineData("lots", "whole number")]
    public void Should_reject_a_checkpoint_mark_out_of_range_naming_the_key(string value, string problem)
    {
        var config = DurarSettingsLoader.FromText("gateway.persistence.sqlite.checkpointPages = " + value);

        var error = Assert.Throws<DurarConfigException>(() => PersistenceOptions.FromConfig(config, _dir.Path));

        Assert.Equal("gateway.persistence.sqlite.checkpointPages", error.Path);
        Assert.Contains(problem, error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_reject_an_unknown_synchronous_mode_naming_the_key()
    {
        var config = DurarSettingsLoader.FromText("gateway.persistence.sqlite.synchronous = off");

        var error = Assert.Throws<DurarConfigException>(() => PersistenceOptions.FromConfig(config, _dir.Path));

        Assert.Equal("gateway.persistence.sqlite.synchronous", error.Path);
        Assert.Contains("\"off\"", error.Problem, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();

    private static IEnumerable<string> ProviderNames(Config config) =>
    [
        config.GetString("akka.persistence.journal.sql.provider-name"),
        config.GetString("akka.persistence.snapshot-store.sql.provider-name"),
        config.GetString("akka.persistence.query.journal.sql.provider-name"),
    ];
}
