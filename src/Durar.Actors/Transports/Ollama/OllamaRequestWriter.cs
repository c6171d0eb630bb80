using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Transports.Anthropic;

namespace Durar.Actors.Transports.Ollama;

/// <summary>
/// Writes an Ollama <c>POST /api/chat</c> body from the canonical request, carrying out the translated rows of
/// <see cref="OllamaFields"/>: messages (text as one string, images as base64, tool calls with object arguments, tool results
/// with <c>tool_name</c>), tools, <c>format</c>, <c>think</c>, <c>keep_alive</c> and <c>options</c>, where <c>num_ctx</c> is the
/// model's context window (the reference's <c>injectNumCtxForOpenAICompat</c>: Ollama's own default of 2048-4096 tokens would
/// otherwise cut long prompts silently) when it is known: configured, or discovered from <c>/api/show</c>.
/// </summary>
internal static class OllamaRequestWriter
{
    public static void Write(Utf8JsonWriter w, UpstreamCall call, bool stream)
    {
        var r = call.Request;
        var target = call.Target;
        if (OllamaFields.Unsupported(r, target) is { } unsupported)
            throw new UpstreamException(new Resilience.UpstreamFailure(400, unsupported.Message, UnsupportedField.Code,
                "invalid_request_error", target.Provider.Id) { Param = unsupported.Param }, UpstreamException.NoHints);
        w.WriteStartObject();
        w.WriteString("model", target.Model.Id);
        WriteMessages(w, r);
        var toolsOff = r.ToolChoice is { ValueKind: JsonValueKind.String } choice && choice.ValueEquals("none");
        if (!toolsOff && r.Tools is { ValueKind: JsonValueKind.Array } tools && tools.GetArrayLength() > 0) WriteTools(w, tools);
        WriteFormat(w, r);
        WriteThink(w, call);
        if (KeepAlive(call) is { } keepAlive)
        {
            w.WritePropertyName("keep_alive");
            keepAlive.WriteTo(w);
        }
        w.WriteBoolean("stream", stream);
        WriteOptions(w, call);
        w.WriteEndObject();
    }

