using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Models;
using Durar.Actors.Transports.Anthropic;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// The translation table of the OpenAI chat-completions request onto Gemini's <c>generateContent</c> (the
/// <c>google-generative-ai</c>, <c>google-vertex</c> and Cloud Code Assist wires share it), one row per top-level field, in the
/// shape of <see cref="AnthropicFields"/>: every field is translated, ignored for a stated reason, or refused with a 400 that
/// names it and the model, so nothing is silently lost. A field not in the table has no counterpart and is refused. Messages,
/// parts and tools are checked by <see cref="GeminiContentRules"/>; <see cref="GeminiRequestWriter"/> carries out the
/// translated rows.
/// </summary>
internal static class GeminiFields
{
    private const FieldFate T = FieldFate.Translated, I = FieldFate.Ignored, R = FieldFate.Refused;

    public static readonly FrozenDictionary<string, FieldRow> Rows = new FieldRow[]
    {
        new("model", T, "the model in the request URL (models/{model}:generateContent)"),
        new("messages", T, "systemInstruction (system and developer messages) and contents of parts (GeminiContentRules)"),
        new("max_completion_tokens", T, "generationConfig.maxOutputTokens"),
        new("max_tokens", T, "generationConfig.maxOutputTokens"),
        new("temperature", T, "generationConfig.temperature"),
        new("top_p", T, "generationConfig.topP"),
        new("top_k", T, "generationConfig.topK (Gemini's own sampling field, accepted as written)"),
        new("stop", T, "generationConfig.stopSequences"),
        new("seed", T, "generationConfig.seed"),
        new("presence_penalty", T, "generationConfig.presencePenalty"),
        new("frequency_penalty", T, "generationConfig.frequencyPenalty"),
        new("stream", T, "streamGenerateContent?alt=sse instead of generateContent"),
        new("tools", T, "tools[0].functionDeclarations: name, description, parameters as parametersJsonSchema"),
        new("tool_choice", T, "toolConfig.functionCallingConfig: auto AUTO, none NONE, required ANY, a named function ANY with allowedFunctionNames"),
        new("parallel_tool_calls", T, "true is Gemini's own behaviour; Gemini cannot be held to one call per answer",
            static (v, _) => v.ValueKind == JsonValueKind.False),
        new("response_format", T,
            "json_object: responseMimeType application/json; json_schema: the same with responseJsonSchema; text: nothing to send"),
        new("reasoning_effort", T, "generationConfig.thinkingConfig {thinkingBudget by ReasoningBudgets, includeThoughts}; none: thinkingBudget 0"),
        new("n", R, "this gateway reads one Gemini candidate per request", static (v, _) => !IsNumber(v, 1)),
        new("logprobs", R, "Gemini's logprobs are not translated to OpenAI's shape", static (v, _) => v.ValueKind != JsonValueKind.False),
        new("top_logprobs", R, "Gemini's logprobs are not translated to OpenAI's shape", static (v, _) => !IsNumber(v, 0)),
        new("logit_bias", R, "Gemini has no token bias", static (v, _) => v.ValueKind != JsonValueKind.Object || v.EnumerateObject().Any()),
        new("stream_options", I, "Gemini always reports usageMetadata; the gateway answers include_usage itself"),
        new("fallbacks", I, "the gateway's own: the candidate chain"),
        new("models", I, "the gateway's own: OpenRouter's name for fallbacks"),
        new("user", I, "Gemini takes no end-user id", Reported: true),
        new("safety_identifier", I, "Gemini takes no end-user id", Reported: true),
        new("metadata", I, "Gemini keeps no request metadata", Reported: true),
        new("prompt_cache_key", I, "a routing hint for OpenAI's prompt cache; Gemini caches implicitly, the answer is the same", Reported: true),
        new("prompt_cache_retention", I, "how long OpenAI keeps its prompt cache; Gemini's implicit cache has its own lifetime", Reported: true),
        new("service_tier", I, "Gemini has no per-request service tier", Reported: true),
        new("store", R, "Gemini stores no completions", static (v, _) => v.ValueKind != JsonValueKind.False),
        new("prediction", R, "Gemini has no predicted outputs"),
        new("audio", R, "this gateway does not translate Gemini's audio output"),
        new("modalities", R, "this gateway reads Gemini's text answers only",
            static (v, _) => v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(m => !m.ValueEquals("text"))),
        new("verbosity", R, "Gemini has no verbosity setting"),
        new("web_search_options", R, "Gemini's Google Search grounding is a tool this gateway does not translate"),
        new("functions", R, "the deprecated functions list is not translated: send tools"),
        new("function_call", R, "the deprecated function_call is not translated: send tool_choice"),
    }.ToFrozenDictionary(r => r.Field, StringComparer.Ordinal);

