using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Transports.Anthropic;
using Durar.Actors.Transports.OpenAi;

namespace Durar.Actors.Transports.OpenAiResponses;

/// <summary>
/// Writes a Responses API body (<c>POST /responses</c>) from the canonical request, carrying out the translated rows of
/// <see cref="ResponsesFields"/>: messages become input items (system/developer messages, user content parts as
/// <c>input_text</c>/<c>input_image</c>/<c>input_file</c>, assistant text, <c>function_call</c> and
/// <c>function_call_output</c> items), tools become flat function tools, <c>response_format</c> becomes <c>text.format</c>,
/// the effort <c>reasoning.effort</c> with summaries on. A request with a field the wire cannot carry is never written.
/// </summary>
internal static class ResponsesRequestWriter
{
    public static void Write(Utf8JsonWriter w, UpstreamCall call, bool stream) => Write(w, call, stream, chatGpt: false);

    /// <summary>
    /// The body for OpenAI's platform (<paramref name="chatGpt"/> false) or for the ChatGPT backend's Codex endpoint, which
    /// takes the system prompt as <c>instructions</c>, streams only, keeps nothing (<c>store: false</c>) and takes no
    /// sampling or length fields (<see cref="OpenAiCodexTransport.Dropped"/> names them).
    /// </summary>
    public static void Write(Utf8JsonWriter w, UpstreamCall call, bool stream, bool chatGpt)
    {
        var r = call.Request;
        var target = call.Target;
        if ((chatGpt ? OpenAiCodexTransport.Refused(r, target) : ResponsesFields.Unsupported(r, target)) is { } unsupported)
            throw new UpstreamException(new Resilience.UpstreamFailure(400, unsupported.Message, UnsupportedField.Code,
                "invalid_request_error", target.Provider.Id) { Param = unsupported.Param }, UpstreamException.NoHints);
        var shaping = OpenAiShaping.For(target);
        var native = target.Provider.IsNativeOpenAi || chatGpt;
        w.WriteStartObject();
        w.WriteString("model", target.Model.Id);
        if (chatGpt) w.WriteString("instructions", string.Join("\n\n", r.Messages.Where(m => m.Role is "system" or "developer").Select(m => m.AllText)));
        WriteInput(w, r, shaping.SupportsDeveloperRole, skipSystem: chatGpt);
        if (!chatGpt)
        {
            if (r.MaxTokens is { } max) w.WriteNumber("max_output_tokens", max);
            if (r.Temperature is { } t) w.WriteNumber("temperature", t);
            if (r.TopP is { } p) w.WriteNumber("top_p", p);
        }
        WriteTools(w, r);
        if (r.ParallelToolCalls is { } parallel) w.WriteBoolean("parallel_tool_calls", parallel);
        WriteText(w, r);
        if (r.ReasoningEffort is { } effort)
        {
            var sent = shaping.Effort(effort) ?? effort; // a standard field of the Responses API: mapped by compat, never dropped
            w.WriteStartObject("reasoning");
            w.WriteString("effort", sent);
            if (sent != "none") w.WriteString("summary", r.ReasoningSummary ?? "auto");
            w.WriteEndObject();
        }
        else if (r.ReasoningSummary is { } summary)
        {
            w.WriteStartObject("reasoning");
            w.WriteString("summary", summary);
            w.WriteEndObject();
        }
        if (r.Metadata is { ValueKind: JsonValueKind.Object } metadata)
        {
            w.WritePropertyName("metadata");
            metadata.WriteTo(w);
        }
        if (r.User is { } user) w.WriteString("user", user);
        // The Responses dialect's own fields, as the client wrote them (text.verbosity went into `text`).
        foreach (var (name, value) in r.ResponsesOnly)
            if (!name.Contains('.', StringComparison.Ordinal) && AnthropicFields.Field(r, name) is null)
            {
                w.WritePropertyName(name);
                value.WriteTo(w);
            }
        Copy(w, r, "safety_identifier");
        if (native)
        {
            if ((r.ServiceTier ?? (r.FastMode == true ? "priority" : null)) is { } tier) w.WriteString("service_tier", tier);
            Copy(w, r, "prompt_cache_key");
            Copy(w, r, "prompt_cache_retention");
        }
        // The gateway keeps no upstream state: a host that stores responses by default is told not to, unless a native
        // client asked for it.
        if (chatGpt) w.WriteBoolean("store", false);
        else if (native && AnthropicFields.Field(r, "store") is { ValueKind: JsonValueKind.True or JsonValueKind.False } store)
            w.WriteBoolean("store", store.ValueKind == JsonValueKind.True);
        else if (ResponsesFields.StoresResponses(target)) w.WriteBoolean("store", false);
        if (ResponsesFields.StoresResponses(target)) Copy(w, r, "previous_response_id");
        w.WriteBoolean("stream", stream || chatGpt);
        w.WriteEndObject();
    }

