using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.Anthropic;

/// <summary>
/// Writes an <c>anthropic-messages</c> request body from the canonical request: the translated rows of
/// <see cref="AnthropicFields"/> (the messages by <see cref="AnthropicMessageWriter"/>), from the decisions of
/// <see cref="AnthropicRequestShape"/>. A request with a field the wire cannot carry is never written (the run skips the
/// candidate first; this writer refuses it again rather than send it without the field).
/// </summary>
internal static class AnthropicRequestWriter
{
    public static void Write(Utf8JsonWriter w, UpstreamCall call, bool stream)
    {
        var r = call.Request;
        var target = call.Target;
        if (AnthropicFields.Unsupported(r, target) is { } unsupported)
            throw new UpstreamException(new Resilience.UpstreamFailure(400, unsupported.Message, UnsupportedField.Code,
                "invalid_request_error", target.Provider.Id) { Param = unsupported.Param }, UpstreamException.NoHints);
        var shape = AnthropicRequestShape.For(r);
        w.WriteStartObject();
        w.WriteString("model", target.Model.Id);
        var maxTokens = r.MaxTokens ?? (int)Math.Min(int.MaxValue, target.Provider.MaxTokens ?? target.Model.MaxTokens);
        if (shape.ThinkingBudget is { } budget)
        {
            // Anthropic requires max_tokens above the thinking budget: the budget comes on top of the answer's own limit,
            // unless the client gave its own budget in Anthropic's terms (its max_tokens already includes it).
            w.WriteNumber("max_tokens", r.ReasoningBudgetTokens is not null ? maxTokens : (int)Math.Min(int.MaxValue, (long)maxTokens + budget));
            w.WriteStartObject("thinking");
            w.WriteString("type", "enabled");
            w.WriteNumber("budget_tokens", budget);
            w.WriteEndObject();
        }
        else w.WriteNumber("max_tokens", maxTokens);

        AnthropicMessageWriter.WriteSystem(w, r, shape.Json is { Forced: false } offered ? offered.Instruction : null);
        AnthropicMessageWriter.WriteMessages(w, r);

        if (r.Temperature is { } t) w.WriteNumber("temperature", Math.Min(1.0, t)); // Anthropic's range is 0-1
        if (r.TopP is { } p) w.WriteNumber("top_p", p);
        if (AnthropicRequestShape.TopK(r) is { } k)
        {
            w.WritePropertyName("top_k");
            k.WriteTo(w);
        }
        if (!r.Stop.IsDefaultOrEmpty)
        {
            w.WriteStartArray("stop_sequences");
            foreach (var s in r.Stop) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        var hasTools = WriteTools(w, r, shape.Json);
        if (hasTools) WriteToolChoice(w, r, shape.Json);
        if (shape.UserId is { } user)
        {
            w.WriteStartObject("metadata");
            w.WriteString("user_id", user);
            w.WriteEndObject();
        }
        if (target.Provider.IsNativeAnthropic && ServiceTier(r) is { } tier) w.WriteString("service_tier", tier);
        if (stream) w.WriteBoolean("stream", true);
        w.WriteEndObject();
    }

    /// <summary>
    /// The body of Anthropic's <c>count_tokens</c>: the prompt of the request as <see cref="Write"/> would send it (model,
    /// thinking, system, messages, tools, tool choice), without the fields that endpoint does not take (sampling, limits).
    /// </summary>
    public static void WriteCountTokens(Utf8JsonWriter w, UpstreamCall call)
    {
        var r = call.Request;
        if (AnthropicFields.Unsupported(r, call.Target) is { } unsupported)
            throw new UpstreamException(new Resilience.UpstreamFailure(400, unsupported.Message, UnsupportedField.Code,
                "invalid_request_error", call.Target.Provider.Id) { Param = unsupported.Param }, UpstreamException.NoHints);
        var shape = AnthropicRequestShape.For(r);
        w.WriteStartObject();
        w.WriteString("model", call.Target.Model.Id);
        if (shape.ThinkingBudget is { } budget)
        {
            w.WriteStartObject("thinking");
            w.WriteString("type", "enabled");
            w.WriteNumber("budget_tokens", budget);
            w.WriteEndObject();
        }
        AnthropicMessageWriter.WriteSystem(w, r, shape.Json is { Forced: false } offered ? offered.Instruction : null);
        AnthropicMessageWriter.WriteMessages(w, r);
        if (WriteTools(w, r, shape.Json)) WriteToolChoice(w, r, shape.Json);
        w.WriteEndObject();
    }

    /// <summary>The client's function tools, then the tool carrying a JSON answer; false when there are none.</summary>
    private static bool WriteTools(Utf8JsonWriter w, ChatRequest r, JsonAnswerTool? json)
    {
        var tools = r.Tools is { ValueKind: JsonValueKind.Array } array ? array : default;
        if (tools.ValueKind != JsonValueKind.Array && json is null) return false;
        w.WriteStartArray("tools");
        if (tools.ValueKind == JsonValueKind.Array)
            foreach (var tool in tools.EnumerateArray())
            {
                if (!tool.TryGetProperty("function", out var fn)) continue;
                w.WriteStartObject();
                w.WriteString("name", fn.GetProperty("name").GetString());
                if (fn.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String) w.WriteString("description", d.GetString());
                WriteSchema(w, fn.TryGetProperty("parameters", out var schema) && schema.ValueKind == JsonValueKind.Object ? schema : null);
                if (fn.TryGetProperty("strict", out var strict) && strict.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    w.WriteBoolean("strict", strict.ValueKind == JsonValueKind.True);
                if (tool.TryGetProperty("cache_control", out var cache) && cache.ValueKind == JsonValueKind.Object)
                {
                    w.WritePropertyName("cache_control");
                    cache.WriteTo(w);
                }
                w.WriteEndObject();
            }
        if (json is not null)
        {
            w.WriteStartObject();
            w.WriteString("name", json.Name);
            if (json.Description is not null) w.WriteString("description", json.Description);
            WriteSchema(w, json.Schema);
            if (json.Strict) w.WriteBoolean("strict", true);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        return true;
    }

    /// <summary><c>input_schema</c>: the schema as written, or any object.</summary>
    private static void WriteSchema(Utf8JsonWriter w, JsonElement? schema)
    {
        w.WritePropertyName("input_schema");
        if (schema is { } s)
        {
            s.WriteTo(w);
            return;
        }
        w.WriteStartObject();
        w.WriteString("type", "object");
        w.WriteBoolean("additionalProperties", true);
        w.WriteEndObject();
    }

    /// <summary>
    /// OpenAI's <c>tool_choice</c> as Anthropic's: auto, none, required as any, a named function as tool. A JSON answer is
    /// forced (tool), or, when the client's tools may be called instead, any tool is (any); <c>parallel_tool_calls: false</c>
    /// is <c>disable_parallel_tool_use</c>.
    /// </summary>
    private static void WriteToolChoice(Utf8JsonWriter w, ChatRequest r, JsonAnswerTool? json)
    {
        var choice = r.ToolChoice;
        var named = choice is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty("function", out var f) ? f.GetProperty("name").GetString() : null;
        var word = choice is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;
        var userTools = r.Tools is { ValueKind: JsonValueKind.Array } tools && tools.GetArrayLength() > 0;
        string type;
        string? name = null;
        if (named is not null) (type, name) = ("tool", named);
        else if (json is { Forced: true })
            (type, name) = word == "none" || !userTools ? ("tool", json.Name) : ("any", null);
        else (type, name) = (word switch { "required" => "any", "none" => "none", _ => "auto" }, null);
        if (choice is null && json is null && r.ParallelToolCalls is not false) return; // Anthropic's default is auto
        w.WriteStartObject("tool_choice");
        w.WriteString("type", type);
        if (name is not null) w.WriteString("name", name);
        if (r.ParallelToolCalls is false && type != "none") w.WriteBoolean("disable_parallel_tool_use", true);
        w.WriteEndObject();
    }

    /// <summary>
    /// Anthropic's <c>service_tier</c> (its own API only): the client's <c>service_tier</c> (auto and priority → auto, default →
    /// standard_only), else fast mode (on → auto, off → standard_only); null = Anthropic's default.
    /// </summary>
    private static string? ServiceTier(ChatRequest r) => r.ServiceTier switch
    {
        "auto" or "priority" => "auto",
        "default" => "standard_only",
        _ => r.FastMode switch { true => "auto", false => "standard_only", null => null },
    };
}
