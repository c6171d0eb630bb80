using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// <c>gateway.auth.failures</c>, <c>gateway.auth.clientTokens</c> and <c>gateway.trustedProxies</c>: the defaults file carries
/// every value (no proxy trusted), a user file overrides them, and a bad value stops start-up naming its key path.
/// </summary>
public sealed class AccessSettingsSpecs
{
    private static readonly AccessSettings Defaults = DurarSettings.Defaults.Access;

    [Fact]
    public void Should_load_the_defaults_from_durar_conf_trusting_no_proxy()
    {
        Assert.Equal((5, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), 20, 200),
            (Defaults.FailureThreshold, Defaults.FailureBackoff, Defaults.FailureMaxBackoff, Defaults.FailureForgetAfter, Defaults.TokenShards, Defaults.TokenSnapshotEvery));
        Assert.Empty(Defaults.TrustedProxies);
    }

    [Fact]
    public void Should_override_values_and_read_trusted_proxies()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText("""
            gateway { auth.failures.threshold = 3, trustedProxies = ["10.0.0.5", "172.16.0.0/12", "::1"] }
            """)).Access;

        Assert.Equal(3, settings.FailureThreshold);
        Assert.Equal(new[] { "10.0.0.5", "172.16.0.0/12", "::1" }, settings.TrustedProxies.ToArray());
        Assert.Equal(Defaults.FailureBackoff, settings.FailureBackoff);
    }

    [Theory]
    [InlineData("gateway.auth.failures.threshold = 0", "gateway.auth.failures.threshold")]
    [InlineData("gateway.auth.failures.backoff = 0s", "gateway.auth.failures.backoff")]
    [InlineData("gateway.auth.failures { backoff = 10m, maxBackoff = 1m }", "gateway.auth.failures.maxBackoff")]
    [InlineData("gateway.auth.clientTokens.shards = 0", "gateway.auth.clientTokens.shards")]
    [InlineData("gateway.trustedProxies = [\"10.0.0.0/33\"]", "gateway.trustedProxies[0]")]
    [InlineData("gateway.trustedProxies = [\"1.2.3.4\", \"proxy\"]", "gateway.trustedProxies[1]")]
    public void Should_name_the_path_of_a_bad_value(string hocon, string path)
    {
        var e = Assert.Throws<DurarConfigException>(() => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)));

        Assert.Equal(path, e.Path);
    }
}
