using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// <c>auth.keys</c> (<see cref="KeySettings"/>): the defaults file loads with the documented values (and is what
/// <see cref="KeySettings.Default"/> and <see cref="CooldownSettings.Default"/> return), a user file overrides single values,
/// and every bad value stops start-up with a <see cref="DurarConfigException"/> naming its key path.
/// </summary>
public sealed class KeySettingsSpecs
{
    private static DurarSettings Load(string hocon) => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon));

    /// <summary>Akka's HOCON reader does not parse a negative duration at all: "-5s" fails as a malformed duration.</summary>
    private const string Unparsable = "expected a duration such as 5s or 2m";

    private static DurarConfigException Fail(string hocon) => Assert.Throws<DurarConfigException>(() => Load(hocon));

    [Fact]
    public void Should_load_the_documented_defaults()
    {
        var keys = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Auth.Keys;

        Assert.Equal(TimeSpan.FromSeconds(15), keys.RecoveryTimeout);
        Assert.Equal(TimeSpan.FromSeconds(15), keys.ProfilesLoadTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), keys.UsageFlushInterval);
        Assert.Equal(100, keys.SnapshotEvery);
        Assert.Equal(32, keys.Shards);
        Assert.Equal(new RestartBackoffSettings(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2), keys.RestartBackoff);
        Assert.Equal(new OAuthRefreshSettings(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), TimeSpan.FromHours(1)),
            keys.OAuth);
    }

    [Fact]
    public void Should_serve_the_defaults_files_values_as_the_code_defaults()
    {
        Assert.Same(DurarSettings.Defaults.Auth.Keys, KeySettings.Default);
        Assert.Same(DurarSettings.Defaults.Auth.Cooldowns, CooldownSettings.Default);
        Assert.Same(KeySettings.Default.Cooldowns, CooldownSettings.Default);
        Assert.Equal(new[] { TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(5) }, CooldownSettings.Default.Schedule);
        Assert.Equal(3, CooldownSettings.Default.TransientThreshold);
    }

    [Fact]
    public void Should_override_single_values_from_a_user_file()
    {
        var keys = Load("""
            auth.keys { shards = 8, recoveryTimeout = 2s, restartBackoff.randomFactor = 0, oauth.refreshMargin = 0s }
            auth.cooldowns.transientThreshold = 1
            """).Auth.Keys;

        Assert.Equal(8, keys.Shards);
        Assert.Equal(TimeSpan.FromSeconds(2), keys.RecoveryTimeout);
        Assert.Equal(0.0, keys.RestartBackoff.RandomFactor);
        Assert.Equal(TimeSpan.Zero, keys.OAuth.RefreshMargin);
        Assert.Equal(1, keys.Cooldowns.TransientThreshold);
        // Everything else keeps its default.
        Assert.Equal(KeySettings.Default.ProfilesLoadTimeout, keys.ProfilesLoadTimeout);
        Assert.Equal(KeySettings.Default.SnapshotEvery, keys.SnapshotEvery);
        Assert.Equal(KeySettings.Default.RestartBackoff.MaxBackoff, keys.RestartBackoff.MaxBackoff);
        Assert.Equal(KeySettings.Default.OAuth.DefaultTokenLifetime, keys.OAuth.DefaultTokenLifetime);
    }

    [Theory]
    [InlineData(1000, 1000, 0.0)]   // maxBackoff may equal minBackoff; randomFactor 0 and 1 are inclusive bounds
    [InlineData(250, 2000, 0.5)]
    [InlineData(2000, 60000, 1.0)]
    public void Should_accept_a_restart_backoff_within_its_bounds(int minMs, int maxMs, double randomFactor)
    {
        var backoff = Load(FormattableString.Invariant(
            $"auth.keys.restartBackoff {{ minBackoff = {minMs}ms, maxBackoff = {maxMs}ms, randomFactor = {randomFactor} }}")).Auth.Keys.RestartBackoff;

        Assert.Equal(new RestartBackoffSettings(TimeSpan.FromMilliseconds(minMs), TimeSpan.FromMilliseconds(maxMs), randomFactor), backoff);
    }

    [Theory]
    [InlineData("recoveryTimeout = 0s", "auth.keys.recoveryTimeout", "must be a positive duration")]
    [InlineData("recoveryTimeout = -5s", "auth.keys.recoveryTimeout", Unparsable)]
    [InlineData("profilesLoadTimeout = 0s", "auth.keys.profilesLoadTimeout", "must be a positive duration")]
    [InlineData("profilesLoadTimeout = -1m", "auth.keys.profilesLoadTimeout", Unparsable)]
    [InlineData("usageFlushInterval = 0ms", "auth.keys.usageFlushInterval", "must be a positive duration")]
    [InlineData("usageFlushInterval = -1s", "auth.keys.usageFlushInterval", Unparsable)]
    [InlineData("snapshotEvery = 0", "auth.keys.snapshotEvery", "must be between 1 and 2147483647 (got 0)")]
    [InlineData("snapshotEvery = -3", "auth.keys.snapshotEvery", "must not be negative (got -3)")]
    [InlineData("snapshotEvery = ten", "auth.keys.snapshotEvery", "expected a whole number, got \"ten\"")]
    [InlineData("shards = 0", "auth.keys.shards", "must be between 1 and 10000 (got 0)")]
    [InlineData("shards = 10001", "auth.keys.shards", "must be between 1 and 10000 (got 10001)")]
    [InlineData("restartBackoff.minBackoff = 0s", "auth.keys.restartBackoff.minBackoff", "must be a positive duration")]
    [InlineData("restartBackoff.maxBackoff = 0s", "auth.keys.restartBackoff.maxBackoff", "must be a positive duration")]
    [InlineData("restartBackoff.maxBackoff = 500ms", "auth.keys.restartBackoff.maxBackoff", "must not be below minBackoff (00:00:01)")]
    [InlineData("restartBackoff { minBackoff = 1m, maxBackoff = 30s }", "auth.keys.restartBackoff.maxBackoff", "must not be below minBackoff (00:01:00)")]
    [InlineData("restartBackoff.randomFactor = 1.5", "auth.keys.restartBackoff.randomFactor", "must be between 0 and 1 (got 1.5)")]
    [InlineData("restartBackoff.randomFactor = -0.1", "auth.keys.restartBackoff.randomFactor", "must not be negative (got -0.1)")]
    [InlineData("oauth.refreshMargin = -1s", "auth.keys.oauth.refreshMargin", Unparsable)]
    [InlineData("oauth.refreshTimeout = 0s", "auth.keys.oauth.refreshTimeout", "must be a positive duration")]
    [InlineData("oauth.retryDelay = -1s", "auth.keys.oauth.retryDelay", Unparsable)]
    [InlineData("oauth.defaultTokenLifetime = 0s", "auth.keys.oauth.defaultTokenLifetime", "must be a positive duration")]
    [InlineData("recoveryTimeout = soon", "auth.keys.recoveryTimeout", "expected a duration such as 5s or 2m")]
    public void Should_name_the_key_path_of_a_bad_value(string setting, string path, string problem)
    {
        var e = Fail($"auth.keys {{ {setting} }}");

        Assert.Equal(path, e.Path);
        Assert.StartsWith(problem, e.Problem);
        Assert.Equal($"{path}: {e.Problem}", e.Message);
    }

    [Fact]
    public void Should_stop_start_up_on_a_bad_key_setting()
    {
        var e = Assert.Throws<DurarConfigException>(() =>
            new ServiceCollection().AddDurarCore(DurarSettingsLoader.FromText("auth.keys.shards = 0")));

        Assert.Equal("auth.keys.shards", e.Path);
    }
}
