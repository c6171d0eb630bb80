using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// <c>auth.keys</c>: how the key actors and their providers run (recovery at start, usage batching, snapshots, restarts,
/// OAuth refresh, cluster sharding). The cooldown schedules themselves are <see cref="CooldownSettings"/> (<c>auth.cooldowns</c>).
/// Every value comes from <c>config/hocon/durar.conf</c>, which is always layered underneath a user's file.
/// </summary>
/// <param name="RecoveryTimeout">How long a provider holds leases at start while its keys read back their persisted health.</param>
/// <param name="ProfilesLoadTimeout">How long leases wait at start for the auth-profile store to push its recovered profiles.</param>
/// <param name="UsageFlushInterval">How long batched successes of healthy plain keys wait before they go to their key actors.</param>
/// <param name="SnapshotEvery">A key actor saves a snapshot of its health every this many events.</param>
/// <param name="Shards">The number of key shards in a cluster (fixed for the life of a cluster: every node must agree).</param>
public sealed record KeySettings(
    CooldownSettings Cooldowns,
    TimeSpan RecoveryTimeout,
    TimeSpan ProfilesLoadTimeout,
    TimeSpan UsageFlushInterval,
    int SnapshotEvery,
    int Shards,
    RestartBackoffSettings RestartBackoff,
    OAuthRefreshSettings OAuth)
{
    private const string Path = "auth.keys";

    /// <summary>The values of the built-in defaults file.</summary>
    public static KeySettings Default => DurarSettings.Defaults.Auth.Keys;

    internal static KeySettings Read(Config config, CooldownSettings cooldowns) => new(
        cooldowns,
        RequiredPositiveDuration(config, $"{Path}.recoveryTimeout"),
        RequiredPositiveDuration(config, $"{Path}.profilesLoadTimeout"),
        RequiredPositiveDuration(config, $"{Path}.usageFlushInterval"),
        (int)RequiredLong(config, $"{Path}.snapshotEvery", 1, int.MaxValue),
        (int)RequiredLong(config, $"{Path}.shards", 1, 10_000),
        RestartBackoffSettings.Read(config, $"{Path}.restartBackoff"),
        OAuthRefreshSettings.Read(config, $"{Path}.oauth"));
}

/// <summary>
/// A persistent actor that stops on its own (Akka.Persistence stops an actor whose journal write failed) is started again by a
/// backoff supervisor: first after <see cref="MinBackoff"/>, doubling up to <see cref="MaxBackoff"/>, each delay stretched by a
/// random share up to <see cref="RandomFactor"/> so that many actors failing together do not come back together.
/// </summary>
public sealed record RestartBackoffSettings(TimeSpan MinBackoff, TimeSpan MaxBackoff, double RandomFactor)
{
    internal static RestartBackoffSettings Read(Config config, string path)
    {
        var min = RequiredPositiveDuration(config, $"{path}.minBackoff");
        var max = RequiredPositiveDuration(config, $"{path}.maxBackoff");
        if (max < min) throw new DurarConfigException($"{path}.maxBackoff", $"must not be below minBackoff ({min})");
        return new RestartBackoffSettings(min, max, RequiredDouble(config, $"{path}.randomFactor", 0, 1));
    }
}

/// <summary>
/// <c>auth.keys.oauth</c>: an OAuth profile's key actor refreshes its access token <see cref="RefreshMargin"/> before it expires,
/// gives the token endpoint <see cref="RefreshTimeout"/>, sends leases elsewhere for <see cref="RetryDelay"/> after a failed
/// refresh, and assumes <see cref="DefaultTokenLifetime"/> when the endpoint omits <c>expires_in</c> (RFC 6749 leaves it optional).
/// </summary>
public sealed record OAuthRefreshSettings(TimeSpan RefreshMargin, TimeSpan RefreshTimeout, TimeSpan RetryDelay, TimeSpan DefaultTokenLifetime)
{
    internal static OAuthRefreshSettings Read(Config config, string path) => new(
        Duration(config, $"{path}.refreshMargin"),
        RequiredPositiveDuration(config, $"{path}.refreshTimeout"),
        Duration(config, $"{path}.retryDelay"),
        RequiredPositiveDuration(config, $"{path}.defaultTokenLifetime"));
}
