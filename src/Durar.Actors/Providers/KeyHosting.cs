using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Pattern;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Providers;

/// <summary>
/// Where a provider's key actors live, seen from the provider: it creates one child per key, its handle, and sends
/// everything for that key to the handle (or straight to the key actor once a push named it). Two kinds exist, one per
/// deployment: <see cref="LocalKeyHosting"/> (the key actors are the provider's own, under a backoff supervisor) and
/// <see cref="ShardedKeys"/> (one cluster-wide entity per key, reached through the key shard region).
/// </summary>
internal interface IKeyHosting
{
    /// <summary>The props of the provider's child that stands for the key (named <see cref="ActorNames.Key"/>).</summary>
    Props Handle(ApiKeyCredential credential, IActorRef? owner, KeyLimits limits, IActorRef provider);

    /// <summary>
    /// True when messages to a key still reach it after its actor stopped (sharding starts the entity again on the next
    /// message); false when the key is unreachable until its restarted actor pushes its state (the key is then "down").
    /// </summary>
    bool ReachableWhileStopped { get; }

    /// <summary>The provider serves this credential from now on (new, or a new secret for the same key).</summary>
    void Remember(ApiKeyCredential credential, IActorRef? owner, KeyLimits limits);

    /// <summary>The provider stopped serving the key (it was removed): called before its handle is stopped.</summary>
    void Forget(string keyId, IActorRef provider);

    /// <summary>The key actor refreshed its credential (OAuth): the handle, if it keeps a copy, takes the new one.</summary>
    void CredentialRefreshed(IActorRef handle, KeyCredentialChanged changed);
}

/// <summary>
/// The key actors of a node without Akka.Cluster (an embedder): each is the provider's grandchild under a
/// <see cref="BackoffSupervisor"/>, which starts it again, with jittered exponential backoff, when it stops on its own
/// (Akka.Persistence stops an actor whose journal write failed). The supervisor is the key's handle and forwards to it.
/// </summary>
internal sealed class LocalKeyHosting(KeySettings settings, IOAuthTokenClient? tokens) : IKeyHosting
{
    public bool ReachableWhileStopped => false;

    public Props Handle(ApiKeyCredential credential, IActorRef? owner, KeyLimits limits, IActorRef provider)
    {
        var backoff = settings.RestartBackoff;
        return BackoffSupervisor.Props(Backoff.OnStop(KeyActor.Props(credential, settings, tokens, owner, limits, provider), ActorNames.Key(credential.Id),
            backoff.MinBackoff, backoff.MaxBackoff, backoff.RandomFactor, maxNrOfRetries: -1));
    }

    public void Remember(ApiKeyCredential credential, IActorRef? owner, KeyLimits limits) { }

    public void Forget(string keyId, IActorRef provider) { }

    public void CredentialRefreshed(IActorRef handle, KeyCredentialChanged changed) { }
}

/// <summary>
/// This node's copy of the credentials its providers serve, by key id: a key entity that starts on this node (first use, or
/// taken over from a node that left) is created with its credential at once instead of waiting for a provider to attach.
/// </summary>
internal sealed class KeyDirectory
{
    public sealed record Entry(ApiKeyCredential Credential, IActorRef? Owner, KeyLimits Limits);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public Entry? Get(string keyId) => _entries.GetValueOrDefault(keyId);

    public void Set(Entry entry) => _entries[entry.Credential.Id] = entry;

    public void Remove(string keyId) => _entries.TryRemove(keyId, out _);
}

/// <summary>
/// Key actors as Cluster Sharding entities: one actor per key in the whole cluster, the single writer of its health and the
/// single counter of its per-minute limits. The handle of each key on each node is a <see cref="ShardedKeyHandleActor"/>,
/// which attaches the provider to the entity and re-attaches every <paramref name="Resync"/>. Remember-entities is off (an
/// entity comes back with its next message); a node leaving hands its keys off after writing their pending bookkeeping
/// (<see cref="KeyCommands.Stop"/>).
/// </summary>
/// <param name="Region">The key shard region (or its proxy).</param>
internal sealed record ShardedKeys(IActorRef Region, KeyDirectory Directory, TimeSpan Resync) : IKeyHosting
{
    public const string ShardTypeName = "keys";

    public bool ReachableWhileStopped => true;

