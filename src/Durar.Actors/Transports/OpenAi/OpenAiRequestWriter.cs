using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.OpenAi;

/// <summary>
/// Writes an <c>openai-completions</c> request body. A request that came in the same dialect is forwarded field for field
/// (<see cref="ChatRequest.Original"/>: unknown and future fields, nested objects and number formatting survive) with only
/// these edits: <c>model</c> is the upstream id; the messages are the session's own history when a session built them, and
/// a <c>developer</c> role becomes <c>system</c> for targets without it; <c>max_tokens</c>/<c>max_completion_tokens</c> is
/// named as the target wants; fields the target does not take are dropped (<see cref="OpenAiShaping"/>); the gateway's own
/// fields (<c>fallbacks</c>, <c>models</c>) are consumed; <c>stream</c> is the call's and streaming always asks for usage;
/// a session's reasoning effort or fast mode is added when the client set none; the model's <c>params.extra_body</c> is
/// merged last and wins. Any other request is written from its typed fields.
/// </summary>
internal static class OpenAiRequestWriter
{
    public static void Write(Utf8JsonWriter w, UpstreamCall call, bool stream)
    {
        var shaping = OpenAiShaping.For(call.Target);
        var extra = ExtraBody(call);
        w.WriteStartObject();
        if (call.Request.Original is { ValueKind: JsonValueKind.Object } original) WriteForwarded(w, call, shaping, original, extra);
        else WriteTyped(w, call, shaping, extra);
        WriteAdditions(w, call.Request, shaping, extra, call.Request.Original);
        WriteStream(w, call.Request.Original, shaping, stream, extra);
        if (extra is not null)
            foreach (var (name, value) in extra)
            {
                w.WritePropertyName(name);
                if (value is null) w.WriteNullValue(); else value.WriteTo(w);
            }
        w.WriteEndObject();
    }

    private static void WriteForwarded(Utf8JsonWriter w, UpstreamCall call, OpenAiShaping shaping, JsonElement original, JsonObject? extra)
    {
        var r = call.Request;
        var maxTokensWritten = false;
        // Property names are matched in the body's UTF-8; a name is read as a string only for a field the rules must look up.
        foreach (var p in original.EnumerateObject())
        {
            if (extra is not null && extra.ContainsKey(p.Name)) continue; // params.extra_body wins
            if (p.NameEquals("model"))
                w.WriteString("model", call.Target.Model.Id);
            else if (p.NameEquals("messages"))
            {
                w.WritePropertyName("messages");
                if (r.MessagesAreOriginal) WriteOriginalMessages(w, p.Value, shaping);
                else WriteMessages(w, r.Messages, shaping);
            }
            else if (p.NameEquals("stream") || p.NameEquals("stream_options"))
                continue; // the call's own, below
            else if (p.NameEquals("max_tokens") || p.NameEquals("max_completion_tokens"))
            {
                if (maxTokensWritten) continue;
                maxTokensWritten = true;
                w.WritePropertyName(shaping.MaxTokensField);
                p.Value.WriteTo(w);
            }
            else if (p.NameEquals("reasoning_effort") && p.Value.ValueKind == JsonValueKind.String)
            {
                if (shaping.Effort(p.Value.GetString()!) is { } effort) w.WriteString("reasoning_effort", effort);
            }
            else if (shaping.Keeps(p.Name))
                p.WriteTo(w);
        }
        foreach (var (name, value) in r.Extra)
            if (!original.TryGetProperty(name, out _) && extra?.ContainsKey(name) != true && shaping.Keeps(name))
            {
                w.WritePropertyName(name);
                value.WriteTo(w);
            }
    }

