using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// Config sanity for <c>gateway.sessions.runs</c> (<c>keep</c>, <c>idempotencyTtl</c>, <c>maxWait</c>): the defaults load
/// from <c>durar.conf</c>, set values are read, and a bad value fails naming its key path.
/// </summary>
public sealed class SessionRunSettingsSpecs
{
    private static SessionRunSettings Load(string hocon) => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)).Gateway.SessionRuns;

    [Fact]
    public void Should_load_the_defaults_from_durar_conf()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.SessionRuns;

        Assert.Equal(new SessionRunSettings(500, TimeSpan.FromHours(24), TimeSpan.FromSeconds(120)), settings);
        Assert.Equal(settings, SessionRunSettings.Default);
    }

    [Fact]
    public void Should_read_set_values() =>
        Assert.Equal(new SessionRunSettings(20, TimeSpan.FromHours(1), TimeSpan.FromSeconds(10)),
            Load("gateway.sessions.runs { keep = 20, idempotencyTtl = 1h, maxWait = 10s }"));

    [Theory]
    [InlineData("keep = 9", "gateway.sessions.runs.keep")]
    [InlineData("keep = lots", "gateway.sessions.runs.keep")]
    [InlineData("idempotencyTtl = 0s", "gateway.sessions.runs.idempotencyTtl")]
    [InlineData("maxWait = later", "gateway.sessions.runs.maxWait")]
    public void Should_name_the_path_of_a_bad_value(string setting, string path)
    {
        var e = Assert.Throws<DurarConfigException>(() => Load($"gateway.sessions.runs {{ {setting} }}"));

        Assert.Equal(path, e.Path);
    }
}
