using Akka.Actor;
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
        builder.WithShardRegion<SessionRegionKey>(ShardTypeName,
            (_, _, resolver) =>
            {
                var services = new Lazy<SessionServices>(() => new SessionServices(
                    resolver.GetService<ChatRunner>(), resolver.GetService<ModelResolver>(), settings));
                return key => SessionActor.Props(key, services.Value);
            },
            new SessionMessageExtractor(),
            new ShardOptions { StateStoreMode = StateStoreMode.DData, RememberEntities = false, Role = Role });
        if (cluster.SeedNodes.IsEmpty)
            builder.AddStartup((system, _) =>
            {
                var c = Cluster.Get(system);
                c.Join(c.SelfAddress);
            });
        return builder;
    }
}
