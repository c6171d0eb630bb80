using Akka.Actor;
using System.Text.Json;
using Durar.Actors.Configuration;
using Durar.Persistence;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Durar.Api.Health;

/// <summary>
/// The gateway's health endpoints, ASP.NET Core health checks: <c>/health/live</c> (the process and its actor system run:
/// restart it when this fails), <c>/health/ready</c> (it can serve: journal reachable, this node an Up cluster member,
/// the provider registry serving, not draining: send it traffic only while this passes) and <c>/healthz</c>, the alias of
/// live that load balancers used before, which keeps its contract of answering 503 once the node is stopping (the drain
/// refuses it). Every answer is a JSON body listing each check; 200 when all pass, 503 otherwise. No token is needed.
/// </summary>
public static class GatewayHealth
{
    /// <summary>Health-check tags: which endpoint runs a check.</summary>
    public const string Live = "live", Ready = "ready";

    /// <summary>The probe paths the drain lets through (they report the drain themselves).</summary>
    public const string LivePath = "/health/live", ReadyPath = "/health/ready", AliasPath = "/healthz";

    public static IServiceCollection AddGatewayHealth(this IServiceCollection services, PersistenceOptions persistence)
    {
        services.AddSingleton(sp => new JournalHealthCheck(persistence, sp.GetRequiredService<GatewaySettings>(), sp.GetRequiredService<ActorSystem>()));
        services.AddHealthChecks()
            .AddCheck<ActorSystemHealthCheck>("actor-system", tags: [Live, Ready])
            .AddCheck<JournalHealthCheck>("journal", tags: [Ready])
            .AddCheck<ClusterMemberHealthCheck>("cluster", tags: [Ready])
            .AddCheck<SessionsHealthCheck>("sessions", tags: [Ready])
            .AddCheck<ProvidersHealthCheck>("providers", tags: [Ready])
            .AddCheck<DrainHealthCheck>("drain", tags: [Ready]);
        return services;
    }

    public static IEndpointRouteBuilder MapGatewayHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks(LivePath, Options(Live));
        app.MapHealthChecks(ReadyPath, Options(Ready));
        app.MapHealthChecks(AliasPath, Options(Live));
        return app;
    }

    /// <summary>Whether the drain lets <paramref name="path"/> through: the probes that answer for themselves while draining.</summary>
    public static bool IsProbe(PathString path) => path.Equals(LivePath) || path.Equals(ReadyPath);

    private static HealthCheckOptions Options(string tag) => new()
    {
        Predicate = r => r.Tags.Contains(tag),
        ResponseWriter = WriteAsync,
        AllowCachingResponses = false,
    };

    /// <summary><c>{"status":"Healthy","durationMs":1.2,"checks":[{"name","status","description","durationMs","data"?,"error"?}]}</c>.</summary>
    internal static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(context.Response.BodyWriter);
        w.WriteStartObject();
        w.WriteString("status", report.Status.ToString());
        w.WriteNumber("durationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
        w.WriteStartArray("checks");
        foreach (var (name, entry) in report.Entries)
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteString("status", entry.Status.ToString());
            if (entry.Description is { } description) w.WriteString("description", description);
            w.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 1));
            if (entry.Data.Count > 0)
            {
                w.WriteStartObject("data");
                foreach (var (key, value) in entry.Data)
                {
                    if (value is int number) w.WriteNumber(key, number);
                    else w.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                }
                w.WriteEndObject();
            }
            if (entry.Exception is { } e) w.WriteString("error", e.Message);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
