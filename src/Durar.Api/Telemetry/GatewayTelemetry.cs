using Durar.Actors.Configuration;
using Durar.Actors.Telemetry;
using Durar.Api.Apis;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Durar.Api.Telemetry;

/// <summary>
/// The gateway's OpenTelemetry SDK: Durar's meter (and the runtime's) on <c>GET /metrics</c> in Prometheus text format and
/// over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; Durar's spans with ASP.NET Core's server span as each
/// request's root, exported over OTLP. Tracing is wired only when an OTLP endpoint is set: a tracer with nowhere to send
/// spans would still create them for every request. The standard <c>OTEL_*</c> variables configure the exporters.
/// </summary>
public static class GatewayTelemetry
{
    /// <summary>The service name when <c>OTEL_SERVICE_NAME</c> does not say otherwise.</summary>
    public const string DefaultServiceName = "durar";

    /// <summary>The Prometheus scrape path.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The .NET runtime's built-in meter (GC, thread pool, JIT, exceptions).</summary>
    public const string RuntimeMeter = "System.Runtime";

    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, TelemetrySettings settings, IConfiguration configuration)
    {
        services.AddSingleton(settings);
        services.AddSingleton<RequestTelemetry>();
        var traces = settings.Traces && OtlpConfigured(configuration, "TRACES");
        if (!settings.Metrics && !traces) return services;
        var otel = services.AddOpenTelemetry().ConfigureResource(r => r.AddService(
            serviceName: configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : DefaultServiceName,
            serviceVersion: typeof(DurarTelemetry).Assembly.GetName().Version?.ToString()));
        if (settings.Metrics)
            otel.WithMetrics(m =>
            {
                m.AddMeter(TelemetryNames.Source);
                if (settings.RuntimeMetrics) m.AddMeter(RuntimeMeter);
                m.AddPrometheusExporter();
                if (OtlpConfigured(configuration, "METRICS")) m.AddOtlpExporter();
            });
        if (traces) otel.WithTracing(t => ConfigureTracing(t).AddOtlpExporter());
        return services;
    }

    /// <summary>
    /// What the gateway traces: Durar's spans, under ASP.NET Core's server span for the request (which continues the
    /// caller's <c>traceparent</c>). Health probes and scrapes are not traced. Tests attach their own exporter to the same wiring.
    /// </summary>
    public static TracerProviderBuilder ConfigureTracing(TracerProviderBuilder tracing) => tracing
        .AddSource(TelemetryNames.Source)
        .AddAspNetCoreInstrumentation(o => o.Filter = context => !RequestTelemetryPaths.IsQuiet(context.Request.Path));

    /// <summary><c>GET /metrics</c> (when <c>gateway.telemetry.metrics</c> is on), behind the admin rule (<see cref="GatewayAuth.AdminRefusal"/>).</summary>
    public static IEndpointRouteBuilder MapGatewayMetrics(this IEndpointRouteBuilder app, TelemetrySettings settings)
    {
        if (!settings.Metrics) return app;
        app.MapPrometheusScrapingEndpoint(MetricsPath, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (context, next) =>
        {
            if (context.RequestServices.GetRequiredService<GatewayAuth>().AdminRefusal(context) is { } refusal)
            {
                await refusal.WriteAsync(context.Response);
                return;
            }
            await next(context);
        }), optionsName: null);
        return app;
    }

    /// <summary>An OTLP endpoint is set for <paramref name="signal"/> (<c>TRACES</c>, <c>METRICS</c>) or for every signal.</summary>
    public static bool OtlpConfigured(IConfiguration configuration, string signal) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"]);
}

/// <summary>The paths telemetry leaves alone: health probes and the metrics scrape.</summary>
internal static class RequestTelemetryPaths
{
    public static bool IsQuiet(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/healthz") || path.StartsWithSegments(GatewayTelemetry.MetricsPath);
}
