using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Providers;

/// <summary>
/// This node's copy of the credentials its providers serve, by key id: a key entity that starts on this node (first use, or
/// taken over from a node that left) is created with its credential at once instead of waiting for a provider to attach.
/// </summary>
public sealed class KeyDirectory
{
    public sealed record Entry(ApiKeyCredential Credential, IActorRef? Owner, KeyLimits Limits);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public Entry? Get(string keyId) => _entries.GetValueOrDefault(keyId);

    public void Set(Entry entry) => _entries[entry.Credential.Id] = entry;

    public void Remove(string keyId) => _entries.TryRemove(keyId, out _);
}

/// <summary>The key shard region of a clustered node, with what provider actors need to reach it.</summary>
public sealed record ShardedKeys(IActorRef Region, KeyDirectory Directory, TimeSpan Resync);

/// <summary>
/// Key messages travel in a <see cref="ShardingEnvelope"/> (wrapped by <see cref="KeyProxy"/>) whose entity id is the key
/// id; Akka's extractor adapter unwraps envelopes itself, so nothing else is routable.
/// </summary>
public sealed class KeyMessageExtractor() : HashCodeMessageExtractor(MaxShards)
{
    public const int MaxShards = 32;

    public override string? EntityId(object message) => null;
}

/// <summary>
/// Key actors as Cluster Sharding entities: one actor per key in the whole cluster, the single writer of its health and the
/// single counter of its per-minute limits. Remember-entities is off (an entity comes back with its next message, and
/// providers re-attach every <see cref="ClusterSettings.KeyResync"/>); a node leaving hands its keys off after writing
/// their pending bookkeeping (<see cref="KeyCommands.Stop"/>).
/// </summary>
public static class KeyHosting
{
    public const string ShardTypeName = "keys";

    /// <summary>True when the actor system runs Akka.Cluster (the gateway always does; an embedder may not).</summary>
    public static bool IsClustered(ActorSystem system) =>
        system is ExtendedActorSystem { Provider: Akka.Cluster.ClusterActorRefProvider };

    public static ShardedKeys Start(ActorSystem system, DurarSettings settings, IOAuthTokenClient? tokens, string? role)
    {
        var directory = new KeyDirectory();
        var sharding = ClusterSharding.Get(system);
        var shardingSettings = ClusterShardingSettings.Create(system).WithRememberEntities(false).WithRole(role);
        var region = sharding.Start(ShardTypeName,
            id => KeyActor.ShardedProps(id, directory.Get(id), settings.Auth.Cooldowns, tokens),
            shardingSettings,
            new KeyMessageExtractor(),
            sharding.DefaultShardAllocationStrategy(shardingSettings),
            KeyCommands.Stop.Instance);
        return new ShardedKeys(region, directory, settings.Gateway.Cluster.KeyResync);
    }
}

/// <summary>
/// A provider's local handle on one sharded key: everything sent to it goes to the key's entity, wherever it runs, with
/// the original sender. Outcome reports and leases name this handle, so they follow the entity when it moves.
/// </summary>
public sealed class KeyProxy(IActorRef region, string keyId) : UntypedActor
{
    protected override void OnReceive(object message) => region.Tell(new ShardingEnvelope(keyId, message), Sender);

    public static Props Props(IActorRef region, string keyId) => Akka.Actor.Props.Create(() => new KeyProxy(region, keyId));
}
