using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Streams;
using Durar.Actors.AuthProfiles;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting.Logging;
using Durar.Actors.Models;
using Durar.Actors.Providers;
using Durar.Actors.Routing;
using Durar.Actors.Sessions;
using Durar.Actors.Telemetry;
using System.Diagnostics.Metrics;
using Durar.Actors.Transports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Durar.Actors.Hosting;

/// <summary>Marker type for the provider registry actor in Akka.Hosting's <see cref="ActorRegistry"/>.</summary>
public sealed class ProvidersRegistryKey;

/// <summary>
/// The ways to embed Durar in a .NET host: <see cref="AddDurarCore"/> registers the typed settings, catalog, resolver,
/// transports and the upstream HTTP client; <see cref="WithDurarActors"/> starts the provider actors inside an
/// Akka.Hosting actor system; <see cref="AddDurar"/> does both with a ready-made actor system.
/// </summary>
public static class DurarHostingExtensions
{
    /// <summary>Registers Durar's services from a HOCON configuration (defaults already layered underneath).</summary>
    /// <exception cref="DurarConfigException">The configuration is invalid; the message names the key path.</exception>
    public static IServiceCollection AddDurarCore(this IServiceCollection services, Config config)
    {
        var settings = DurarSettingsLoader.Load(config);
        var catalog = new ProviderCatalog(settings);
        var resolver = new ModelResolver(catalog, settings.Agents) { ImageModel = settings.ImageModel };
        ValidateAgentRefs(settings, resolver);
        Transports.Google.GoogleTransports.Validate(settings, catalog);
        ProviderConnections.Validate(catalog);

        services.AddSingleton(config);
        services.AddHostedService(sp => new ConfigWarnings(ConfigLint.Check(config), sp.GetRequiredService<ILogger<ConfigWarnings>>()));
        services.AddSingleton(settings);
        services.AddSingleton(settings.Gateway);
        services.AddSingleton(catalog);
        services.AddSingleton(resolver);
        services.AddSingleton(KeySources.FromEnvironment(settings.Env));
        var ollamaDiscovery = OllamaDiscoverySettings.Read(config);
        services.AddHostedService(sp => new Transports.Ollama.OllamaDiscovery(catalog, settings,
            p => sp.GetRequiredService<KeySources>().Collect(p) is { IsDefaultOrEmpty: false } keys ? keys[0].Secret ?? "" : null,
            sp.GetRequiredService<IHttpClientFactory>(), ollamaDiscovery, sp.GetRequiredService<ILogger<Transports.Ollama.OllamaDiscovery>>()));
        services.AddSingleton(sp => new TransportRegistry(sp.GetRequiredService<IHttpClientFactory>(), settings.Upstream, settings.GoogleCloud));
        services.TryAddSingleton<IOAuthTokenClient>(sp => new HttpOAuthTokenClient(sp.GetRequiredService<IHttpClientFactory>(), settings.OAuth));
        services.AddUpstreamHttpClient(settings.Upstream);
        services.AddProviderHttpClients(catalog, settings.Upstream);
        services.AddSingleton<IMaterializer>(sp => sp.GetRequiredService<ActorSystem>().Materializer());
        services.AddSingleton<KeyLeaseBoard>();
        // The meter "Durar" comes from the host's meter factory; an OpenTelemetry SDK (the gateway's, or the embedder's
        // AddMeter(TelemetryNames.Source)) collects it. Nothing is recorded while nobody listens.
        services.AddMetrics();
        services.TryAddSingleton(sp => new DurarTelemetry(sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<KeyLeaseBoard>()));
        // One run loop: chat and embeddings are two kinds of attempt of the same run (leases, rotation, failover, the run's
        // time limit, telemetry, usage).
        services.AddSingleton(sp => new RunLoop(
            sp.GetRequiredService<IRequiredActor<ProvidersRegistryKey>>().ActorRef,
            settings.Gateway,
            sp.GetRequiredService<ILogger<RunLoop>>(),
            board: sp.GetRequiredService<KeyLeaseBoard>(),
            runTimeoutSeconds: settings.Agents.TimeoutSeconds,
            telemetry: sp.GetRequiredService<DurarTelemetry>()));
        services.AddSingleton(sp => new ChatRunner(sp.GetRequiredService<RunLoop>(), sp.GetRequiredService<TransportRegistry>()));
        services.AddSingleton(sp => new EmbeddingRunner(sp.GetRequiredService<RunLoop>(), sp.GetRequiredService<TransportRegistry>()));
        // The in-process entry points: Microsoft.Extensions.AI's IChatClient and IEmbeddingGenerator over the same run.
        services.AddSingleton<DurarChatClient>();
        services.AddSingleton<Microsoft.Extensions.AI.IChatClient>(sp => sp.GetRequiredService<DurarChatClient>());
        services.AddSingleton<DurarEmbeddingGenerator>();
        services.AddSingleton<Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>>>(
            sp => sp.GetRequiredService<DurarEmbeddingGenerator>());
        return services;
    }

