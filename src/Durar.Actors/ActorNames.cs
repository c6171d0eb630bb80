namespace Durar.Actors;

/// <summary>Actor names and registry keys in one place (kebab-case), so paths are predictable in logs and tests.</summary>
public static class ActorNames
{
    public const string Providers = "providers";

    public const string AuthProfiles = "auth-profiles";

    /// <summary>Logs other nodes joining and leaving (<see cref="Hosting.Logging.ClusterMembershipLogActor"/>).</summary>
    public const string ClusterMembershipLog = "cluster-membership-log";

    /// <summary>The operator dashboard's feed on each gateway node (key changes, totals samples, cluster membership).</summary>
    public const string DashboardFeed = "dashboard-feed";

    /// <summary>The actor that counts this node's dead letters for the <c>akka.dead_letters</c> metric.</summary>
    public const string DeadLetterMeter = "dead-letter-meter";

    /// <summary>The cluster role of every gateway node: the session shards and cluster-wide actors run on nodes with it.</summary>
    public const string NodeRole = "durar";

    /// <summary>The shard type name of the session entities.</summary>
    public const string SessionsShard = "sessions";

    public static string Provider(string providerId) => "provider-" + Uri.EscapeDataString(providerId);

    public static string Key(string keyId) => "key-" + Uri.EscapeDataString(keyId);
}
