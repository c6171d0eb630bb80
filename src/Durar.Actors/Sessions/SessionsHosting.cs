using Akka.Actor;
using Akka.Event;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Routing;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions;

/// <summary>Marker for the session shard region in Akka.Hosting's registry.</summary>
public sealed class SessionRegionKey;

/// <summary>Routes session commands to entities by session key (a bounded number of shards).</summary>
public sealed class SessionMessageExtractor() : HashCodeMessageExtractor(MaxShards)
{
    public const int MaxShards = 100;

    public override string? EntityId(object message) => message is ISessionCommand c ? c.SessionKey : null;
}

/// <summary>
/// Remoting, clustering (a single-node cluster joining itself unless seed nodes are configured) and the session shard
/// region: DData coordinator state and remember-entities off (no replay of dead nodes' history at start).
/// </summary>
public static class SessionsHosting
{
    public const string ShardTypeName = "sessions";
    public const string Role = "durar";

    public static AkkaConfigurationBuilder WithDurarSessions(this AkkaConfigurationBuilder builder, DurarSettings settings)
    {
        var cluster = settings.Gateway.Cluster;
        builder.WithRemoting(cluster.Hostname, cluster.Port);
        // A session turn forwarded to the node that hosts the session carries the whole request (history, data: images):
        // frames must hold the largest body the HTTP API accepts, plus its JSON framing (Akka's default is 128 kB).
        var frame = Math.Max(128_000L, settings.Gateway.MaxBodyBytes * 3 / 2 + 65_536);
        builder.AddHocon($"akka.remote.dot-netty.tcp.maximum-frame-size = {frame}b", HoconAddMode.Prepend);
        // Split brain resolver: keep-majority (Akka's default strategy) — the side with most nodes survives a partition; the
        // minority downs itself, so a session never lives on two nodes at once. An even split keeps the side with the
        // lowest address. Three or more nodes are recommended.
        builder.WithClustering(new ClusterOptions
        {
            Roles = [Role],
            SeedNodes = [.. cluster.SeedNodes],
            SplitBrainResolver = Akka.Cluster.Hosting.SBR.SplitBrainResolverOption.Default,
        });
        // Session entities run on a mailbox that holds no queue while empty (an idle session's largest single cost).
        builder.AddHocon(SessionMailbox.Hocon, HoconAddMode.Append);
        builder.WithShardRegion<SessionRegionKey>(ShardTypeName,
            (_, _, resolver) =>
            {
                // One Props for every session: an entity reads its key from its name (no Props and producer per entity).
                var props = new Lazy<Props>(() => SessionActor.Props(new SessionServices(
                    resolver.GetService<ChatRunner>(), resolver.GetService<ModelResolver>(), settings)));
                return _ => props.Value;
            },
            new SessionMessageExtractor(),
            new ShardOptions { StateStoreMode = StateStoreMode.DData, RememberEntities = false, Role = Role });
        if (cluster.SeedNodes.IsEmpty && cluster.Discovery is { } discovery)
        {
            if (discovery.Method == "config")
                builder.AddHocon($"akka.discovery.config.services.{Quote(discovery.ServiceName)}.endpoints = [{string.Join(", ", discovery.Endpoints.Select(Quote))}]",
                    HoconAddMode.Prepend);
            builder.AddStartup((system, registry) => { _ = JoinDiscoveredAsync(system, discovery); });
        }
        else if (cluster.SeedNodes.IsEmpty)
            builder.AddStartup((system, _) =>
            {
                var c = Cluster.Get(system);
                c.Join(c.SelfAddress);
            });
        return builder;
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>
    /// Looks the cluster's nodes up with Akka.Discovery until it finds some (retrying every 2 s while the node runs), then
    /// joins them as seed nodes. Every node sorts them the same way, so the first one forms the cluster when it finds
    /// nobody else, and every other node joins whichever seed answers.
    /// </summary>
    private static async Task JoinDiscoveredAsync(ActorSystem system, ClusterDiscoverySettings discovery)
    {
        var log = Akka.Event.Logging.GetLogger(system, typeof(SessionsHosting));
        var cluster = Cluster.Get(system);
        var lookup = Akka.Discovery.Discovery.Get(system).LoadServiceDiscovery(discovery.Method);
        var protocol = cluster.SelfAddress.Protocol;
        while (!system.WhenTerminated.IsCompleted)
        {
            try
            {
                var resolved = await lookup.Lookup(discovery.ServiceName, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                var seeds = resolved.Addresses
                    .Where(t => t.Port is not null)
                    .Select(t => new Address(protocol, system.Name, t.Host, t.Port))
                    .Distinct()
                    .OrderBy(a => a.Host, StringComparer.Ordinal).ThenBy(a => a.Port)
                    .ToList();
                if (seeds.Count > 0)
                {
                    log.Info("Discovery [{0}] found {1} node(s) for [{2}]: joining {3}", discovery.Method, seeds.Count, discovery.ServiceName,
                        string.Join(", ", seeds));
                    cluster.JoinSeedNodes(seeds);
                    return;
                }
                log.Warning("Discovery [{0}] found no node with a port for [{1}]; retrying", discovery.Method, discovery.ServiceName);
            }
            catch (Exception e)
            {
                log.Warning("Discovery [{0}] lookup of [{1}] failed ({2}); retrying", discovery.Method, discovery.ServiceName, e.Message);
            }
            await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
    }
}
