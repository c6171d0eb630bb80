using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// Config sanity for <c>gateway.sessions.transcript.keepResident</c> (<c>entries</c>, <c>tokens</c>): the defaults load from
/// <c>durar.conf</c>, set values are read, and a bad value fails at start-up naming its key path.
/// </summary>
public sealed class SessionTranscriptSettingsSpecs
{
    private static SessionTranscriptSettings Load(string hocon) =>
        DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)).Gateway.SessionTranscript;

    [Fact]
    public void Should_load_the_defaults_from_durar_conf()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.SessionTranscript;

        Assert.Equal(new SessionTranscriptSettings(200, 1_000_000), settings);
        Assert.Equal(settings, SessionTranscriptSettings.Default);
    }

    [Fact]
    public void Should_read_set_values() =>
        Assert.Equal(new SessionTranscriptSettings(10, 1000), Load("gateway.sessions.transcript.keepResident { entries = 10, tokens = 1000 }"));

    [Theory]
    [InlineData("entries = 9", "gateway.sessions.transcript.keepResident.entries")]
    [InlineData("entries = 1000001", "gateway.sessions.transcript.keepResident.entries")]
    [InlineData("entries = lots", "gateway.sessions.transcript.keepResident.entries")]
    [InlineData("tokens = 999", "gateway.sessions.transcript.keepResident.tokens")]
    [InlineData("tokens = 100000001", "gateway.sessions.transcript.keepResident.tokens")]
    public void Should_name_the_path_of_a_bad_value(string setting, string path)
    {
        var e = Assert.Throws<DurarConfigException>(() => Load($"gateway.sessions.transcript.keepResident {{ {setting} }}"));

        Assert.Equal(path, e.Path);
    }
}
