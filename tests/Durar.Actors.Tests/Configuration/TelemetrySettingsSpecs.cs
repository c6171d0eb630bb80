using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// <c>gateway.telemetry</c>: the defaults file switches everything on, a user file switches keys off one by one (with
/// HOCON's on/off), and a value that is not a boolean stops start-up naming its key path.
/// </summary>
public sealed class TelemetrySettingsSpecs
{
    [Fact]
    public void Should_switch_everything_on_by_default()
    {
        Assert.Equal(new TelemetrySettings(Metrics: true, Traces: true, RuntimeMetrics: true, RequestLog: true), DurarSettings.Defaults.Telemetry);
    }

    [Fact]
    public void Should_switch_one_key_off_and_keep_the_others()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText("gateway.telemetry { metrics = off, requestLog = false }")).Telemetry;

        Assert.Equal(new TelemetrySettings(Metrics: false, Traces: true, RuntimeMetrics: true, RequestLog: false), settings);
    }

    [Theory]
    [InlineData("gateway.telemetry.metrics = sometimes", "gateway.telemetry.metrics")]
    [InlineData("gateway.telemetry.traces = 2", "gateway.telemetry.traces")]
    [InlineData("gateway.telemetry.requestLog = \"\"", "gateway.telemetry.requestLog")]
    public void Should_refuse_a_value_that_is_not_a_boolean_naming_its_key_path(string hocon, string path)
    {
        var e = Assert.Throws<DurarConfigException>(() => new ServiceCollection().AddDurarCore(DurarSettingsLoader.FromText(hocon)));

        Assert.Equal(path, e.Path);
    }
}
