using System.Buffers;
using System.Collections.Immutable;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Actors.Resilience;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.OpenAi;

/// <summary>
/// The <c>openai-completions</c> transport: <c>POST {baseUrl}/chat/completions</c>, JSON or SSE. Native OpenAI
/// (<c>api.openai.com</c>) keeps native-only fields; every other host is treated as a proxy: no <c>developer</c> role,
/// no <c>service_tier</c>, <c>store</c> or prompt-cache hints. Streaming always asks the upstream for usage.
/// </summary>
public sealed class OpenAiCompletionsTransport(IHttpClientFactory httpClientFactory) : IChatTransport
{
    public async Task<ChatCompletion> CompleteAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        using var request = BuildRequest(call, stream: false);
        return await UpstreamHttp.CompleteJsonAsync(Client, request, call, ParseCompletion, cancellationToken).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<ChatEvent> StreamAsync(UpstreamCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var providerId = call.Target.Provider.Id;
        using var idle = new IdleTimer(call.IdleTimeout, cancellationToken);
        using var request = BuildRequest(call, stream: true);
        var response = await UpstreamHttp.SendAsync(Client, request, providerId, idle, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            yield return new StreamOpened(UpstreamHttp.ReadHints(response, null));
            var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
            var parser = SseParser.Create(body, static (_, data) => OpenAiChunk.Parse(data));
            var events = parser.EnumerateAsync(idle.Token).GetAsyncEnumerator(idle.Token);
            var finished = false;
            try
            {
                while (true)
                {
                    OpenAiChunk chunk;
                    try
                    {
                        if (!await events.MoveNextAsync().ConfigureAwait(false)) break;
                        chunk = events.Current.Data;
                    }
                    catch (Exception e) when (UpstreamHttp.TranslateException(e, providerId, idle, cancellationToken) is { } translated)
                    {
                        throw translated;
                    }
                    idle.Touch();
                    if (chunk.Done) { finished = true; break; }
                    if (chunk.Malformed is { } bad)
                        throw UpstreamHttp.Transport(providerId, UpstreamTransportError.MalformedStream, $"malformed chunk from upstream: {bad}");
                    if (chunk.Error is { } error)
                        throw new UpstreamException(error with { ProviderId = providerId }, UpstreamException.NoHints);
                    if (chunk.Text is { Length: > 0 } text) yield return new TextDelta(text);
                    if (chunk.ToolCalls is { } calls)
                        foreach (var t in calls) yield return t;
                    if (chunk.FinishReason is { } reason)
                    {
                        finished = true;
                        if (reason == "error")
                            throw new UpstreamException(new UpstreamFailure(500, "the provider ended the response with finish_reason: error", null, null, providerId), UpstreamException.NoHints);
                        yield return new Finished(reason);
                    }
                    if (chunk.Usage is { } usage) yield return new UsageReport(usage);
                }
            }
            finally
            {
                await events.DisposeAsync().ConfigureAwait(false);
            }
            if (!finished)
                throw UpstreamHttp.Transport(providerId, UpstreamTransportError.StreamCut, "upstream stream was cut before it finished");
        }
    }

    private HttpClient? _client;

    /// <summary>
    /// One client for the transport's lifetime: the factory's handler for it never expires (connections are recycled by the
    /// handler's pooled-connection lifetime instead), so a client per call would only cost an allocation and a cancellation
    /// source each time.
    /// </summary>
    private HttpClient Client => _client ??= httpClientFactory.CreateClient(UpstreamHttp.ClientName);

    private HttpRequestMessage BuildRequest(UpstreamCall call, bool stream)
    {
        var provider = call.Target.Provider;
        var body = new PooledJsonContent();
        using (var w = new Utf8JsonWriter(body))
            WriteBody(w, call, stream);
        var request = UpstreamHttp.JsonPost(provider.BaseUrl, "/chat/completions", body);
        if (call.ApiKey is { Length: > 0 } key) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        foreach (var (name, value) in provider.Headers) request.Headers.TryAddWithoutValidation(name, value);
        if (stream) request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        return request;
    }