    private static void WriteMessages(Utf8JsonWriter w, ChatRequest r)
    {
        w.WriteStartArray("messages");
        foreach (var m in r.Messages)
        {
            w.WriteStartObject();
            w.WriteString("role", m.Role == "developer" ? "system" : m.Role);
            w.WriteString("content", Content(m));
            var images = m.Parts.IsDefaultOrEmpty ? null : m.Parts.Where(p => p.Type == ContentPartTypes.ImageUrl).ToList();
            if (images is { Count: > 0 })
            {
                w.WriteStartArray("images");
                foreach (var image in images) w.WriteStringValue(OllamaFields.ImageData(image.ImageUrl));
                w.WriteEndArray();
            }
            if (m.Role == "assistant" && m.Reasoning is { Length: > 0 } thinking) w.WriteString("thinking", thinking);
            if (!m.ToolCalls.IsDefaultOrEmpty)
            {
                w.WriteStartArray("tool_calls");
                foreach (var tc in m.ToolCalls)
                {
                    w.WriteStartObject();
                    w.WriteStartObject("function");
                    w.WriteString("name", tc.Name);
                    w.WritePropertyName("arguments");
                    WriteArguments(w, tc.Arguments);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            if (m.Role == "tool" && (m.Name ?? ToolName(r, m.ToolCallId)) is { } toolName) w.WriteString("tool_name", toolName);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>The text of a message; an assistant's refusal is what it said.</summary>
    private static string Content(ChatMessage m)
    {
        var text = m.AllText;
        return text.Length == 0 && m.Refusal is { Length: > 0 } refusal ? refusal : text;
    }

    /// <summary>Ollama takes arguments as an object; a string that is not a JSON object is sent wrapped, never lost.</summary>
    private static void WriteArguments(Utf8JsonWriter w, string arguments)
    {
        try
        {
            using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(arguments) ? "{}" : arguments);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                doc.RootElement.WriteTo(w);
                return;
            }
        }
        catch (JsonException)
        {
            // not JSON: wrapped below
        }
        w.WriteStartObject();
        w.WriteString("input", arguments);
        w.WriteEndObject();
    }

    /// <summary>The function name of the assistant tool call a tool result answers (Ollama links results by name).</summary>
    private static string? ToolName(ChatRequest r, string? toolCallId)
    {
        if (toolCallId is null) return null;
        foreach (var m in r.Messages)
            foreach (var tc in m.ToolCalls.IsDefault ? [] : m.ToolCalls)
                if (tc.Id == toolCallId) return tc.Name;
        return null;
    }

    private static void WriteTools(Utf8JsonWriter w, JsonElement tools)
    {
        w.WriteStartArray("tools");
        foreach (var tool in tools.EnumerateArray())
        {
            if (!tool.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object) continue;
            w.WriteStartObject();
            w.WriteString("type", "function");
            w.WriteStartObject("function");
            foreach (var p in fn.EnumerateObject())
                if (p.Name is "name" or "description" or "parameters") p.WriteTo(w);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteFormat(Utf8JsonWriter w, ChatRequest r)
    {
        if (r.ResponseFormat is not { ValueKind: JsonValueKind.Object } format || !format.TryGetProperty("type", out var type)) return;
        if (type.ValueEquals("json_object")) w.WriteString("format", "json");
        else if (type.ValueEquals("json_schema") && format.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object
                 && js.TryGetProperty("schema", out var schema))
        {
            w.WritePropertyName("format");
            schema.WriteTo(w);
        }
    }

    /// <summary>
    /// <c>think</c>: <c>reasoning_effort = none</c> turns it off, any other effort (or a session's thinking budget) on; gpt-oss
    /// models take the level itself. Without either, nothing is sent and the model decides (Ollama's default).
    /// </summary>
    private static void WriteThink(Utf8JsonWriter w, UpstreamCall call)
    {
        var r = call.Request;
        if (r.ReasoningEffort is { } effort)
        {
            if (effort == "none") w.WriteBoolean("think", false);
            else if (call.Target.Model.Id.Contains("gpt-oss", StringComparison.OrdinalIgnoreCase))
                w.WriteString("think", effort is "low" or "medium" or "high" ? effort : effort == "minimal" ? "low" : "high");
            else w.WriteBoolean("think", true);
        }
        else if (r.ThinkingBudgetTokens is > 0) w.WriteBoolean("think", true);
    }

    /// <summary>
    /// <c>keep_alive</c>: the client's own field, else <c>agents.defaults.models["p/m"].params.keep_alive</c>; null = Ollama's
    /// default (five minutes).
    /// </summary>
    private static JsonElement? KeepAlive(UpstreamCall call)
    {
        if (AnthropicFields.Field(call.Request, "keep_alive") is { ValueKind: not JsonValueKind.Null } own) return own;
        if (call.Target.Entry?.Params is { } p && (p["keep_alive"] ?? p["keepAlive"]) is { } configured)
            return JsonSerializer.SerializeToElement(configured);
        return null;
    }

    private static void WriteOptions(Utf8JsonWriter w, UpstreamCall call)
    {
        var r = call.Request;
        var model = call.Target.Model;
        w.WriteStartObject("options");
        // A window nobody stated (the catalog's 200k default for an unknown model) is not sent: Ollama would allocate a
        // cache that large. A configured or discovered window is.
        if (model.ContextTokens is { } cap) w.WriteNumber("num_ctx", cap);
        else if (model.ContextWindow != Catalog.ModelDefinition.DefaultContextWindow) w.WriteNumber("num_ctx", model.ContextWindow);
        if (r.MaxTokens is { } max) w.WriteNumber("num_predict", max);
        if (r.Temperature is { } t) w.WriteNumber("temperature", t);
        if (r.TopP is { } p) w.WriteNumber("top_p", p);
        if (AnthropicFields.Field(r, "top_k") is { ValueKind: JsonValueKind.Number } k)
        {
            w.WritePropertyName("top_k");
            k.WriteTo(w);
        }
        if (r.Seed is { } seed) w.WriteNumber("seed", seed);
        if (r.FrequencyPenalty is { } f) w.WriteNumber("frequency_penalty", f);
        if (r.PresencePenalty is { } pp) w.WriteNumber("presence_penalty", pp);
        if (!r.Stop.IsDefaultOrEmpty)
        {
            w.WriteStartArray("stop");
            foreach (var s in r.Stop) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }
}
