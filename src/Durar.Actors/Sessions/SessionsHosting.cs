using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Durar.Actors.ClientTokens;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Routing;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions;

/// <summary>Marker for the session shard region in Akka.Hosting's registry.</summary>
public sealed class SessionRegionKey;

/// <summary>Routes session commands to entities by session key, over <c>gateway.sessions.shards</c> shards.</summary>
public sealed class SessionMessageExtractor(int maxShards) : HashCodeMessageExtractor(maxShards)
{
    public override string? EntityId(object message) => message is ISessionCommand c ? c.SessionKey : null;
}

/// <summary>
/// The session shard region: DData coordinator state and remember-entities off (no replay of dead nodes' history at
/// start), on nodes with <see cref="ActorNames.NodeRole"/>. It needs the cluster started by <c>Hosting.ClusterHosting.WithDurarCluster</c>.
/// </summary>
public static class SessionsHosting
{
    /// <summary>
    /// Starts the session shard region and registers it as <see cref="SessionRegionKey"/>. Sessions are hosted on cluster
    /// members with the role <see cref="ActorNames.NodeRole"/>: <c>WithDurarCluster</c> gives the node that role; a host
    /// that configures clustering itself adds the role to its own <c>ClusterOptions.Roles</c>. Session entities journal
    /// through the actor system's default journal (<c>WithDurarPersistence</c>).
    /// </summary>
    public static AkkaConfigurationBuilder WithDurarSessions(this AkkaConfigurationBuilder builder, DurarSettings settings)
    {
        // Session entities run on a mailbox that holds no queue while empty (an idle session's largest single cost).
        builder.AddHocon(SessionMailbox.Hocon, HoconAddMode.Append);
        builder.WithShardRegion<SessionRegionKey>(ActorNames.SessionsShard,
            (_, registry, resolver) =>
            {
                // One Props for every session: an entity reads its key from its name (no Props and producer per entity). The
                // client-token region (the gateway's, registered by then) is looked up when the first session starts.
                var props = new Lazy<Props>(() => SessionActor.Props(new SessionServices(
                    resolver.GetService<ChatRunner>(), resolver.GetService<ModelResolver>(), settings)
                {
                    ClientTokens = registry.TryGet<ClientTokenRegionKey>(out var tokens) ? tokens : ActorRefs.Nobody,
                }));
                return _ => props.Value;
            },
            new SessionMessageExtractor(settings.Gateway.SessionHosting.Shards),
            // Sessions passivate themselves when idle with no run in flight (SessionIdleSweeper); sharding's own idle passivation
            // would stop one in the middle of a long run. Off here, for this region, so a host's own akka.cluster.sharding
            // settings (an embedder's actor system, without durar.conf's akka section) cannot switch it back on.
            new ShardOptions
            {
                StateStoreMode = StateStoreMode.DData, RememberEntities = false, Role = ActorNames.NodeRole, ShouldPassivateIdleEntities = false,
            });
        return builder;
    }
}
