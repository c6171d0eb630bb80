using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// Config sanity for <c>gateway.cluster.maximumFrameSize</c> and <c>gateway.cluster.discovery.lookupTimeout</c> /
/// <c>retryInterval</c>: the defaults load from <c>durar.conf</c> (an unset frame size follows
/// <c>gateway.http.maxBodyBytes</c>), set values are read, and a bad value fails naming its key path.
/// </summary>
public sealed class ClusterBootstrapSettingsSpecs
{
    private static ClusterBootstrapSettings Load(string hocon) => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)).Gateway.ClusterBootstrap;

    [Fact]
    public void Should_load_the_defaults_from_durar_conf()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.ClusterBootstrap;

        // 20 MB bodies: 20971520 x 1.5 + 64 KiB.
        Assert.Equal(new ClusterBootstrapSettings(31_522_816, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2), 2), settings);
        Assert.Equal(settings, ClusterBootstrapSettings.Default);
    }

    [Theory]
    [InlineData(1_048_576, 1_638_400)]
    [InlineData(1024, 128_000)] // never below Akka's default frame
    public void Should_size_an_unset_frame_from_the_largest_body(long maxBodyBytes, long frame) =>
        Assert.Equal(frame, Load($"gateway.http.maxBodyBytes = {maxBodyBytes}").MaximumFrameSize);

    [Fact]
    public void Should_read_set_values() =>
        Assert.Equal(new ClusterBootstrapSettings(64_000_000, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(250), 3),
            Load("gateway.cluster { maximumFrameSize = 64000000, discovery { lookupTimeout = 1s, retryInterval = 250ms, requiredContactPoints = 3 } }"));

    [Theory]
    [InlineData("gateway.cluster.maximumFrameSize = 1000000", "gateway.cluster.maximumFrameSize")] // below what a 20 MB turn needs
    [InlineData("gateway.cluster.maximumFrameSize = huge", "gateway.cluster.maximumFrameSize")]
    [InlineData("gateway.cluster.discovery.lookupTimeout = 0s", "gateway.cluster.discovery.lookupTimeout")]
    [InlineData("gateway.cluster.discovery.retryInterval = later", "gateway.cluster.discovery.retryInterval")]
    [InlineData("gateway.cluster.discovery.requiredContactPoints = 0", "gateway.cluster.discovery.requiredContactPoints")]
    [InlineData("gateway.cluster.discovery.requiredContactPoints = some", "gateway.cluster.discovery.requiredContactPoints")]
    public void Should_name_the_path_of_a_bad_value(string setting, string path)
    {
        var e = Assert.Throws<DurarConfigException>(() => Load(setting));

        Assert.Equal(path, e.Path);
    }
}
