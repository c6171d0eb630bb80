using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// How a node joins its cluster, beyond the address and seeds of <see cref="ClusterSettings"/>: the largest remoting
/// frame (<c>gateway.cluster.maximumFrameSize</c>) and the pace of the Akka.Discovery seed lookup
/// (<c>gateway.cluster.discovery.lookupTimeout</c>, <c>retryInterval</c>). It exists so the cluster bootstrap
/// (<c>Hosting.ClusterHosting</c>) reads these knobs from <c>durar.conf</c> instead of holding them as constants.
/// </summary>
/// <param name="MaximumFrameSize">
/// Bytes; the effective value (an unset key resolves to <see cref="FrameSizeFor"/> of <c>gateway.http.maxBodyBytes</c>).
/// </param>
/// <param name="DiscoveryLookupTimeout">How long one discovery lookup may take before it counts as failed.</param>
/// <param name="DiscoveryRetryInterval">The pause between lookups while no node was found.</param>
/// <param name="RequiredContactPoints">
/// Nodes a lookup must find (itself included) before this node may form a new cluster (Akka Cluster Bootstrap's rule).
/// </param>
public sealed record ClusterBootstrapSettings(long MaximumFrameSize, TimeSpan DiscoveryLookupTimeout, TimeSpan DiscoveryRetryInterval,
    int RequiredContactPoints)
{
    private const string ClusterPath = "gateway.cluster";
    private const string DiscoveryPath = ClusterPath + ".discovery";
    private const string MaxBodyPath = "gateway.http.maxBodyBytes";

    /// <summary>Akka's own default frame; a frame is never configured below it.</summary>
    private const long AkkaDefaultFrame = 128_000;

    /// <summary>The values of the built-in <c>durar.conf</c>.</summary>
    public static readonly ClusterBootstrapSettings Default = Read(DurarSettingsLoader.Defaults);

    /// <summary>
    /// The frame a session turn needs: a turn forwarded to the node that hosts its session carries the whole request
    /// (history, <c>data:</c> images), so a frame holds the largest body the HTTP API accepts once JSON-escaped again
    /// (×1.5), plus 64 KiB of framing, and never less than Akka's default 128 kB.
    /// </summary>
    public static long FrameSizeFor(long maxBodyBytes) => Math.Max(AkkaDefaultFrame, maxBodyBytes * 3 / 2 + 65_536);

    /// <summary>Reads and checks the keys; <paramref name="config"/> has the defaults layered underneath.</summary>
    /// <exception cref="DurarConfigException">A value is malformed or out of range; the message names its key path.</exception>
    public static ClusterBootstrapSettings Read(Config config)
    {
        var gateway = Child(config.Root, "gateway");
        var maxBody = Long(Child(gateway, "http"), "maxBodyBytes", "gateway.http")
            ?? throw new DurarConfigException(MaxBodyPath, "is required");
        var cluster = Child(gateway, "cluster");
        var needed = FrameSizeFor(maxBody);
        var frame = string.IsNullOrWhiteSpace(String(cluster, "maximumFrameSize", ClusterPath))
            ? needed
            : Long(cluster, "maximumFrameSize", ClusterPath)!.Value;
        if (frame < needed)
            throw new DurarConfigException($"{ClusterPath}.maximumFrameSize",
                $"{frame} bytes is below the {needed} bytes a session turn of gateway.http.maxBodyBytes ({maxBody}) needs between nodes");
        var contactPoints = Long(Child(cluster, "discovery"), "requiredContactPoints", DiscoveryPath)
            ?? throw new DurarConfigException($"{DiscoveryPath}.requiredContactPoints", "is required");
        if (contactPoints is < 1 or > 1000)
            throw new DurarConfigException($"{DiscoveryPath}.requiredContactPoints", $"must be between 1 and 1000 (got {contactPoints})");
        return new ClusterBootstrapSettings(frame,
            RequiredPositiveDuration(config, $"{DiscoveryPath}.lookupTimeout"),
            RequiredPositiveDuration(config, $"{DiscoveryPath}.retryInterval"),
            (int)contactPoints);
    }
}