    /// <summary>The first field of <paramref name="request"/> Gemini cannot carry to <paramref name="target"/>: the table, then the content rules.</summary>
    public static UnsupportedField? Unsupported(ChatRequest request, ResolvedModel target)
    {
        foreach (var (name, value) in ClientFields(request))
        {
            if (value.ValueKind == JsonValueKind.Null) continue;
            if (!Rows.TryGetValue(name, out var row))
                return Refuse(target, name, $"`{name}` has no counterpart on Gemini's generateContent");
            var refused = row.RefusedWhen is { } when ? when(value, false) : row.Fate == FieldFate.Refused;
            if (refused) return Refuse(target, name, $"`{name}`{Shown(value)}: {row.Note}");
        }
        if (request.ReasoningEffort is { } effort && !ReasoningBudgets.IsOff(effort) && ReasoningBudgets.AnthropicBudgetTokens(effort) is null)
            return Refuse(target, "reasoning_effort", $"`reasoning_effort` = \"{effort}\" is not a reasoning level");
        return GeminiContentRules.Unsupported(request, target);
    }

    /// <summary>The fields the client set that are not sent (<c>x-durar-dropped</c>).</summary>
    public static ImmutableArray<string> Dropped(ChatRequest request)
    {
        var dropped = ImmutableArray.CreateBuilder<string>();
        foreach (var (name, value) in ClientFields(request))
            if (value.ValueKind != JsonValueKind.Null && Rows.TryGetValue(name, out var row) && row.Reported) dropped.Add(name);
        return dropped.ToImmutable();
    }

    /// <summary>A 400 for <paramref name="param"/>, naming the model.</summary>
    public static UnsupportedField Refuse(ResolvedModel target, string param, string why) =>
        new(param, $"{why}. {target} (Gemini generateContent) cannot take it; remove it or choose a model that can.");

    /// <summary>The client's <c>top_k</c> (Gemini's own field); null when not set.</summary>
    public static JsonElement? TopK(ChatRequest r) => AnthropicFields.Field(r, "top_k") is { ValueKind: JsonValueKind.Number } k ? k : null;

    /// <summary>Every top-level field the client set (its body as written plus additional properties, or the typed fields a row may refuse).</summary>
    private static IEnumerable<(string Name, JsonElement Value)> ClientFields(ChatRequest r)
    {
        if (r.Original is { ValueKind: JsonValueKind.Object } body)
            foreach (var p in body.EnumerateObject()) yield return (p.Name, p.Value);
        else
        {
            if (r.N is { } n) yield return ("n", Json(n.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (r.Logprobs is true) yield return ("logprobs", Json("true"));
            if (r.TopLogprobs is { } top) yield return ("top_logprobs", Json(top.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (r.Metadata is { } metadata) yield return ("metadata", metadata);
            if (r.User is not null) yield return ("user", Json("\"\""));
            if (r.ParallelToolCalls is false) yield return ("parallel_tool_calls", Json("false"));
        }
        foreach (var (name, value) in r.Extra)
            if (r.Original is not { ValueKind: JsonValueKind.Object } o || !o.TryGetProperty(name, out _)) yield return (name, value);
    }

    private static bool IsNumber(JsonElement v, double expected) => UnsupportedField.IsNumber(v, expected);

    private static string Shown(JsonElement v) =>
        v.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False or JsonValueKind.String && v.GetRawText() is { Length: <= 40 } raw
            ? " = " + raw
            : "";

    private static JsonElement Json(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }
}
