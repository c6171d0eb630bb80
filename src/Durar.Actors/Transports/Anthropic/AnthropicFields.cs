using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Models;

namespace Durar.Actors.Transports.Anthropic;

/// <summary>What the <c>anthropic-messages</c> wire does with one field of an OpenAI chat-completions body.</summary>
internal enum FieldFate
{
    /// <summary>Carried over as its Anthropic counterpart (some values may still be refused).</summary>
    Translated,

    /// <summary>Meaningless on this wire: nothing to send, the answer is the same.</summary>
    Ignored,

    /// <summary>Anthropic has no counterpart: a 400 naming the field (except for values that ask for nothing, e.g. <c>n: 1</c>).</summary>
    Refused,
}

/// <summary>One row of <see cref="AnthropicFields.Rows"/>.</summary>
/// <param name="Field">The OpenAI body field.</param>
/// <param name="Note">The Anthropic counterpart (translated), why it does not matter (ignored), or why it cannot cross (refused).</param>
/// <param name="RefusedWhen">
/// Which values are refused, given the value and whether the target is Anthropic's own API. Null: a refused row refuses every
/// value, a translated or ignored row none. A JSON <c>null</c> is never refused (it is the same as leaving the field out).
/// </param>
/// <param name="Reported">An ignored field the client set is still named in <c>x-durar-dropped</c> (it was a wish, not a no-op).</param>
internal sealed record FieldRow(string Field, FieldFate Fate, string Note, Func<JsonElement, bool, bool>? RefusedWhen = null, bool Reported = false);

/// <summary>
/// The translation table of the OpenAI chat-completions request onto the Anthropic Messages API, one row per top-level field
/// of the current OpenAI reference (and the gateway's own fields): every field is translated, ignored for a stated reason, or
/// refused with a 400 that names it and the model (issue 12: nothing is silently lost). A field not in the table has no
/// counterpart and is refused. Message, content-part and tool contents are checked by <see cref="AnthropicContentRules"/>;
/// the writers (<see cref="AnthropicRequestWriter"/>, <see cref="AnthropicMessageWriter"/>) carry out the translated rows.
/// </summary>
internal static class AnthropicFields
{
    private const FieldFate T = FieldFate.Translated, I = FieldFate.Ignored, R = FieldFate.Refused;

    public static readonly FrozenDictionary<string, FieldRow> Rows = new FieldRow[]
    {
        new("model", T, "model: the upstream model id"),
        new("messages", T, "system (system and developer messages) and messages of content blocks (AnthropicContentRules)"),
        new("max_completion_tokens", T, "max_tokens, raised by the thinking budget"),
        new("max_tokens", T, "max_tokens, raised by the thinking budget"),
        new("temperature", T, "temperature, capped at 1 (Anthropic's range is 0 to 1)"),
        new("top_p", T, "top_p"),
        new("top_k", T, "top_k (Anthropic's own sampling field, accepted as written)"),
        new("stop", T, "stop_sequences"),
        new("stream", T, "stream"),
        new("tools", T, "tools: function name, description, parameters as input_schema, strict"),
        new("tool_choice", T, "tool_choice: auto, none, required as any, a named function as tool"),
        new("parallel_tool_calls", T, "false: tool_choice.disable_parallel_tool_use = true"),
        new("response_format", T,
            "json_schema and json_object: one tool whose input schema is the answer's, forced, its input unwrapped back into the "
            + "answer as JSON text (finish_reason stop); text: nothing to send"),
        new("reasoning_effort", T, "thinking {type: enabled, budget_tokens} by ReasoningBudgets; none: no thinking"),
        new("metadata", T, "metadata.user_id; Anthropic keeps no other request metadata",
            static (v, _) => v.ValueKind == JsonValueKind.Object && v.EnumerateObject().Any(p => p.Name != "user_id")),
        new("safety_identifier", T, "metadata.user_id (Anthropic uses it to detect abuse, as OpenAI does)"),
        new("user", T, "metadata.user_id when neither metadata.user_id nor safety_identifier is set"),
        new("service_tier", T,
            "Anthropic's own API: auto and priority as auto, default as standard_only (flex and scale have no counterpart); other "
            + "hosts take no service tier (x-durar-dropped)",
            static (v, native) => native && v.ValueKind == JsonValueKind.String && v.GetString() is not ("auto" or "priority" or "default")),
        new("stream_options", I, "Anthropic always reports usage; the gateway answers include_usage itself (include_obfuscation pads OpenAI's own stream)"),
        new("fallbacks", I, "the gateway's own: the candidate chain"),
        new("models", I, "the gateway's own: OpenRouter's name for fallbacks"),
        new("prompt_cache_key", I, "a routing hint for OpenAI's prompt cache; Anthropic caches at cache_control breakpoints, the answer is the same", Reported: true),
        new("prompt_cache_retention", I, "how long OpenAI keeps its prompt cache; Anthropic's cache lifetime is set per cache_control breakpoint", Reported: true),
        new("n", R, "Anthropic returns one choice per request", static (v, _) => !IsNumber(v, 1)),
        new("logprobs", R, "Anthropic returns no log probabilities", static (v, _) => v.ValueKind != JsonValueKind.False),
        new("top_logprobs", R, "Anthropic returns no log probabilities", static (v, _) => !IsNumber(v, 0)),
        new("logit_bias", R, "Anthropic has no token bias", static (v, _) => v.ValueKind != JsonValueKind.Object || v.EnumerateObject().Any()),
        new("frequency_penalty", R, "Anthropic has no frequency penalty", static (v, _) => !IsNumber(v, 0)),
        new("presence_penalty", R, "Anthropic has no presence penalty", static (v, _) => !IsNumber(v, 0)),
        new("seed", R, "Anthropic has no sampling seed"),
        new("prediction", R, "Anthropic has no predicted outputs"),
        new("audio", R, "Anthropic answers with no audio"),
        new("modalities", R, "Anthropic answers in text only",
            static (v, _) => v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(m => !m.ValueEquals("text"))),
        new("store", R, "Anthropic stores no completions", static (v, _) => v.ValueKind != JsonValueKind.False),
        new("verbosity", R, "Anthropic has no verbosity setting"),
        new("web_search_options", R, "Anthropic's web search is a server tool this gateway does not translate"),
        new("functions", R, "the deprecated functions list is not translated: send tools"),
        new("function_call", R, "the deprecated function_call is not translated: send tool_choice"),
    }.ToFrozenDictionary(r => r.Field, StringComparer.Ordinal);

