using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Pattern;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.Providers;

namespace Durar.Actors.AuthProfiles;

/// <summary>
/// Marker type for the auth-profile store in Akka.Hosting's <see cref="ActorRegistry"/>: the store itself, or in a cluster
/// its singleton proxy (which reaches the store on whichever node it runs).
/// </summary>
internal sealed class AuthProfileStoreKey;

/// <summary>Marker type for this node's <see cref="AuthProfileSubscriberActor"/> (registered in a cluster only).</summary>
internal sealed class AuthProfileSubscriberKey;

internal static class AuthProfileStoreHostingExtensions
{
    /// <summary>The singleton proxy's actor name (the manager is <see cref="ActorNames.AuthProfiles"/>).</summary>
    public const string ProxyName = "auth-profiles-proxy";

    /// <summary>The actor name of the node's subscriber.</summary>
    public const string SubscriberName = "auth-profiles-subscriber";

    /// <summary>
    /// How often a proxy looks for the singleton while it has none: the first request after a start or a move waits for it
    /// (Akka's default is 1 s).
    /// </summary>
    private static readonly TimeSpan IdentificationInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Starts the auth-profile store when an <see cref="ISecretProtector"/> is registered (see
    /// <see cref="AuthProfilesServiceCollectionExtensions.AddDurarAuthProfiles"/>); without one, nothing happens. Needs the
    /// provider registry (<see cref="DurarHostingExtensions.WithDurarActors"/>) started before it. Without Akka.Cluster the
    /// store is a plain actor pushing to the registry; in a cluster it is a cluster singleton (role
    /// <see cref="ActorNames.NodeRole"/> when this node has it, as the key shards) behind a proxy, and this node's
    /// <see cref="AuthProfileSubscriberActor"/> feeds the registry.
    /// </summary>
    public static AkkaConfigurationBuilder WithDurarAuthProfiles(this AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, registry, resolver) =>
        {
            if (resolver.GetService<ISecretProtector>() is not { } protector) return;
            var catalog = resolver.GetService<ProviderCatalog>();
            var settings = resolver.GetService<DurarSettings>();
            var providers = registry.Get<ProvidersRegistryKey>();
            var known = catalog.Providers.Keys.ToImmutableHashSet(StringComparer.Ordinal);
            var clustered = ShardedKeys.IsClustered(system);
            var board = resolver.GetService<KeyLeaseBoard>();
            var store = clustered
                ? AuthProfileStoreActor.Props(protector, null, known, settings.Auth.Profiles, announceTo: SubscriberName)
                : AuthProfileStoreActor.Props(protector, providers, known, settings.Auth.Profiles, board: board);
            // A journal failure stops a persistent actor; the supervisor starts the store again (it recovers and pushes every
            // profile once more), and forwards commands to whichever incarnation is running.
            var backoff = settings.Auth.Keys.RestartBackoff;
            var supervised = BackoffSupervisor.Props(Backoff.OnStop(store, "store",
                backoff.MinBackoff, backoff.MaxBackoff, backoff.RandomFactor, maxNrOfRetries: -1));
            if (!clustered)
            {
                registry.Register<AuthProfileStoreKey>(system.ActorOf(supervised, ActorNames.AuthProfiles));
                return;
            }

            // One store for the whole cluster: every node writing the same persistence id would corrupt the shared journal.
            var role = Akka.Cluster.Cluster.Get(system).SelfRoles.Contains(ActorNames.NodeRole) ? ActorNames.NodeRole : null;
            var managerSettings = ClusterSingletonManagerSettings.Create(system);
            _ = ClusterSingletonProxySettings.Create(system); // injects the singleton defaults into the system's config
            // Akka.NET 1.5.7x starts the "failed to find the singleton after 30 seconds" timer with no initial delay: it warns
            // at once on every start and every move. The registry warns when the store stays silent (ProfilesTimeout) instead.
            var proxySettings = ClusterSingletonProxySettings.Create(
                    ConfigurationFactory.ParseString("log-singleton-identification-failure = off")
                        .WithFallback(system.Settings.Config.GetConfig("akka.cluster.singleton-proxy")), false)
                .WithSingletonIdentificationInterval(IdentificationInterval);
            if (role is not null)
            {
                managerSettings = managerSettings.WithRole(role);
                proxySettings = proxySettings.WithRole(role);
            }
            system.ActorOf(ClusterSingletonManager.Props(supervised, PoisonPill.Instance, managerSettings), ActorNames.AuthProfiles);
            var proxy = system.ActorOf(ClusterSingletonProxy.Props("/user/" + ActorNames.AuthProfiles, proxySettings), ProxyName);
            registry.Register<AuthProfileStoreKey>(proxy);
            registry.Register<AuthProfileSubscriberKey>(system.ActorOf(AuthProfileSubscriberActor.Props(proxy, providers, board: board), SubscriberName));
        });
}
