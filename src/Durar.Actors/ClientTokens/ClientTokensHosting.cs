using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Durar.Actors.ClientTokens.Messages;
using Durar.Actors.Configuration;

namespace Durar.Actors.ClientTokens;

/// <summary>Marker for the client-token shard region in Akka.Hosting's registry.</summary>
internal sealed class ClientTokenRegionKey;

/// <summary>Routes client-token commands by token id, and the index's commands to its one entity.</summary>
internal sealed class ClientTokenMessageExtractor(int maxShards) : HashCodeMessageExtractor(maxShards)
{
    public override string? EntityId(object message) => message switch
    {
        IClientTokenCommand c => c.TokenId,
        IClientTokenIndexCommand => ClientTokensHosting.IndexEntityId,
        _ => null,
    };
}

/// <summary>
/// The client-token shard region (the gateway's, which always runs a cluster): one entity per token, plus the index entity,
/// DData coordinator state and no remember-entities, on nodes with <see cref="ActorNames.NodeRole"/>. Idle entities are
/// passivated by sharding (a token's rpm window is a minute: an entity idle for longer has nothing in it to lose).
/// </summary>
internal static class ClientTokensHosting
{
    /// <summary>The shard type name.</summary>
    public const string ShardName = "client-tokens";

    /// <summary>The index's entity id: never a token id (those are 16 hex digits).</summary>
    public const string IndexEntityId = "index";

    public static AkkaConfigurationBuilder WithDurarClientTokens(this AkkaConfigurationBuilder builder, AccessSettings settings)
    {
        builder.WithShardRegion<ClientTokenRegionKey>(ShardName,
            id => id == IndexEntityId ? ClientTokenIndexActor.Props(settings.TokenSnapshotEvery) : ClientTokenActor.Props(id, settings.TokenSnapshotEvery),
            new ClientTokenMessageExtractor(settings.TokenShards),
            new ShardOptions { StateStoreMode = StateStoreMode.DData, RememberEntities = false, Role = ActorNames.NodeRole });
        return builder;
    }
}