    /// <summary>
    /// The first field of <paramref name="request"/> the Anthropic wire cannot carry to <paramref name="target"/>: top-level
    /// fields by the table, then combinations Anthropic rejects, then the messages, content parts and tools.
    /// </summary>
    public static UnsupportedField? Unsupported(ChatRequest request, ResolvedModel target)
    {
        var native = target.Provider.IsNativeAnthropic;
        foreach (var (name, value) in ClientFields(request))
        {
            if (value.ValueKind == JsonValueKind.Null) continue;
            if (!Rows.TryGetValue(name, out var row))
                return Refuse(target, name, $"`{name}` has no counterpart on the Anthropic Messages API");
            var refused = row.RefusedWhen is { } when ? when(value, native) : row.Fate == FieldFate.Refused;
            if (refused) return Refuse(target, name, $"`{name}`{Shown(value)}: {row.Note}");
        }
        return AnthropicRequestShape.Unsupported(request, target) ?? AnthropicContentRules.Unsupported(request, target);
    }

    /// <summary>The fields the client set that are not sent and are worth telling it about (<c>x-durar-dropped</c>).</summary>
    public static ImmutableArray<string> Dropped(ChatRequest request, ResolvedModel target)
    {
        var dropped = ImmutableArray.CreateBuilder<string>();
        foreach (var (name, value) in ClientFields(request))
        {
            if (value.ValueKind == JsonValueKind.Null) continue;
            if (Rows.TryGetValue(name, out var row) && row.Reported) dropped.Add(name);
            else if (name == "service_tier" && !target.Provider.IsNativeAnthropic) dropped.Add(name);
        }
        return dropped.ToImmutable();
    }

    /// <summary>A 400 for <paramref name="param"/>, naming the model.</summary>
    public static UnsupportedField Refuse(ResolvedModel target, string param, string why) =>
        new(param, $"{why}. {target} (Anthropic Messages API) cannot take it; remove it or choose a model that can.");

    /// <summary>A field of the client's body as written (<see cref="ChatRequest.Original"/>, then <see cref="ChatRequest.Extra"/>); null when not set.</summary>
    public static JsonElement? Field(ChatRequest request, string name) =>
        request.Original is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty(name, out var v) ? v
        : request.Extra.TryGetValue(name, out var extra) ? extra
        : null;

    /// <summary>
    /// Every top-level field the client set: its body as written plus the additional properties, or, for a request built in
    /// process without a body, the typed fields that a table row may refuse.
    /// </summary>
    public static IEnumerable<(string Name, JsonElement Value)> ClientFields(ChatRequest r)
    {
        if (r.Original is { ValueKind: JsonValueKind.Object } body)
            foreach (var p in body.EnumerateObject()) yield return (p.Name, p.Value);
        else
        {
            if (r.N is { } n) yield return ("n", Number(n));
            if (r.Logprobs is { } logprobs) yield return ("logprobs", Json(logprobs ? "true" : "false"));
            if (r.TopLogprobs is { } top) yield return ("top_logprobs", Number(top));
            if (r.FrequencyPenalty is { } frequency) yield return ("frequency_penalty", Number(frequency));
            if (r.PresencePenalty is { } presence) yield return ("presence_penalty", Number(presence));
            if (r.Seed is { } seed) yield return ("seed", Number(seed));
            if (r.Metadata is { } metadata) yield return ("metadata", metadata);
            if (r.ServiceTier is { } tier) yield return ("service_tier", Json("\"" + JsonEncodedText.Encode(tier) + "\""));
        }
        foreach (var (name, value) in r.Extra)
            if (r.Original is not { ValueKind: JsonValueKind.Object } o || !o.TryGetProperty(name, out _)) yield return (name, value);
    }

    private static bool IsNumber(JsonElement v, double expected) => UnsupportedField.IsNumber(v, expected);

    /// <summary><c> = value</c> for short scalar values, so the message shows what was asked.</summary>
    private static string Shown(JsonElement v) =>
        v.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False or JsonValueKind.String && v.GetRawText() is { Length: <= 40 } raw
            ? " = " + raw
            : "";

    private static JsonElement Number(double value) => Json(value.ToString("R", CultureInfo.InvariantCulture));

    private static JsonElement Number(long value) => Json(value.ToString(CultureInfo.InvariantCulture));

    private static JsonElement Json(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }
}