    private static void WriteInput(Utf8JsonWriter w, ChatRequest r, bool developerRole, bool skipSystem)
    {
        w.WriteStartArray("input");
        foreach (var m in r.Messages)
        {
            switch (m.Role)
            {
                case "system" or "developer" when skipSystem:
                    break;
                case "system" or "developer":
                    w.WriteStartObject();
                    w.WriteString("role", m.Role == "developer" && developerRole ? "developer" : "system");
                    w.WriteString("content", m.AllText);
                    w.WriteEndObject();
                    break;
                case "tool":
                    w.WriteStartObject();
                    w.WriteString("type", "function_call_output");
                    w.WriteString("call_id", m.ToolCallId ?? "");
                    w.WriteString("output", m.AllText);
                    w.WriteEndObject();
                    break;
                case "assistant":
                    var said = m.AllText is { Length: > 0 } text ? text : m.Refusal;
                    if (said is { Length: > 0 })
                    {
                        w.WriteStartObject();
                        w.WriteString("role", "assistant");
                        w.WriteString("content", said);
                        w.WriteEndObject();
                    }
                    foreach (var tc in m.ToolCalls.IsDefault ? [] : m.ToolCalls)
                    {
                        w.WriteStartObject();
                        w.WriteString("type", "function_call");
                        w.WriteString("call_id", tc.Id);
                        w.WriteString("name", tc.Name);
                        w.WriteString("arguments", tc.Arguments);
                        w.WriteEndObject();
                    }
                    break;
                default:
                    WriteUser(w, m);
                    break;
            }
        }
        w.WriteEndArray();
    }

    private static void WriteUser(Utf8JsonWriter w, ChatMessage m)
    {
        w.WriteStartObject();
        w.WriteString("role", "user");
        if (m.Parts.IsDefaultOrEmpty)
        {
            w.WriteString("content", m.Text ?? "");
            w.WriteEndObject();
            return;
        }
        w.WriteStartArray("content");
        foreach (var part in m.Parts)
        {
            w.WriteStartObject();
            switch (part.Type)
            {
                case ContentPartTypes.ImageUrl:
                    w.WriteString("type", "input_image");
                    w.WriteString("image_url", part.ImageUrl);
                    w.WriteString("detail", part.Detail ?? "auto");
                    break;
                case ContentPartTypes.File:
                    w.WriteString("type", "input_file");
                    if (part.FileId is { } id) w.WriteString("file_id", id);
                    if (part.Data is { } data) w.WriteString("file_data", data);
                    if (part.FileName is { } name) w.WriteString("filename", name);
                    break;
                default:
                    w.WriteString("type", "input_text");
                    w.WriteString("text", part.Text ?? "");
                    break;
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteTools(Utf8JsonWriter w, ChatRequest r)
    {
        if (r.Tools is not { ValueKind: JsonValueKind.Array } tools || tools.GetArrayLength() == 0) return;
        w.WriteStartArray("tools");
        foreach (var tool in tools.EnumerateArray())
        {
            if (!tool.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object) continue;
            w.WriteStartObject();
            w.WriteString("type", "function");
            foreach (var p in fn.EnumerateObject())
                if (p.Name is "name" or "description" or "parameters" or "strict") p.WriteTo(w);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (r.ToolChoice is not { } choice || choice.ValueKind == JsonValueKind.Null) return;
        if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var named)
            && named.TryGetProperty("name", out var name))
        {
            w.WriteStartObject("tool_choice");
            w.WriteString("type", "function");
            w.WriteString("name", name.GetString());
            w.WriteEndObject();
        }
        else
        {
            w.WritePropertyName("tool_choice");
            choice.WriteTo(w);
        }
    }

    /// <summary><c>text</c>: the answer's format (<c>response_format</c>) and <c>verbosity</c>.</summary>
    private static void WriteText(Utf8JsonWriter w, ChatRequest r)
    {
        var verbosity = AnthropicFields.Field(r, "verbosity") ?? (r.ResponsesOnly.TryGetValue("text.verbosity", out var v2) ? v2 : null);
        var format = r.ResponseFormat is { ValueKind: JsonValueKind.Object } f && f.TryGetProperty("type", out var type) ? (f, type) : default((JsonElement, JsonElement)?);
        if (format is null && verbosity is not { ValueKind: JsonValueKind.String }) return;
        w.WriteStartObject("text");
        if (format is var (body, kind))
        {
            w.WriteStartObject("format");
            w.WritePropertyName("type");
            kind.WriteTo(w);
            if (kind.ValueEquals("json_schema") && body.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object)
                foreach (var p in js.EnumerateObject())
                    p.WriteTo(w);
            w.WriteEndObject();
        }
        if (verbosity is { ValueKind: JsonValueKind.String } v)
        {
            w.WritePropertyName("verbosity");
            v.WriteTo(w);
        }
        w.WriteEndObject();
    }

    private static void Copy(Utf8JsonWriter w, ChatRequest r, string field)
    {
        if (AnthropicFields.Field(r, field) is not { ValueKind: not JsonValueKind.Null } value) return;
        w.WritePropertyName(field);
        value.WriteTo(w);
    }
}
