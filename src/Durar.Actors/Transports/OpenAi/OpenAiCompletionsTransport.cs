using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.OpenAi;

/// <summary>
/// The <c>openai-completions</c> transport: <c>POST {baseUrl}/chat/completions</c>, JSON or SSE. Native OpenAI
/// (<c>api.openai.com</c>) keeps native-only fields; every other host is treated as a proxy: no <c>developer</c> role,
/// no <c>service_tier</c>, <c>store</c> or prompt-cache hints. Streaming always asks the upstream for usage.
/// </summary>
internal sealed class OpenAiCompletionsTransport(IHttpClientFactory httpClients, UpstreamSettings upstream)
    : HttpChatTransport<OpenAiChunk>(httpClients, upstream)
{
    private static readonly SseFraming<OpenAiChunk> Sse = new(static (_, data) => OpenAiChunk.Parse(data));

    protected override IStreamFraming<OpenAiChunk> Framing => Sse;

    protected override string RequestPath(UpstreamCall call, bool stream) => "/chat/completions";

    protected override IStreamDecoder<OpenAiChunk> NewStreamDecoder(UpstreamCall call) => OpenAiStreamDecoder.Instance;

    protected override void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream)
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

    protected override ChatCompletion ParseCompletion(JsonElement root, string providerId)
    {
        if (root.TryGetProperty("error", out var err) && err.ValueKind == JsonValueKind.Object)
        {
            var (errorMessage, type, code) = UpstreamErrors.ExtractError(root);
            throw new UpstreamException(new UpstreamFailure(null, errorMessage, code, type, providerId), UpstreamException.NoHints);
        }
        if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            throw UpstreamErrors.Transport(providerId, UpstreamTransportError.MalformedStream, "upstream response has no choices");
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
