using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Providers.Messages;

namespace Durar.Api.Apis;

/// <summary>
/// The JSON of the operator surface's shared parts (a key, usage, a time), written once so <c>GET /v1/admin/providers</c> and
/// the dashboard's event stream (<c>GET /v1/admin/events</c>) describe a key with the same fields.
/// </summary>
internal static class AdminJson
{
    /// <summary>One provider: id, api, base URL, its keys and their usage summed.</summary>
    public static void WriteProvider(Utf8JsonWriter w, ProviderStateView p)
    {
        w.WriteStartObject();
        w.WriteString("id", p.ProviderId);
        w.WriteString("api", p.Api);
        if (p.BaseUrl is null) w.WriteNull("baseUrl"); else w.WriteString("baseUrl", p.BaseUrl);
        w.WriteStartArray("keys");
        foreach (var k in p.Keys) WriteKey(w, k);
        w.WriteEndArray();
        WriteUsage(w, p.Keys.Aggregate(TokenUsage.Zero, (sum, k) => sum.Add(k.Usage)), p.Keys.Sum(k => k.Cost));
        w.WriteEndObject();
    }

    /// <summary>One key: id, masked secret, source, state (ready, cooling, disabled, limited), until, reason, counts, usage.</summary>
    public static void WriteKey(Utf8JsonWriter w, KeyStateView k)
    {
        w.WriteStartObject();
        w.WriteString("id", k.KeyId);
        w.WriteString("key", k.Masked);
        w.WriteString("source", k.Source);
        w.WriteString("state", k.State);
        WriteTime(w, "until", k.Until);
        if (k.Reason is null) w.WriteNull("reason"); else w.WriteString("reason", k.Reason);
        w.WriteNumber("errorCount", k.ErrorCount);
        w.WriteStartObject("failureCounts");
        foreach (var (reason, count) in k.FailureCounts.OrderBy(x => x.Key, StringComparer.Ordinal)) w.WriteNumber(reason, count);
        w.WriteEndObject();
        WriteTime(w, "lastUsed", k.LastUsed);
        w.WriteNumber("requests", k.Requests);
        w.WriteNumber("failures", k.Failures);
        WriteUsage(w, k.Usage, k.Cost);
        w.WriteEndObject();
    }

    /// <summary>Tokens and cost served; refreshed once per <c>auth.cooldowns.lastUsedFlushInterval</c>.</summary>
    public static void WriteUsage(Utf8JsonWriter w, TokenUsage usage, decimal cost)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("input", usage.Input);
        w.WriteNumber("output", usage.Output);
        w.WriteNumber("cacheRead", usage.CacheRead);
        w.WriteNumber("cacheWrite", usage.CacheWrite);
        w.WriteNumber("cost", ApiNumbers.Normalize(cost));
        w.WriteEndObject();
    }

    public static void WriteTime(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v) w.WriteString(name, v.ToUniversalTime().ToString("O"));
        else w.WriteNull(name);
    }
}
