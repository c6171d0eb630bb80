using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Testing;

namespace Durar.Api.Tests.Resilience;

/// <summary>One gateway answer, read to the end: status, the run headers, the body and how long it took.</summary>
internal sealed record GatewayReply(HttpStatusCode Status, HttpResponseMessage Response, string Body, TimeSpan Elapsed)
{
    public string? Header(string name) =>
        Response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault()
        : Response.Content.Headers.TryGetValues(name, out var content) ? content.FirstOrDefault() : null;

    public string? Model => Header("x-durar-model");

    public int? Attempts => Header("x-durar-attempts") is { } a ? int.Parse(a, CultureInfo.InvariantCulture) : null;

    public string? MediaType => Response.Content.Headers.ContentType?.MediaType;

    /// <summary>The <c>error</c> object of a JSON error answer; fails the test when the shape is wrong.</summary>
    public JsonElement Error
    {
        get
        {
            Assert.True(MediaType == "application/json", $"expected a JSON error, got {MediaType}: {Body}");
            using var doc = JsonDocument.Parse(Body);
            var error = doc.RootElement.GetProperty("error").Clone();
            Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
            Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
            Assert.Equal(JsonValueKind.String, error.GetProperty("code").ValueKind);
            Assert.True(error.TryGetProperty("param", out _), "error.param missing");
            Assert.DoesNotContain("   at ", Body);
            return error;
        }
    }

    public string ErrorMessage => Error.GetProperty("message").GetString()!;

    /// <summary>The <c>data:</c> payloads of an SSE body, in order.</summary>
    public IReadOnlyList<string> DataFrames => Sse.DataFrames(Body);

    /// <summary>The text of a non-streamed completion, or the concatenated content deltas of a stream.</summary>
    public string Content
    {
        get
        {
            if (MediaType == "text/event-stream")
            {
                var text = new System.Text.StringBuilder();
                foreach (var frame in DataFrames.Where(f => f != "[DONE]"))
                {
                    using var doc = JsonDocument.Parse(frame);
                    if (doc.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                        && choices[0].GetProperty("delta").TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
                        text.Append(c.GetString());
                }
                return text.ToString();
            }
            using var body = JsonDocument.Parse(Body);
            return body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "";
        }
    }
}

internal static class Sse
{
    public static IReadOnlyList<string> DataFrames(string body) =>
        body.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(frame => string.Join("\n", frame.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l["data: ".Length..])))
            .Where(d => d.Length > 0)
            .ToList();
}

