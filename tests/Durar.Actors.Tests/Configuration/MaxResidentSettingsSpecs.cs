using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>Config sanity for <c>gateway.sessions.maxResident</c>: the default from <c>durar.conf</c>, a set value, a bad value naming its path.</summary>
public sealed class MaxResidentSettingsSpecs
{
    private static int Load(string hocon) => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)).Gateway.Sessions.MaxResident;

    [Fact]
    public void Should_load_the_default_from_durar_conf() =>
        Assert.Equal(100_000, DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.Sessions.MaxResident);

    [Fact]
    public void Should_read_a_set_value() => Assert.Equal(250, Load("gateway.sessions.maxResident = 250"));

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("10000001")]
    [InlineData("many")]
    [InlineData("1.5")]
    public void Should_refuse_a_bad_value_at_start_up_naming_its_path(string value) =>
        Assert.Equal("gateway.sessions.maxResident",
            Assert.Throws<DurarConfigException>(() => Load($"gateway.sessions.maxResident = {value}")).Path);
}
