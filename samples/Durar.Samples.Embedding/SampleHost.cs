using Akka.Configuration;
using Akka.Hosting;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.Sessions;
using Durar.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Durar.Samples.Embedding;

/// <summary>
/// How an application that already has its own Akka.Hosting actor system embeds Durar: Durar's services go into the
/// application's container (<see cref="DurarHostingExtensions.AddDurarCore"/>), and Durar's actors start inside the
/// application's actor system, beside its own (<see cref="DurarHostingExtensions.WithDurarActors"/> on the application's
/// builder), instead of the ready-made system <see cref="DurarHostingExtensions.AddDurar"/> would create.
/// </summary>
public static class SampleHost
{
    /// <summary>The application's actor system: its name is the application's choice, not Durar's.</summary>
    public const string SystemName = "sample-app";

    /// <summary>Builds the application's host on <paramref name="durarConfig"/> (Durar's HOCON, defaults underneath).</summary>
    /// <param name="durarConfig">From <see cref="DurarSettingsLoader.LoadFile"/>: providers, models, gateway settings.</param>
    /// <param name="dataDir">Where Durar's journal lives (a SQLite file, unless <c>gateway.persistence</c> names PostgreSQL).</param>
    /// <exception cref="DurarConfigException">The configuration is invalid; the message names the key path.</exception>
    public static IHost Build(Config durarConfig, string dataDir)
    {
        var builder = Host.CreateApplicationBuilder();
        // Akka's own start-up and shutdown chatter (remoting, cluster, sharding) at Warning and above only.
        builder.Logging.AddFilter("Akka", LogLevel.Warning);

        // Durar's settings, catalog, transports, upstream HTTP client and the IChatClient.
        builder.Services.AddDurarCore(durarConfig);

        builder.Services.AddAkka(SystemName, (akka, sp) =>
        {
            var durar = sp.GetRequiredService<DurarSettings>();
            akka.ConfigureLoggers(loggers =>
                {
                    loggers.ClearLoggers();
                    loggers.AddLoggerFactory();
                })
                // What Akka writes to stdout itself once the host's logging has stopped (remoting's last words at shutdown).
                .AddHocon("akka.stdout-loglevel = WARNING", HoconAddMode.Prepend)
                // Durar's actors journal key health and sessions: its journal (SQLite in dataDir) and its serializers.
                .WithDurarPersistence(PersistenceOptions.FromConfig(durarConfig, dataDir))
                // Sessions are Cluster Sharding entities, so the system runs Akka.Cluster: a single node that joins itself,
                // from gateway.cluster (an application that configures clustering itself adds ActorNames.NodeRole to its
                // roles instead). Durar's key actors alone need no cluster.
                .WithDurarCluster(durar)
                // Durar's provider registry and key actors.
                .WithDurarActors()
                // The session shard region (SessionRegionKey in the registry).
                .WithDurarSessions(durar)
                // The application's own actor, beside Durar's.
                .WithNotebook();
        });

        builder.Services.AddSingleton<Assistant>();
        return builder.Build();
    }
}
