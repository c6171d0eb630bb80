using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// <c>gateway.dashboard</c>: the defaults file carries every value, a user file overrides them one by one, and a bad value
/// stops start-up naming its key path.
/// </summary>
public sealed class DashboardSettingsSpecs
{
    private static readonly DashboardSettings Defaults = DurarSettings.Defaults.Dashboard;

    [Fact]
    public void Should_load_the_defaults_from_durar_conf()
    {
        Assert.Equal(new DashboardSettings(true, 200, TimeSpan.FromSeconds(10), 360, 1024), Defaults);
    }

    [Fact]
    public void Should_override_one_value_and_keep_the_others()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText("gateway.dashboard { recentRequests = 0, totalsInterval = 2s }")).Dashboard;

        Assert.Equal(Defaults with { RecentRequests = 0, TotalsInterval = TimeSpan.FromSeconds(2) }, settings);
    }

    [Theory]
    [InlineData("enabled = maybe", "enabled", "true or false")]
    [InlineData("recentRequests = -1", "recentRequests", "negative")]
    [InlineData("recentRequests = 1000000", "recentRequests", "between 0 and 100000")]
    [InlineData("totalsInterval = 0s", "totalsInterval", "positive")]
    [InlineData("totalsHistory = 0", "totalsHistory", "between 1 and")]
    [InlineData("clientBuffer = 2", "clientBuffer", "between 16 and")]
    public void Should_name_the_path_of_a_bad_value(string setting, string key, string problem)
    {
        var e = Assert.Throws<DurarConfigException>(() => DurarSettingsLoader.Load(DurarSettingsLoader.FromText($"gateway.dashboard {{ {setting} }}")));

        Assert.Equal($"gateway.dashboard.{key}", e.Path);
        Assert.Contains(problem, e.Problem);
    }
}
