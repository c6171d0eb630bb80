using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// Config sanity for <c>gateway.cluster.tls</c>: off on a loopback hostname, on by default for any other, and on without a
/// certificate is a start-up error naming <c>gateway.cluster.tls.certificate</c> that says how to make one.
/// </summary>
public sealed class ClusterTlsSettingsSpecs
{
    private static ClusterTlsSettings Load(string hocon) => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)).Gateway.Cluster.Tls;

    [Fact]
    public void Should_be_off_by_default_on_loopback()
    {
        var tls = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.Cluster.Tls;

        Assert.False(tls.Enabled);
        Assert.Equal(ClusterTlsSettings.Pinned, tls.Validation);
    }

    [Theory]
    [InlineData("10.0.0.5")]
    [InlineData("node1.internal")]
    [InlineData("0.0.0.0")]
    public void Should_require_a_certificate_by_default_when_the_hostname_is_not_loopback(string hostname)
    {
        var e = Assert.Throws<DurarConfigException>(() => Load($"gateway.cluster.hostname = \"{hostname}\""));

        Assert.Equal("gateway.cluster.tls.certificate", e.Path);
        Assert.Contains("openssl", e.Message, StringComparison.Ordinal);
        Assert.Contains(hostname, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_allow_turning_it_off_explicitly_for_a_non_loopback_hostname() =>
        Assert.False(Load("gateway.cluster { hostname = \"10.0.0.5\", tls.enabled = off }").Enabled);

    [Fact]
    public void Should_read_a_forced_on_setting_with_its_certificate()
    {
        var file = Path.GetTempFileName();
        var tls = Load($$"""gateway.cluster.tls { enabled = on, certificate = "{{file.Replace("\\", "/")}}", password = "pw", validation = chain, trustedThumbprints = ["ab:cd"] }""");

        Assert.True(tls.Enabled);
        Assert.Equal(file.Replace("\\", "/"), tls.CertificatePath);
        Assert.Equal("pw", tls.Password);
        Assert.Equal(ClusterTlsSettings.Chain, tls.Validation);
        Assert.Equal(["ABCD"], tls.TrustedThumbprints);
        Assert.DoesNotContain("pw", tls.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gateway.cluster.tls.enabled = sometimes", "gateway.cluster.tls.enabled")]
    [InlineData("gateway.cluster.tls.validation = trusting", "gateway.cluster.tls.validation")]
    [InlineData("gateway.cluster.tls { enabled = on }", "gateway.cluster.tls.certificate")]
    [InlineData("gateway.cluster.tls { enabled = on, certificate = \"/nowhere/cluster.pfx\" }", "gateway.cluster.tls.certificate")]
    public void Should_name_the_path_of_a_bad_value(string setting, string path)
    {
        var e = Assert.Throws<DurarConfigException>(() => Load(setting));

        Assert.Equal(path, e.Path);
    }
}
