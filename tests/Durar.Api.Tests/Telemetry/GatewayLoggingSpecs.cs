using Durar.Actors.Configuration;
using Durar.Api.Extensions;
using Durar.Api.Telemetry;
using Microsoft.Extensions.Configuration;

namespace Durar.Api.Tests.Telemetry;

/// <summary>
/// The pure parts of the gateway's log and telemetry wiring: which console format a <c>--log-format</c> value asks for (an
/// unknown one stops the start naming the option), and when an OTLP endpoint counts as configured for a signal.
/// </summary>
public sealed class GatewayLoggingSpecs
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("text", false)]
    [InlineData("json", true)]
    [InlineData(" JSON ", true)]
    public void Should_read_the_log_format(string? format, bool json) => Assert.Equal(json, GatewayLogging.IsJson(format));

    [Fact]
    public void Should_refuse_an_unknown_log_format_naming_the_option()
    {
        var e = Assert.Throws<DurarConfigException>(() => GatewayHost.Build(new GatewayOptions { Port = 0, LogFormat = "xml" }));

        Assert.Equal("--log-format", e.Path);
        Assert.Contains("expected text or json", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null, false)]
    [InlineData("http://collector:4318", null, true)]
    [InlineData(null, "http://collector:4318/v1/traces", true)]
    [InlineData("  ", null, false)]
    public void Should_see_an_otlp_endpoint_for_traces_when_one_is_set(string? all, string? traces, bool configured)
    {
        var values = new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = all, ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = traces };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();

        Assert.Equal(configured, GatewayTelemetry.OtlpConfigured(configuration, "TRACES"));
        Assert.Equal(all is { Length: > 0 } a && !string.IsNullOrWhiteSpace(a), GatewayTelemetry.OtlpConfigured(configuration, "METRICS"));
    }
}