    internal static void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream)
    {
        var provider = call.Target.Provider;
        var model = call.Target.Model;
        var r = call.Request;
        var native = provider.IsNativeOpenAi;
        var compat = model.Compat ?? provider.Compat;
        var extra = ExtraBody(call);
        bool Has(string name) => extra is not null && extra.ContainsKey(name);

        w.WriteStartObject();
        if (!Has("model")) w.WriteString("model", model.Id);
        if (!Has("messages"))
        {
            w.WritePropertyName("messages");
            WriteMessages(w, r.Messages, supportsDeveloperRole: native && Flag(compat, "supportsDeveloperRole", true));
        }
        if (r.Tools is { } tools && !Has("tools")) { w.WritePropertyName("tools"); tools.WriteTo(w); }
        if (r.ToolChoice is { } choice && !Has("tool_choice")) { w.WritePropertyName("tool_choice"); choice.WriteTo(w); }
        if (r.MaxTokens is { } max)
        {
            var field = compat?["maxTokensField"]?.GetValue<string>() ?? (native ? "max_completion_tokens" : "max_tokens");
            if (!Has(field)) w.WriteNumber(field, max);
        }
        if (r.Temperature is { } t && !Has("temperature")) w.WriteNumber("temperature", t);
        if (r.TopP is { } p && !Has("top_p")) w.WriteNumber("top_p", p);
        if (r.FrequencyPenalty is { } fp && !Has("frequency_penalty")) w.WriteNumber("frequency_penalty", fp);
        if (r.PresencePenalty is { } pp && !Has("presence_penalty")) w.WriteNumber("presence_penalty", pp);
        if (r.Seed is { } seed && !Has("seed")) w.WriteNumber("seed", seed);
        if (!r.Stop.IsDefaultOrEmpty && !Has("stop"))
        {
            w.WriteStartArray("stop");
            foreach (var s in r.Stop) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        if (r.User is { } user && !Has("user")) w.WriteString("user", user);
        if (r.ReasoningEffort is { } effort && !Has("reasoning_effort") && (native || Flag(compat, "supportsReasoningEffort", model.Reasoning)))
            w.WriteString("reasoning_effort", effort);
        if (native && r.FastMode is true && !Has("service_tier")) w.WriteString("service_tier", "priority");
        if (stream)
        {
            w.WriteBoolean("stream", true);
            if (Flag(compat, "supportsUsageInStreaming", true) && !Has("stream_options"))
            {
                w.WriteStartObject("stream_options");
                w.WriteBoolean("include_usage", true);
                w.WriteEndObject();
            }
        }
        if (extra is not null)
            foreach (var (name, value) in extra)
            {
                w.WritePropertyName(name);
                if (value is null) w.WriteNullValue(); else value.WriteTo(w);
            }
        w.WriteEndObject();
    }

    private static JsonObject? ExtraBody(UpstreamCall call)
    {
        var prms = call.Target.Entry?.Params;
        if (prms is null) return null;
        return (prms["extra_body"] ?? prms["extraBody"]) as JsonObject;
    }

    private static bool Flag(JsonObject? compat, string name, bool fallback) =>
        compat?[name] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : fallback;

    internal static void WriteMessages(Utf8JsonWriter w, ImmutableArray<ChatMessage> messages, bool supportsDeveloperRole)
    {
        w.WriteStartArray();
        foreach (var m in messages)
        {
            w.WriteStartObject();
            w.WriteString("role", m.Role == "developer" && !supportsDeveloperRole ? "system" : m.Role);
            if (!m.Parts.IsDefaultOrEmpty)
            {
                w.WriteStartArray("content");
                foreach (var part in m.Parts)
                {
                    w.WriteStartObject();
                    w.WriteString("type", part.Type);
                    if (part.Type == "image_url")
                    {
                        w.WriteStartObject("image_url");
                        w.WriteString("url", part.ImageUrl);
                        if (part.Detail is not null) w.WriteString("detail", part.Detail);
                        w.WriteEndObject();
                    }
                    else w.WriteString("text", part.Text);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            else OpenAiWire.WriteTextContent(w, m.Text, m.ToolCalls);
            OpenAiWire.WriteToolCalls(w, m.ToolCalls);
            if (m.ToolCallId is not null) w.WriteString("tool_call_id", m.ToolCallId);
            if (m.Name is not null) w.WriteString("name", m.Name);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    internal static ChatCompletion ParseCompletion(JsonElement root, string providerId)
    {
        if (root.TryGetProperty("error", out var err) && err.ValueKind == JsonValueKind.Object)
        {
            var (errorMessage, type, code) = UpstreamHttp.ExtractError(root);
            throw new UpstreamException(new UpstreamFailure(null, errorMessage, code, type, providerId), UpstreamException.NoHints);
        }
        if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            throw UpstreamHttp.Transport(providerId, UpstreamTransportError.MalformedStream, "upstream response has no choices");
        var choice = choices[0];
        var message = choice.TryGetProperty("message", out var msg) ? msg : default;
        string? text = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String
            ? c.GetString() : null;
        var calls = ImmutableArray.CreateBuilder<ToolCall>();
        if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("tool_calls", out var tc) && tc.ValueKind == JsonValueKind.Array)
            foreach (var call in tc.EnumerateArray())
            {
                var fn = call.GetProperty("function");
                calls.Add(new ToolCall(call.TryGetProperty("id", out var id) ? id.GetString() ?? "" : "",
                    fn.GetProperty("name").GetString() ?? "", fn.TryGetProperty("arguments", out var a) ? a.GetString() ?? "" : ""));
            }
        var finish = choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "stop";
        if (finish == "error")
            throw new UpstreamException(new UpstreamFailure(500, "the provider ended the response with finish_reason: error", null, null, providerId), UpstreamException.NoHints);
        return new ChatCompletion(text, calls.ToImmutable(), finish,
            root.TryGetProperty("usage", out var u) ? OpenAiChunk.ParseUsage(u) : null,
            root.TryGetProperty("model", out var model) ? model.GetString() : null);
    }
}
