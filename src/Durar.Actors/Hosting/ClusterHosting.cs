using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Event;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Durar.Actors.Configuration;

namespace Durar.Actors.Hosting;

/// <summary>
/// The cluster bootstrap of a gateway node: remoting (address and frame size), clustering with the split brain resolver,
/// and how the node joins, from the seed nodes, from Akka.Discovery, or by itself as a single-node cluster. It lives with
/// hosting because every clustered feature (session shards, key shards, the auth-profile singleton) builds on it and
/// none of them owns it.
/// </summary>
public static class ClusterHosting
{
    /// <summary>Adds remoting and clustering for <paramref name="settings"/>' <c>gateway.cluster</c> to the actor system.</summary>
    public static AkkaConfigurationBuilder WithDurarCluster(this AkkaConfigurationBuilder builder, DurarSettings settings)
    {
        var cluster = settings.Gateway.Cluster;
        var bootstrap = settings.Gateway.ClusterBootstrap;
        builder.WithRemoting(cluster.Hostname, cluster.Port);
        ClusterTls.Apply(builder, cluster.Tls);
        // Sized by gateway.cluster.maximumFrameSize (see ClusterBootstrapSettings.FrameSizeFor for the default's reason).
        builder.AddHocon($"akka.remote.dot-netty.tcp.maximum-frame-size = {bootstrap.MaximumFrameSize}b", HoconAddMode.Prepend);
        // Split brain resolver: keep-majority (Akka's default strategy) — the side with most nodes survives a partition; the
        // minority downs itself, so a session never lives on two nodes at once. An even split keeps the side with the
        // lowest address. Three or more nodes are recommended.
        builder.WithClustering(new ClusterOptions
        {
            Roles = [ActorNames.NodeRole],
            SeedNodes = [.. cluster.SeedNodes.Select(seed => ClusterTls.SeedFor(seed, cluster.Tls.Enabled))],
            SplitBrainResolver = Akka.Cluster.Hosting.SBR.SplitBrainResolverOption.Default,
        });
        builder.WithActors((system, _) => system.ActorOf(Props.Create<Logging.ClusterMembershipLogActor>(), ActorNames.ClusterMembershipLog));
        if (cluster.SeedNodes.IsEmpty && cluster.Discovery is { } discovery)
        {
            if (discovery.Method == "config")
                builder.AddHocon($"akka.discovery.config.services.{Quote(discovery.ServiceName)}.endpoints = [{string.Join(", ", discovery.Endpoints.Select(Quote))}]",
                    HoconAddMode.Prepend);
            builder.AddStartup((system, registry) => { _ = JoinDiscoveredAsync(system, discovery, bootstrap); });
        }
        else if (cluster.SeedNodes.IsEmpty)
            builder.AddStartup((system, _) =>
            {
                var c = Cluster.Get(system);
                c.Join(c.SelfAddress);
            });
        return builder;
    }

    /// <summary>Always quoted (a service name with a dot is one key, not a path).</summary>
    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>
    /// Looks the cluster's nodes up with Akka.Discovery until it finds some (retrying while the node runs), then joins them
    /// as seed nodes. Every node sorts them the same way, so the first one forms the cluster when it finds nobody else, and
    /// every other node joins whichever seed answers. The first one joins only once a lookup found
    /// <see cref="ClusterBootstrapSettings.RequiredContactPoints"/> nodes, so a node that sees only itself never forms a
    /// second cluster.
    /// </summary>
    private static async Task JoinDiscoveredAsync(ActorSystem system, ClusterDiscoverySettings discovery, ClusterBootstrapSettings bootstrap)
    {
        var log = Akka.Event.Logging.GetLogger(system, typeof(ClusterHosting));
        var cluster = Cluster.Get(system);
        var lookup = Akka.Discovery.Discovery.Get(system).LoadServiceDiscovery(discovery.Method);
        var protocol = cluster.SelfAddress.Protocol;
        while (!system.WhenTerminated.IsCompleted)
        {
            try
            {
                var resolved = await lookup.Lookup(discovery.ServiceName, bootstrap.DiscoveryLookupTimeout).ConfigureAwait(false);
                var seeds = resolved.Addresses
                    .Where(t => t.Port is not null)
                    .Select(t => new Address(protocol, system.Name, t.Host, t.Port))
                    .Distinct()
                    .OrderBy(a => a.Host, StringComparer.Ordinal).ThenBy(a => a.Port)
                    .ToList();
                // Only the first node in address order can form a cluster (it is the first seed); it waits for enough contact points.
                var wouldForm = seeds.Count > 0 && seeds[0] == cluster.SelfAddress;
                if (wouldForm && seeds.Count < bootstrap.RequiredContactPoints)
                {
                    log.Info("Discovery [{0}] found {1} node(s) for [{2}], this node first; waiting for {3} before forming a new cluster " +
                             "(gateway.cluster.discovery.requiredContactPoints)", discovery.Method, seeds.Count, discovery.ServiceName,
                        bootstrap.RequiredContactPoints);
                }
                else if (seeds.Count > 0)
                {
                    log.Info("Discovery [{0}] found {1} node(s) for [{2}]: joining {3}", discovery.Method, seeds.Count, discovery.ServiceName,
                        string.Join(", ", seeds));
                    cluster.JoinSeedNodes(seeds);
                    return;
                }
                else
                {
                    log.Warning("Discovery [{0}] found no node with a port for [{1}]; retrying", discovery.Method, discovery.ServiceName);
                }
            }
            catch (Exception e)
            {
                log.Warning("Discovery [{0}] lookup of [{1}] failed ({2}); retrying", discovery.Method, discovery.ServiceName, e.Message);
            }
            await Task.Delay(bootstrap.DiscoveryRetryInterval).ConfigureAwait(false);
        }
    }
}
