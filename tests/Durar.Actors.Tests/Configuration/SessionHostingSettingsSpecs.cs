using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// Config sanity for <c>gateway.sessions.shards</c>, <c>replyBuffer</c> and <c>replyStallTimeout</c>: the defaults load
/// from <c>durar.conf</c>, set values are read, and a bad value fails naming its key path.
/// </summary>
public sealed class SessionHostingSettingsSpecs
{
    private static SessionHostingSettings Load(string hocon) => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)).Gateway.SessionHosting;

    [Fact]
    public void Should_load_the_defaults_from_durar_conf()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.SessionHosting;

        Assert.Equal(new SessionHostingSettings(100, 256, TimeSpan.FromSeconds(15)), settings);
        Assert.Equal(settings, SessionHostingSettings.Default);
    }

    [Fact]
    public void Should_read_set_values() =>
        Assert.Equal(new SessionHostingSettings(30, 16, TimeSpan.FromSeconds(3)),
            Load("gateway.sessions { shards = 30, replyBuffer = 16, replyStallTimeout = 3s }"));

    [Theory]
    [InlineData("shards = 0", "gateway.sessions.shards")]
    [InlineData("shards = many", "gateway.sessions.shards")]
    [InlineData("replyBuffer = 0", "gateway.sessions.replyBuffer")]
    [InlineData("replyBuffer = -3", "gateway.sessions.replyBuffer")]
    [InlineData("replyStallTimeout = 0s", "gateway.sessions.replyStallTimeout")]
    [InlineData("replyStallTimeout = soon", "gateway.sessions.replyStallTimeout")]
    public void Should_name_the_path_of_a_bad_value(string setting, string path)
    {
        var e = Assert.Throws<DurarConfigException>(() => Load($"gateway.sessions {{ {setting} }}"));

        Assert.Equal(path, e.Path);
    }
}
