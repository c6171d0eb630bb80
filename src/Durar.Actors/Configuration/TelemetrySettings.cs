using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// <c>gateway.telemetry</c>: what the gateway tells operators about itself (OpenTelemetry metrics on <c>/metrics</c> and
/// over OTLP, traces over OTLP, one log line per HTTP request). It exists so each of these can be switched off from
/// <c>durar.conf</c>, where every value and its comment live; nothing here repeats a default.
/// </summary>
/// <param name="Metrics">Durar's meter is collected: <c>GET /metrics</c> (Prometheus) and OTLP when its endpoint is set.</param>
/// <param name="Traces">Spans (a request, one per attempt) are recorded and exported over OTLP when its endpoint is set.</param>
/// <param name="RuntimeMetrics">The .NET runtime's own meter (GC, thread pool, which runs the actors) is collected too.</param>
/// <param name="RequestLog">One Information line per HTTP request (route, model, attempts, status, duration, trace id).</param>
public sealed record TelemetrySettings(bool Metrics, bool Traces, bool RuntimeMetrics, bool RequestLog)
{
    /// <summary>The HOCON section these settings come from.</summary>
    public const string Section = "gateway.telemetry";

    /// <summary>Reads <c>gateway.telemetry</c> from a configuration that has the defaults layered underneath.</summary>
    /// <exception cref="DurarConfigException">A value is missing or not a boolean; the message names its key path.</exception>
    public static TelemetrySettings Read(Config config) => new(
        RequiredBool(config, $"{Section}.metrics"),
        RequiredBool(config, $"{Section}.traces"),
        RequiredBool(config, $"{Section}.runtimeMetrics"),
        RequiredBool(config, $"{Section}.requestLog"));
}
