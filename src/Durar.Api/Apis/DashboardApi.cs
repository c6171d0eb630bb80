using System.Buffers;
using System.Text.Json;
using Akka.Actor;
using Durar.Actors.Configuration;
using Durar.Api.Dashboard;
using Durar.Api.Extensions;

namespace Durar.Api.Apis;

/// <summary>
/// The dashboard's data routes, under the admin rule (the gateway token when one is set, else loopback callers only):
/// <c>GET /v1/admin/events</c>, one SSE stream per open page carrying a snapshot, then every key state change, completed
/// request and totals sample as it happens; and <c>GET /v1/admin/requests</c>, the recent requests with their attempts as
/// JSON. The page itself is <see cref="DashboardUi"/>.
/// </summary>
public static class DashboardApi
{
    /// <summary>Maps <c>/v1/admin/requests</c> always, and the event stream and <c>/ui</c> when <c>gateway.dashboard.enabled</c>.</summary>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app, DashboardSettings settings)
    {
        var admin = app.MapAdminGroup();
        admin.MapGet("/requests", ListRequestsAsync);
        if (!settings.Enabled) return app;
        admin.MapGet("/events", StreamEventsAsync);
        DashboardUi.Map(app);
        return app;
    }

    private static async Task ListRequestsAsync(HttpContext context, DashboardFeed feed)
    {
        context.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(context.Response.BodyWriter, ChatCompletionWriter.Options);
        w.WriteStartObject();
        w.WriteStartArray("requests");
        foreach (var r in feed.RecentRequests()) DashboardJson.WriteRequest(w, r);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// The stream: <c>snapshot</c> first, then <c>key</c>, <c>request</c>, <c>totals</c>, <c>providers</c> and <c>cluster</c>
    /// events. It ends with an <c>error</c> event when this client fell behind (<c>dashboard_lagging</c>) or the node is stopping
    /// (<c>node_shutting_down</c>: a long-lived stream must not hold the drain up); the page then reconnects.
    /// </summary>
    private static async Task StreamEventsAsync(HttpContext context, DashboardFeed feed, ActorSystem system, IHostApplicationLifetime lifetime)
    {
        using var subscription = feed.Subscribe();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        SseResponse.Prepare(context, closer: null);
        var pipe = context.Response.BodyWriter;
        var node = Akka.Cluster.Cluster.Get(system).SelfAddress.ToString();
        using (var w = new Utf8JsonWriter(pipe, ChatCompletionWriter.Options))
        {
            pipe.Write("event: snapshot\ndata: "u8);
            DashboardJson.WriteSnapshot(w, subscription.Snapshot, node);
            w.Flush();
            pipe.Write("\n\n"u8);
            await pipe.FlushAsync(stop.Token);
            ApiError? end = null;
            try
            {
                while (await subscription.Events.WaitToReadAsync(stop.Token))
                {
                    while (subscription.Events.TryRead(out var e))
                    {
                        pipe.Write("event: "u8);
                        pipe.Write(DashboardJson.EventName(e));
                        pipe.Write("\ndata: "u8);
                        w.Reset();
                        DashboardJson.WriteEvent(w, e, DateTimeOffset.UtcNow);
                        w.Flush();
                        pipe.Write("\n\n"u8);
                    }
                    if ((await pipe.FlushAsync(stop.Token)).IsCompleted) return; // the connection is gone
                }
            }
            catch (DashboardLaggingException e)
            {
                end = new ApiError(503, e.Message, "api_error", "dashboard_lagging");
            }
            catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
            {
                end = new ApiError(503, "This gateway node is shutting down; the dashboard reconnects to another node.", "api_error",
                    GatewayDrain.ShuttingDownCode);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                return; // the page was closed: nothing to tell it
            }
            if (end is not null)
            {
                pipe.Write("event: error\ndata: "u8);
                w.Reset();
                end.Write(w);
                w.Flush();
                pipe.Write("\n\n"u8);
                await pipe.FlushAsync(context.RequestAborted);
            }
        }
    }
}