    public Props Handle(ApiKeyCredential credential, IActorRef? owner, KeyLimits limits, IActorRef provider) =>
        ShardedKeyHandleActor.Props(Region, credential.Id, new KeyCommands.Attach(provider, credential, owner, limits), Resync);

    public void Remember(ApiKeyCredential credential, IActorRef? owner, KeyLimits limits) =>
        Directory.Set(new KeyDirectory.Entry(credential, owner, limits));

    public void Forget(string keyId, IActorRef provider)
    {
        // Straight to the region: a message to the handle could be dropped by the handle's stop that follows.
        Region.Tell(new ShardingEnvelope(keyId, new KeyCommands.Detach(provider)));
        Directory.Remove(keyId);
    }

    public void CredentialRefreshed(IActorRef handle, KeyCredentialChanged changed) => handle.Tell(changed);

    /// <summary>True when the actor system runs Akka.Cluster (the gateway always does; an embedder may not).</summary>
    public static bool IsClustered(ActorSystem system) =>
        system is ExtendedActorSystem { Provider: Akka.Cluster.ClusterActorRefProvider };

    /// <summary>Starts this node's key shard region (entities are created with the credential this node knows, if any).</summary>
    public static ShardedKeys Start(ActorSystem system, DurarSettings settings, IOAuthTokenClient? tokens, string? role)
    {
        var directory = new KeyDirectory();
        var sharding = ClusterSharding.Get(system);
        var shardingSettings = ClusterShardingSettings.Create(system).WithRememberEntities(false).WithRole(role);
        var region = sharding.Start(ShardTypeName,
            id => KeyActor.ShardedProps(id, directory.Get(id), settings.Auth.Keys, tokens),
            shardingSettings,
            new KeyMessageExtractor(settings.Auth.Keys.Shards),
            sharding.DefaultShardAllocationStrategy(shardingSettings),
            KeyCommands.Stop.Instance);
        return new ShardedKeys(region, directory, settings.Gateway.Cluster.KeyResync);
    }
}

/// <summary>
/// Key messages travel in a <see cref="ShardingEnvelope"/> (wrapped by <see cref="ShardedKeyHandleActor"/>) whose entity id is
/// the key id; Akka's extractor adapter unwraps envelopes itself, so nothing else is routable.
/// </summary>
internal sealed class KeyMessageExtractor(int maxShards) : HashCodeMessageExtractor(maxShards)
{
    public override string? EntityId(object message) => null;
}

/// <summary>
/// A provider's handle on one sharded key: it attaches the provider to the key's entity when it starts and every resync
/// interval (which also re-creates an entity whose node left), and passes everything it receives to the entity, wherever it
/// runs, with the original sender. The provider sends straight to the entity once a push named it, and to this handle while
/// it does not know where the entity is.
/// </summary>
internal sealed class ShardedKeyHandleActor : ReceiveActor, IWithTimers
{
    private const string ResyncTimer = "resync";

    private readonly IActorRef _region;
    private readonly string _keyId;
    private KeyCommands.Attach _attach;
    private readonly TimeSpan _resync;

    public ITimerScheduler Timers { get; set; } = null!;

    public ShardedKeyHandleActor(IActorRef region, string keyId, KeyCommands.Attach attach, TimeSpan resync)
    {
        _region = region;
        _keyId = keyId;
        _attach = attach;
        _resync = resync;
        Receive<Resync>(_ => ToEntity(_attach));
        Receive<KeyCommands.UpdateCredential>(update =>
        {
            // Later attaches carry the new credential (an entity started on another node learns it from them).
            _attach = _attach with { Credential = update.Credential, Owner = update.Owner };
            ToEntity(update);
        });
        // The entity refreshed its token: later attaches must not carry the old one.
        Receive<KeyCredentialChanged>(changed => _attach = _attach with { Credential = changed.Credential });
        ReceiveAny(ToEntity);
    }

    private void ToEntity(object message) => _region.Tell(new ShardingEnvelope(_keyId, message), Sender);

    protected override void PreStart()
    {
        ToEntity(_attach);
        Timers.StartPeriodicTimer(ResyncTimer, Resync.Instance, _resync);
    }

    public static Props Props(IActorRef region, string keyId, KeyCommands.Attach attach, TimeSpan resync) =>
        Akka.Actor.Props.Create(() => new ShardedKeyHandleActor(region, keyId, attach, resync));

    private sealed class Resync : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static readonly Resync Instance = new();
        private Resync() { }
    }
}
