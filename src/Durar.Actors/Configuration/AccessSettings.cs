using System.Collections.Immutable;
using System.Net;
using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// Who may reach the gateway and how hard a stranger may knock: the back-off of failed authentications per client address
/// (<c>gateway.auth.failures</c>), the shards of the client-token entities (<c>gateway.auth.clientTokens</c>) and the
/// reverse proxies whose forwarded headers are believed (<c>gateway.trustedProxies</c>). It exists so these are chosen in
/// <c>durar.conf</c> and validated once at start; nothing here repeats a default.
/// </summary>
/// <param name="FailureThreshold">Failed authentications from one address that are answered with a plain 401 before it has to wait.</param>
/// <param name="FailureBackoff">The first wait after the threshold; it doubles with every further failure.</param>
/// <param name="FailureMaxBackoff">The longest wait.</param>
/// <param name="FailureForgetAfter">An address with no failure for this long starts again from zero.</param>
/// <param name="TokenShards">Shards of the client-token entities (one persistent actor per token, cluster-wide).</param>
/// <param name="TokenSnapshotEvery">A client token's actor snapshots every this many journaled events (its usage is journaled per request).</param>
/// <param name="TrustedProxies">IP addresses and CIDR networks (<c>10.0.0.0/8</c>) whose <c>X-Forwarded-For</c> is believed; empty = none.</param>
public sealed record AccessSettings(
    int FailureThreshold,
    TimeSpan FailureBackoff,
    TimeSpan FailureMaxBackoff,
    TimeSpan FailureForgetAfter,
    int TokenShards,
    int TokenSnapshotEvery,
    ImmutableArray<string> TrustedProxies)
{
    /// <summary>The key that lists the trusted proxies.</summary>
    public const string TrustedProxiesPath = "gateway.trustedProxies";

    /// <summary>Reads the access settings from a configuration that has the defaults layered underneath.</summary>
    /// <exception cref="DurarConfigException">A value is missing, out of range, or not an address; the message names its key path.</exception>
    public static AccessSettings Read(Config config)
    {
        const string f = "gateway.auth.failures";
        var backoff = RequiredPositiveDuration(config, $"{f}.backoff");
        var max = RequiredPositiveDuration(config, $"{f}.maxBackoff");
        if (max < backoff) throw new DurarConfigException($"{f}.maxBackoff", $"must be at least {f}.backoff");
        var proxies = StringList(Child(config.Root, "gateway"), "trustedProxies", "gateway");
        for (var i = 0; i < proxies.Length; i++)
            if (!IsAddressOrNetwork(proxies[i]))
                throw new DurarConfigException($"{TrustedProxiesPath}[{i}]", $"\"{proxies[i]}\" is neither an IP address nor a CIDR network (10.0.0.0/8)");
        return new AccessSettings(
            (int)RequiredLong(config, $"{f}.threshold", 1, 1_000_000),
            backoff,
            max,
            RequiredPositiveDuration(config, $"{f}.forgetAfter"),
            (int)RequiredLong(config, "gateway.auth.clientTokens.shards", 1, 10_000),
            (int)RequiredLong(config, "gateway.auth.clientTokens.snapshotEvery", 1, 1_000_000),
            proxies);
    }

    private static bool IsAddressOrNetwork(string text) =>
        text.Contains('/') ? IPNetwork.TryParse(text, out _) : IPAddress.TryParse(text, out _);
}