    /// <summary>What the run or a session adds when the client did not say it: its own reasoning effort, fast mode, output cap.</summary>
    private static void WriteAdditions(Utf8JsonWriter w, ChatRequest r, OpenAiShaping shaping, JsonObject? extra, JsonElement? original)
    {
        if (original is not { } body) return;
        bool Has(string name) => body.TryGetProperty(name, out _) || extra?.ContainsKey(name) == true;
        if (r.ReasoningEffort is { } effort && !Has("reasoning_effort") && shaping.Effort(effort) is { } shaped) w.WriteString("reasoning_effort", shaped);
        if (shaping.Native && r.FastMode is true && !Has("service_tier")) w.WriteString("service_tier", "priority");
        if (r.MaxTokens is { } max && !Has("max_tokens") && !Has("max_completion_tokens") && !Has(shaping.MaxTokensField))
            w.WriteNumber(shaping.MaxTokensField, max);
    }

    /// <summary>
    /// <c>stream</c> as the call needs it (a client's <c>"stream": false</c> stays); a stream always asks for usage (the client's
    /// other stream options are kept). A call that does not stream sends no <c>stream_options</c>: OpenAI refuses them there.
    /// </summary>
    private static void WriteStream(Utf8JsonWriter w, JsonElement? original, OpenAiShaping shaping, bool stream, JsonObject? extra)
    {
        if (extra?.ContainsKey("stream") == true) return;
        if (!stream)
        {
            if (original is { } written && written.TryGetProperty("stream", out _)) w.WriteBoolean("stream", false);
            return;
        }
        w.WriteBoolean("stream", true);
        if (extra?.ContainsKey("stream_options") == true) return;
        var options = original is { } body && body.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object ? so : default;
        if (!shaping.SupportsUsageInStreaming)
        {
            if (options.ValueKind != JsonValueKind.Object) return;
            w.WriteStartObject("stream_options");
            foreach (var p in options.EnumerateObject())
                if (p.Name != "include_usage") p.WriteTo(w);
            w.WriteEndObject();
            return;
        }
        w.WriteStartObject("stream_options");
        if (options.ValueKind == JsonValueKind.Object)
            foreach (var p in options.EnumerateObject())
                if (p.Name != "include_usage") p.WriteTo(w);
        w.WriteBoolean("include_usage", true);
        w.WriteEndObject();
    }

