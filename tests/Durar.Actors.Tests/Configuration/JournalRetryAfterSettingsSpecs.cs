using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>Config sanity for <c>gateway.sessions.journalRetryAfter</c>: the default from <c>durar.conf</c>, a set value, a bad value naming its path.</summary>
public sealed class JournalRetryAfterSettingsSpecs
{
    private static TimeSpan Load(string hocon) => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)).Gateway.Sessions.JournalRetryAfter;

    [Fact]
    public void Should_load_the_default_from_durar_conf() =>
        Assert.Equal(TimeSpan.FromSeconds(2), DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.Sessions.JournalRetryAfter);

    [Fact]
    public void Should_read_a_set_value() => Assert.Equal(TimeSpan.FromMilliseconds(500), Load("gateway.sessions.journalRetryAfter = 500ms"));

    [Theory]
    [InlineData("0s")]
    [InlineData("soon")]
    public void Should_name_the_path_of_a_bad_value(string value) =>
        Assert.Equal("gateway.sessions.journalRetryAfter",
            Assert.Throws<DurarConfigException>(() => Load($"gateway.sessions.journalRetryAfter = {value}")).Path);
}