/// <summary>Requests and operator calls the resilience specs share.</summary>
internal static class ResilienceClient
{
    /// <summary>Short same-model retry delays; each spec that is about these values sets its own.</summary>
    public const string FastFailover = """
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    /// <summary>A custom provider on the fake: <c>wire</c> is openai (chat completions) or anthropic (messages).</summary>
    public static string Provider(string id, string model, string? apiKey = null, string wire = "openai")
    {
        var (url, api) = wire == "anthropic" ? ("{fake-anthropic}", "anthropic-messages") : ("{fake-openai}", "openai-completions");
        var key = apiKey is null ? "" : $", apiKey = \"{apiKey}\"";
        return $$"""models { providers { {{id}} { baseUrl = "{{url}}", api = "{{api}}"{{key}}, models = [{ id = "{{model}}" }] } } }""" + "\n";
    }

    public static string Body(string model, IEnumerable<string>? fallbacks = null, bool stream = false, string text = "say something nice please")
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }),
        };
        if (stream) body["stream"] = true;
        if (fallbacks is not null) body["fallbacks"] = new JsonArray(fallbacks.Select(f => (JsonNode)JsonValue.Create(f)!).ToArray());
        return body.ToJsonString();
    }

    public static Task<GatewayReply> ChatAsync(this GatewayHarness gw, string model, IEnumerable<string>? fallbacks = null, bool stream = false,
        string text = "say something nice please", CancellationToken ct = default) =>
        gw.SendAsync(gw.Post("v1/chat/completions", Body(model, fallbacks, stream, text)), ct);

    public static async Task<GatewayReply> SendAsync(this GatewayHarness gw, HttpRequestMessage request, CancellationToken ct = default)
    {
        var watch = Stopwatch.StartNew();
        using (request)
        {
            var response = await gw.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            return new GatewayReply(response.StatusCode, response, body, watch.Elapsed);
        }
    }

    /// <summary><c>GET /v1/admin/providers</c>, answered with 200 and parsed.</summary>
    public static async Task<JsonElement> ProvidersAsync(this GatewayHarness gw)
    {
        using var response = await gw.Http.GetAsync("v1/admin/providers");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"admin providers: {(int)response.StatusCode} {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("providers").Clone();
    }

    /// <summary>The admin view of one provider's keys.</summary>
    public static async Task<IReadOnlyList<JsonElement>> KeysAsync(this GatewayHarness gw, string providerId)
    {
        var providers = await gw.ProvidersAsync();
        var provider = providers.EnumerateArray().SingleOrDefault(p => p.GetProperty("id").GetString() == providerId);
        Assert.True(provider.ValueKind == JsonValueKind.Object, $"provider {providerId} not listed by the admin API");
        return provider.GetProperty("keys").EnumerateArray().ToList();
    }

    /// <summary>
    /// Waits until the admin view of the provider's only key satisfies <paramref name="condition"/>. The outcome of a request
    /// reaches the key actor by Tell, so the HTTP answer can come back a moment before the key's new state is visible.
    /// </summary>
    public static Task<JsonElement> WaitForOnlyKeyAsync(this GatewayHarness gw, string providerId, Func<JsonElement, bool> condition,
        string what, TimeSpan? timeout = null) =>
        Eventually.Until(async () => Assert.Single(await gw.KeysAsync(providerId)), condition, $"the only key of {providerId} {what}", timeout,
            describe: k => k.GetRawText());

    /// <summary>The admin view of the key whose secret ends with <paramref name="secret"/>'s last four characters.</summary>
    public static async Task<JsonElement> KeyAsync(this GatewayHarness gw, string providerId, string secret)
    {
        var keys = await gw.KeysAsync(providerId);
        var masked = "…" + secret[^4..];
        var matches = keys.Where(k => k.GetProperty("key").GetString() == masked).ToList();
        Assert.True(matches.Count == 1, $"expected one key {masked} in {providerId}, got: {string.Join(", ", keys.Select(k => k.GetRawText()))}");
        return matches[0];
    }

    /// <summary>
    /// Waits until the admin API shows the key in <paramref name="state"/>. Outcomes reach the key actor by Tell, so the HTTP answer
    /// can come back a moment before the key's new state is visible.
    /// </summary>
    public static Task<JsonElement> WaitForKeyStateAsync(this GatewayHarness gw, string providerId, string secret, string state,
        TimeSpan? timeout = null) =>
        gw.WaitForKeyAsync(providerId, secret, k => k.GetProperty("state").GetString() == state, state, timeout);

    /// <summary>Waits until the admin view of the key satisfies <paramref name="condition"/> (<paramref name="what"/> names it in a failure).</summary>
    public static Task<JsonElement> WaitForKeyAsync(this GatewayHarness gw, string providerId, string secret, Func<JsonElement, bool> condition,
        string what, TimeSpan? timeout = null) =>
        Eventually.Until(() => gw.KeyAsync(providerId, secret), condition, $"key …{secret[^4..]} of {providerId} {what}", timeout,
            describe: k => k.GetRawText());

    public static DateTimeOffset? Until(this JsonElement key) =>
        key.GetProperty("until").ValueKind == JsonValueKind.String
            ? DateTimeOffset.Parse(key.GetProperty("until").GetString()!, CultureInfo.InvariantCulture)
            : null;

    public static Task<GatewayReply> ResetKeyAsync(this GatewayHarness gw, string keyId) =>
        gw.SendAsync(new HttpRequestMessage(HttpMethod.Post, $"v1/admin/keys/{keyId}/reset"));

    /// <summary>Asserts a well-formed SSE stream that succeeded: role chunk first, content, finish, <c>[DONE]</c>, no error frame.</summary>
    public static void AssertCleanStream(GatewayReply reply)
    {
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("text/event-stream", reply.MediaType);
        var frames = reply.DataFrames;
        Assert.True(frames.Count >= 3, $"too few frames: {reply.Body}");
        Assert.Equal("[DONE]", frames[^1]);
        Assert.DoesNotContain(frames, f => f.Contains("\"error\"", StringComparison.Ordinal));
        using (var first = JsonDocument.Parse(frames[0]))
            Assert.Equal("assistant", first.RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        foreach (var frame in frames.Take(frames.Count - 1))
        {
            using var doc = JsonDocument.Parse(frame);
            Assert.Equal("chat.completion.chunk", doc.RootElement.GetProperty("object").GetString());
        }
        Assert.Contains(frames, f => f.Contains("\"finish_reason\":\"stop\"", StringComparison.Ordinal));
    }
}