    /// <summary>The client's messages as written, but for the role and content rules of the target.</summary>
    private static void WriteOriginalMessages(Utf8JsonWriter w, JsonElement messages, OpenAiShaping shaping)
    {
        w.WriteStartArray();
        foreach (var m in messages.EnumerateArray())
        {
            var developer = !shaping.SupportsDeveloperRole && m.TryGetProperty("role", out var role) && role.ValueEquals("developer");
            var collapse = shaping.RequiresStringContent && m.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.Array;
            if (!developer && !collapse)
            {
                m.WriteTo(w);
                continue;
            }
            w.WriteStartObject();
            foreach (var p in m.EnumerateObject())
            {
                if (developer && p.NameEquals("role")) w.WriteString("role", "system");
                else if (collapse && p.NameEquals("content")) w.WriteString("content", TextOf(p.Value));
                else p.WriteTo(w);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static string TextOf(JsonElement parts) =>
        string.Concat(parts.EnumerateArray().Where(p => p.TryGetProperty("type", out var t) && t.ValueEquals("text") && p.TryGetProperty("text", out _))
            .Select(p => p.GetProperty("text").GetString()));

    private static void WriteTyped(Utf8JsonWriter w, UpstreamCall call, OpenAiShaping shaping, JsonObject? extra)
    {
        var r = call.Request;
        bool Has(string name) => extra?.ContainsKey(name) == true;
        if (!Has("model")) w.WriteString("model", call.Target.Model.Id);
        if (!Has("messages"))
        {
            w.WritePropertyName("messages");
            WriteMessages(w, r.Messages, shaping);
        }
        if (shaping.SupportsTools)
        {
            if (r.Tools is { } tools && !Has("tools")) { w.WritePropertyName("tools"); tools.WriteTo(w); }
            if (r.ToolChoice is { } choice && !Has("tool_choice")) { w.WritePropertyName("tool_choice"); choice.WriteTo(w); }
            if (r.ParallelToolCalls is { } parallel && !Has("parallel_tool_calls")) w.WriteBoolean("parallel_tool_calls", parallel);
        }
        if (r.ResponseFormat is { } format && !Has("response_format")) { w.WritePropertyName("response_format"); format.WriteTo(w); }
        if (r.MaxTokens is { } max && !Has(shaping.MaxTokensField)) w.WriteNumber(shaping.MaxTokensField, max);
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
        if (r.Metadata is { } metadata && !Has("metadata")) { w.WritePropertyName("metadata"); metadata.WriteTo(w); }
        if (r.N is { } n && !Has("n")) w.WriteNumber("n", n);
        if (r.Logprobs is { } logprobs && !Has("logprobs")) w.WriteBoolean("logprobs", logprobs);
        if (r.TopLogprobs is { } top && !Has("top_logprobs")) w.WriteNumber("top_logprobs", top);
        if (r.ReasoningEffort is { } effort && !Has("reasoning_effort") && shaping.Effort(effort) is { } shaped) w.WriteString("reasoning_effort", shaped);
        if (shaping.Native && !Has("service_tier"))
        {
            if (r.ServiceTier is { } tier) w.WriteString("service_tier", tier);
            else if (r.FastMode is true) w.WriteString("service_tier", "priority");
        }
        foreach (var (name, value) in r.Extra)
            if (!Has(name) && shaping.Keeps(name))
            {
                w.WritePropertyName(name);
                value.WriteTo(w);
            }
    }

    internal static void WriteMessages(Utf8JsonWriter w, ImmutableArray<ChatMessage> messages, OpenAiShaping shaping)
    {
        w.WriteStartArray();
        foreach (var m in messages)
        {
            w.WriteStartObject();
            w.WriteString("role", m.Role == "developer" && !shaping.SupportsDeveloperRole ? "system" : m.Role);
            if (!m.Parts.IsDefaultOrEmpty && !shaping.RequiresStringContent)
            {
                w.WriteStartArray("content");
                foreach (var part in m.Parts) WritePart(w, part);
                w.WriteEndArray();
            }
            else if (!m.Parts.IsDefaultOrEmpty) w.WriteString("content", m.AllText);
            else OpenAiWire.WriteTextContent(w, m.Text, m.ToolCalls);
            if (m.Refusal is not null) w.WriteString("refusal", m.Refusal);
            OpenAiWire.WriteToolCalls(w, m.ToolCalls);
            if (m.ToolCallId is not null) w.WriteString("tool_call_id", m.ToolCallId);
            if (m.Name is not null) w.WriteString("name", m.Name);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WritePart(Utf8JsonWriter w, ContentPart part)
    {
        w.WriteStartObject();
        w.WriteString("type", part.Type);
        switch (part.Type)
        {
            case ContentPartTypes.ImageUrl:
                w.WriteStartObject("image_url");
                w.WriteString("url", part.ImageUrl);
                if (part.Detail is not null) w.WriteString("detail", part.Detail);
                w.WriteEndObject();
                break;
            case ContentPartTypes.InputAudio:
                w.WriteStartObject("input_audio");
                w.WriteString("data", part.Data);
                w.WriteString("format", part.Format);
                w.WriteEndObject();
                break;
            case ContentPartTypes.File:
                w.WriteStartObject("file");
                if (part.Data is not null) w.WriteString("file_data", part.Data);
                if (part.FileId is not null) w.WriteString("file_id", part.FileId);
                if (part.FileName is not null) w.WriteString("filename", part.FileName);
                w.WriteEndObject();
                break;
            case ContentPartTypes.Refusal:
                w.WriteString("refusal", part.Text);
                break;
            default:
                w.WriteString("text", part.Text);
                break;
        }
        w.WriteEndObject();
    }

    internal static JsonObject? ExtraBody(UpstreamCall call)
    {
        var prms = call.Target.Entry?.Params;
        if (prms is null) return null;
        return (prms["extra_body"] ?? prms["extraBody"]) as JsonObject;
    }
}
