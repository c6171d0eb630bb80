using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Resilience;
using Durar.Actors.Routing;
using Durar.Api.Apis;

namespace Durar.Api.Dashboard;

/// <summary>
/// The JSON of the dashboard's event stream and of <c>GET /v1/admin/requests</c>. Every event carries the server's time
/// (<c>now</c>) so a client counts cooldowns down against the gateway's clock, not its own. Keys and providers have the
/// shape of <c>GET /v1/admin/providers</c> (<see cref="AdminJson"/>).
/// </summary>
internal static class DashboardJson
{
    /// <summary>The SSE event name of each feed event (UTF-8).</summary>
    public static ReadOnlySpan<byte> EventName(FeedEvent e)
    {
        if (e is FeedEvent.Key) return "key"u8;
        if (e is FeedEvent.Request) return "request"u8;
        if (e is FeedEvent.Totals) return "totals"u8;
        if (e is FeedEvent.Providers) return "providers"u8;
        if (e is FeedEvent.Cluster) return "cluster"u8;
        throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "unknown feed event");
    }

    public static void WriteSnapshot(Utf8JsonWriter w, FeedSnapshot s, string node)
    {
        w.WriteStartObject();
        AdminJson.WriteTime(w, "now", s.At);
        w.WriteString("node", node);
        w.WriteStartArray("providers");
        foreach (var p in s.Providers) AdminJson.WriteProvider(w, p);
        w.WriteEndArray();
        w.WriteStartArray("requests");
        foreach (var r in s.Requests) WriteRequest(w, r);
        w.WriteEndArray();
        w.WriteNumber("recentRequests", s.RecentRequestsCapacity);
        w.WriteStartArray("totals");
        foreach (var t in s.Totals) WriteTotals(w, t);
        w.WriteEndArray();
        if (s.Cluster is null) w.WriteNull("cluster"); else { w.WritePropertyName("cluster"); WriteCluster(w, s.Cluster); }
        // Listing sessions needs an index the gateway does not keep yet: the page says so instead of guessing.
        w.WriteBoolean("sessionsList", false);
        w.WriteEndObject();
    }

    public static void WriteEvent(Utf8JsonWriter w, FeedEvent e, DateTimeOffset now)
    {
        switch (e)
        {
            case FeedEvent.Key k:
                w.WriteStartObject();
                AdminJson.WriteTime(w, "now", now);
                w.WriteString("provider", k.ProviderId);
                w.WritePropertyName("key");
                AdminJson.WriteKey(w, k.View);
                w.WriteEndObject();
                break;
            case FeedEvent.Request r:
                WriteRequest(w, r.Record);
                break;
            case FeedEvent.Totals t:
                WriteTotals(w, t.Sample);
                break;
            case FeedEvent.Providers p:
                w.WriteStartObject();
                AdminJson.WriteTime(w, "now", now);
                w.WriteStartArray("providers");
                foreach (var provider in p.List) AdminJson.WriteProvider(w, provider);
                w.WriteEndArray();
                w.WriteEndObject();
                break;
            case FeedEvent.Cluster c:
                WriteCluster(w, c.View);
                break;
        }
    }

    /// <summary>
    /// A request with its attempt path: every failed attempt (model, key, reason, HTTP status, message, ms from the start),
    /// then the attempt that answered (outcome <c>ok</c>) when one did.
    /// </summary>
    public static void WriteRequest(Utf8JsonWriter w, RequestRecord r)
    {
        w.WriteStartObject();
        w.WriteNumber("id", r.Id);
        AdminJson.WriteTime(w, "at", r.At);
        w.WriteBoolean("stream", r.Stream);
        w.WriteString("requestedModel", r.RequestedModel);
        WriteNullable(w, "model", r.Model);
        WriteNullable(w, "keyId", r.KeyId);
        w.WriteNumber("status", r.Status);
        w.WriteString("outcome", r.Outcome);
        WriteNullable(w, "code", r.Code);
        WriteNullable(w, "error", r.Error);
        w.WriteNumber("durationMs", Ms(r.Duration));
        if (r.FirstOutput is { } first) w.WriteNumber("firstOutputMs", Ms(first)); else w.WriteNull("firstOutputMs");
        if (r.Usage is { } u)
        {
            w.WriteStartObject("usage");
            w.WriteNumber("input", u.Input);
            w.WriteNumber("output", u.Output);
            w.WriteEndObject();
        }
        else w.WriteNull("usage");
        w.WriteNumber("cost", ApiNumbers.Normalize(r.Cost));
        w.WriteStartArray("attempts");
        foreach (var a in r.Failures)
        {
            w.WriteStartObject();
            w.WriteString("model", a.Model);
            WriteNullable(w, "keyId", a.KeyId);
            w.WriteString("outcome", a.Reason.ToWireName());
            if (a.Status is { } status) w.WriteNumber("status", status); else w.WriteNull("status");
            w.WriteString("message", Shorten(a.Message));
            w.WriteNumber("atMs", Ms(a.Elapsed));
            w.WriteEndObject();
        }
        if (r.Model is not null && r.Outcome != "error")
        {
            w.WriteStartObject();
            w.WriteString("model", r.Model);
            WriteNullable(w, "keyId", r.KeyId);
            w.WriteString("outcome", "ok");
            w.WriteNull("status");
            w.WriteNull("message");
            w.WriteNumber("atMs", Ms(r.FirstOutput ?? r.Duration));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void WriteTotals(Utf8JsonWriter w, TotalsSample t)
    {
        w.WriteStartObject();
        AdminJson.WriteTime(w, "at", t.At);
        w.WriteStartArray("providers");
        foreach (var p in t.Providers)
        {
            w.WriteStartObject();
            w.WriteString("id", p.ProviderId);
            WriteCounts(w, p.Requests, p.Usage, p.Cost);
            w.WriteStartArray("keys");
            foreach (var k in p.Keys)
            {
                w.WriteStartObject();
                w.WriteString("id", k.KeyId);
                WriteCounts(w, k.Requests, k.Usage, k.Cost);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void WriteCluster(Utf8JsonWriter w, ClusterView c)
    {
        w.WriteStartObject();
        w.WriteString("self", c.Self);
        WriteNullable(w, "leader", c.Leader);
        w.WriteStartArray("members");
        foreach (var m in c.Members)
        {
            w.WriteStartObject();
            w.WriteString("address", m.Address);
            w.WriteString("status", m.Status);
            w.WriteStartArray("roles");
            foreach (var role in m.Roles) w.WriteStringValue(role);
            w.WriteEndArray();
            w.WriteBoolean("reachable", m.Reachable);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteCounts(Utf8JsonWriter w, long requests, TokenUsage usage, decimal cost)
    {
        w.WriteNumber("requests", requests);
        w.WriteNumber("input", usage.Input);
        w.WriteNumber("output", usage.Output);
        w.WriteNumber("cost", ApiNumbers.Normalize(cost));
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteString(name, value);
    }

    private static double Ms(TimeSpan t) => Math.Round(t.TotalMilliseconds, 1);

    /// <summary>Upstream messages can be whole HTML pages: the list shows their start.</summary>
    private static string Shorten(string message) => message.Length <= 300 ? message : message[..299] + "…";
}
