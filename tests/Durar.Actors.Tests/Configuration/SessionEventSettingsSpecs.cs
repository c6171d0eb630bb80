using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// Config sanity for <c>gateway.sessions.events</c> (<c>watcherBuffer</c>, <c>replayMax</c>): the defaults load from
/// <c>durar.conf</c>, set values are read, and a bad value fails naming its key path.
/// </summary>
public sealed class SessionEventSettingsSpecs
{
    private static SessionEventSettings Load(string hocon) => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)).Gateway.SessionEvents;

    [Fact]
    public void Should_load_the_defaults_from_durar_conf()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.SessionEvents;

        Assert.Equal(new SessionEventSettings(1024, 1000), settings);
        Assert.Equal(settings, SessionEventSettings.Default);
    }

    [Fact]
    public void Should_read_set_values() =>
        Assert.Equal(new SessionEventSettings(8, 0), Load("gateway.sessions.events { watcherBuffer = 8, replayMax = 0 }"));

    [Theory]
    [InlineData("watcherBuffer = 0", "gateway.sessions.events.watcherBuffer")]
    [InlineData("watcherBuffer = many", "gateway.sessions.events.watcherBuffer")]
    [InlineData("replayMax = -1", "gateway.sessions.events.replayMax")]
    [InlineData("replayMax = 1000001", "gateway.sessions.events.replayMax")]
    public void Should_name_the_path_of_a_bad_value(string setting, string path)
    {
        var e = Assert.Throws<DurarConfigException>(() => Load($"gateway.sessions.events {{ {setting} }}"));

        Assert.Equal(path, e.Path);
    }
}