    /// <summary>Registers Durar's services and an Akka.Hosting actor system running the provider actors.</summary>
    public static IServiceCollection AddDurar(this IServiceCollection services, Config config,
        Action<AkkaConfigurationBuilder, IServiceProvider>? configure = null)
    {
        services.AddDurarCore(config);
        var settings = DurarSettingsLoader.Load(config);
        services.AddAkka("durar", (builder, sp) =>
        {
            builder.AddHocon(config, HoconAddMode.Prepend);
            // Akka's events into the host's logging, Akka's own start/stop chatter at Debug (DurarAkkaLogger), at the
            // level akka.loglevel names (Akka.Hosting would otherwise replace it with INFO).
            builder.ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLogger<DurarAkkaLogger>();
                loggers.LogLevel = AkkaLogLevels.Parse(config.GetString("akka.loglevel", null));
            });
            builder.AddHocon($"akka.stdout-logger-class = \"{typeof(DurarStdoutLogger).AssemblyQualifiedName}\"", HoconAddMode.Prepend);
            builder.WithDurarActors();
            builder.WithDurarCluster(settings);
            builder.WithDurarSessions(settings);
            configure?.Invoke(builder, sp);
        });
        return services;
    }

    /// <summary>
    /// Starts the provider registry (one provider actor per catalog provider, one key actor per key), and the auth-profile
    /// store when <see cref="AuthProfilesServiceCollectionExtensions.AddDurarAuthProfiles"/> registered its secret protector.
    /// </summary>
    public static AkkaConfigurationBuilder WithDurarActors(this AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, registry, resolver) =>
        {
            // Before any key actor starts: they find the telemetry through the actor system.
            if (resolver.GetService<DurarTelemetry>() is { } telemetry)
            {
                telemetry.Attach(system);
                system.ActorOf(DeadLetterMeterActor.Props(telemetry), ActorNames.DeadLetterMeter);
            }
            var catalog = resolver.GetService<ProviderCatalog>();
            var keys = resolver.GetService<KeySources>();
            var settings = resolver.GetService<DurarSettings>();
            var tokens = resolver.GetService<IOAuthTokenClient>();
            var profiles = resolver.GetService<ISecretProtector>() is not null;
            // In a cluster every key is one sharded actor for all nodes; without Akka.Cluster they are the providers' children.
            var sharded = ShardedKeys.IsClustered(system)
                ? ShardedKeys.Start(system, settings, tokens,
                    Akka.Cluster.Cluster.Get(system).SelfRoles.Contains(ActorNames.NodeRole) ? ActorNames.NodeRole : null)
                : null;
            var providers = system.ActorOf(ProviderRegistryActor.Props(catalog, keys, settings, tokens, awaitProfiles: profiles, hosting: sharded,
                    board: resolver.GetService<KeyLeaseBoard>()),
                ActorNames.Providers);
            registry.Register<ProvidersRegistryKey>(providers);
        })
        .WithDurarAuthProfiles();

    /// <summary>The default chain must resolve at start-up, not on the first request.</summary>
    private static void ValidateAgentRefs(DurarSettings settings, ModelResolver resolver)
    {
        if (settings.Agents.Primary is { } primary && resolver.Resolve(primary) is { Success: false } p)
            throw new DurarConfigException("agents.defaults.model.primary", p.Message!);
        for (var i = 0; i < settings.Agents.Fallbacks.Length; i++)
            if (resolver.Resolve(settings.Agents.Fallbacks[i]) is { Success: false } f)
                throw new DurarConfigException($"agents.defaults.model.fallbacks[{i}]", f.Message!);
        if (settings.ImageModel.Primary is { } image && resolver.Resolve(image) is { Success: false } im)
            throw new DurarConfigException("agents.defaults.imageModel", im.Message!);
        for (var i = 0; i < settings.ImageModel.Fallbacks.Length; i++)
            if (resolver.Resolve(settings.ImageModel.Fallbacks[i]) is { Success: false } f)
                throw new DurarConfigException($"agents.defaults.imageModel.fallbacks[{i}]", f.Message!);
    }
}
