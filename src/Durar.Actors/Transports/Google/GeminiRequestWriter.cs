using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Models;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// Writes a Gemini <c>GenerateContentRequest</c> from the canonical request: the translated rows of <see cref="GeminiFields"/>
/// (the contents by <see cref="GeminiContentWriter"/>). The same object is the whole body of <c>google-generative-ai</c> and
/// <c>google-vertex</c>, and the <c>request</c> of Cloud Code Assist's envelope. A request with a field Gemini cannot carry is
/// never written (the run skips the candidate first; this refuses it again rather than send it without the field).
/// </summary>
internal static class GeminiRequestWriter
{
    /// <summary>The request object (start to end).</summary>
    public static void Write(Utf8JsonWriter w, UpstreamCall call)
    {
        var r = call.Request;
        if (GeminiFields.Unsupported(r, call.Target) is { } unsupported)
            throw new UpstreamException(new Resilience.UpstreamFailure(400, unsupported.Message, UnsupportedField.Code,
                "invalid_request_error", call.Target.Provider.Id) { Param = unsupported.Param }, UpstreamException.NoHints);
        w.WriteStartObject();
        GeminiContentWriter.WriteContents(w, r);
        GeminiContentWriter.WriteSystemInstruction(w, r);
        WriteTools(w, r);
        WriteGenerationConfig(w, r, call.Target);
        w.WriteEndObject();
    }

    private static void WriteTools(Utf8JsonWriter w, ChatRequest r)
    {
        if (r.Tools is not { ValueKind: JsonValueKind.Array } tools || tools.GetArrayLength() == 0) return;
        w.WriteStartArray("tools");
        w.WriteStartObject();
        w.WriteStartArray("functionDeclarations");
        foreach (var tool in tools.EnumerateArray())
        {
            if (!tool.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object) continue;
            w.WriteStartObject();
            w.WriteString("name", fn.GetProperty("name").GetString());
            if (fn.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String) w.WriteString("description", d.GetString());
            if (fn.TryGetProperty("parameters", out var schema) && schema.ValueKind == JsonValueKind.Object)
            {
                w.WritePropertyName("parametersJsonSchema");
                schema.WriteTo(w);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        if (r.ToolChoice is not { } choice) return;
        var named = choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var f) && f.TryGetProperty("name", out var n)
            ? n.GetString()
            : null;
        var word = choice.ValueKind == JsonValueKind.String ? choice.GetString() : null;
        w.WriteStartObject("toolConfig");
        w.WriteStartObject("functionCallingConfig");
        w.WriteString("mode", named is not null ? "ANY" : word switch { "required" => "ANY", "none" => "NONE", _ => "AUTO" });
        if (named is not null)
        {
            w.WriteStartArray("allowedFunctionNames");
            w.WriteStringValue(named);
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteGenerationConfig(Utf8JsonWriter w, ChatRequest r, ResolvedModel target)
    {
        w.WriteStartObject("generationConfig");
        if (r.MaxTokens is { } max) w.WriteNumber("maxOutputTokens", max);
        if (r.Temperature is { } t) w.WriteNumber("temperature", t);
        if (r.TopP is { } p) w.WriteNumber("topP", p);
        if (GeminiFields.TopK(r) is { } k)
        {
            w.WritePropertyName("topK");
            k.WriteTo(w);
        }
        if (!r.Stop.IsDefaultOrEmpty)
        {
            w.WriteStartArray("stopSequences");
            foreach (var s in r.Stop) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        if (r.Seed is { } seed) w.WriteNumber("seed", seed);
        if (r.PresencePenalty is { } presence) w.WriteNumber("presencePenalty", presence);
        if (r.FrequencyPenalty is { } frequency) w.WriteNumber("frequencyPenalty", frequency);
        WriteResponseFormat(w, r);
        if (Thinking(r, target) is var (budget, include))
        {
            w.WriteStartObject("thinkingConfig");
            w.WriteNumber("thinkingBudget", budget);
            if (include) w.WriteBoolean("includeThoughts", true);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void WriteResponseFormat(Utf8JsonWriter w, ChatRequest r)
    {
        if (r.ResponseFormat is not { ValueKind: JsonValueKind.Object } format || !format.TryGetProperty("type", out var type)) return;
        if (type.ValueEquals("json_object"))
            w.WriteString("responseMimeType", "application/json");
        else if (type.ValueEquals("json_schema"))
        {
            w.WriteString("responseMimeType", "application/json");
            if (format.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object
                && js.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
            {
                w.WritePropertyName("responseJsonSchema");
                schema.WriteTo(w);
            }
        }
    }

    /// <summary>
    /// Gemini's <c>thinkingConfig</c>: the client's <c>reasoning_effort</c> (by <see cref="ReasoningBudgets"/>, the same table as
    /// Anthropic's budgets; <c>none</c>/<c>off</c> = budget 0, no thoughts returned), else the session's level (<c>/think</c>) for a
    /// reasoning model; null = Gemini's own default. Thoughts are asked for (<c>includeThoughts</c>) whenever a level is on.
    /// </summary>
    public static (int Budget, bool IncludeThoughts)? Thinking(ChatRequest r, ResolvedModel target)
    {
        if (r.ReasoningEffort is { } effort)
            return ReasoningBudgets.IsOff(effort) ? (0, false) : ReasoningBudgets.AnthropicBudgetTokens(effort) is { } budget ? (budget, true) : null;
        return r.ThinkingBudgetTokens is { } configured && target.Model.Reasoning ? (configured, true) : null;
    }
}
