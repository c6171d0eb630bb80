using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Models;
using Durar.Actors.Transports.Anthropic;

namespace Durar.Actors.Transports.Ollama;

/// <summary>
/// The translation table of the OpenAI chat-completions request onto Ollama's native <c>POST /api/chat</c>, one row per
/// top-level field (the same rules as <see cref="AnthropicFields"/>: translated, ignored for a stated reason, or refused with
/// a 400 naming it; a field not in the table is refused). It exists so nothing the client asked for is silently lost on a
/// local model. Messages, parts and tools are checked by <see cref="Unsupported"/> below the table.
/// </summary>
internal static class OllamaFields
{
    private const FieldFate T = FieldFate.Translated, I = FieldFate.Ignored, R = FieldFate.Refused;

    public static readonly FrozenDictionary<string, FieldRow> Rows = new FieldRow[]
    {
        new("model", T, "model: the upstream model id"),
        new("messages", T, "messages: content as one string, images as base64, tool_calls with object arguments, tool results with tool_name"),
        new("stream", T, "stream"),
        new("max_tokens", T, "options.num_predict"),
        new("max_completion_tokens", T, "options.num_predict"),
        new("temperature", T, "options.temperature"),
        new("top_p", T, "options.top_p"),
        new("top_k", T, "options.top_k", static (v, _) => v.ValueKind != JsonValueKind.Number),
        new("seed", T, "options.seed"),
        new("stop", T, "options.stop"),
        new("frequency_penalty", T, "options.frequency_penalty"),
        new("presence_penalty", T, "options.presence_penalty"),
        new("tools", T, "tools: function name, description, parameters (strict is not enforced by Ollama)"),
        new("tool_choice", T, "auto: the tools; none: no tools sent; Ollama cannot force a tool call",
            static (v, _) => !(v.ValueKind == JsonValueKind.String && (v.ValueEquals("auto") || v.ValueEquals("none")))),
        new("parallel_tool_calls", T, "true is Ollama's behaviour; Ollama cannot limit an answer to one tool call",
            static (v, _) => v.ValueKind == JsonValueKind.False),
        new("response_format", T, "format: \"json\" for json_object, the schema for json_schema; text: nothing to send"),
        new("reasoning_effort", T, "think: false for none, else true (gpt-oss models take the level: low, medium, high)"),
        new("keep_alive", T, "keep_alive (Ollama's own: a duration such as \"10m\" or seconds; how long the model stays loaded)",
            static (v, _) => v.ValueKind is not (JsonValueKind.String or JsonValueKind.Number)),
        new("stream_options", I, "Ollama always reports its token counts; the gateway answers include_usage itself"),
        new("fallbacks", I, "the gateway's own: the candidate chain"),
        new("models", I, "the gateway's own: OpenRouter's name for fallbacks"),
        new("user", I, "an end-user id for abuse detection; a local server has none", Reported: true),
        new("safety_identifier", I, "an end-user id for abuse detection; a local server has none", Reported: true),
        new("metadata", I, "Ollama keeps no request metadata", Reported: true),
        new("prompt_cache_key", I, "a routing hint for OpenAI's prompt cache; Ollama keeps its own cache per loaded model", Reported: true),
        new("prompt_cache_retention", I, "OpenAI's prompt cache lifetime; Ollama's cache lives as long as the model stays loaded (keep_alive)", Reported: true),
        new("store", R, "Ollama stores no completions", static (v, _) => v.ValueKind != JsonValueKind.False),
        new("service_tier", R, "a local server has no service tiers",
            static (v, _) => !(v.ValueKind == JsonValueKind.String && (v.ValueEquals("auto") || v.ValueEquals("default")))),
        new("n", R, "Ollama returns one choice per request", static (v, _) => !IsNumber(v, 1)),
        new("logprobs", R, "the gateway does not translate Ollama's log probabilities", static (v, _) => v.ValueKind != JsonValueKind.False),
        new("top_logprobs", R, "the gateway does not translate Ollama's log probabilities", static (v, _) => !IsNumber(v, 0)),
        new("logit_bias", R, "Ollama has no token bias", static (v, _) => v.ValueKind != JsonValueKind.Object || v.EnumerateObject().Any()),
        new("prediction", R, "Ollama has no predicted outputs"),
        new("audio", R, "Ollama answers with no audio"),
        new("modalities", R, "Ollama answers in text only",
            static (v, _) => v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(m => !m.ValueEquals("text"))),
        new("verbosity", R, "Ollama has no verbosity setting"),
        new("web_search_options", R, "Ollama has no web search"),
        new("functions", R, "the deprecated functions list is not translated: send tools"),
        new("function_call", R, "the deprecated function_call is not translated: send tool_choice"),
    }.ToFrozenDictionary(r => r.Field, StringComparer.Ordinal);

    private static readonly FrozenSet<string> ToolKeys = new[] { "type", "function" }.ToFrozenSet();
    private static readonly FrozenSet<string> FunctionKeys = new[] { "name", "description", "parameters", "strict" }.ToFrozenSet();

    /// <summary>The first field of <paramref name="request"/> Ollama's native chat cannot carry: the table, then messages and tools.</summary>
    public static UnsupportedField? Unsupported(ChatRequest request, ResolvedModel target)
    {
        foreach (var (name, value) in AnthropicFields.ClientFields(request))
        {
            if (value.ValueKind == JsonValueKind.Null) continue;
            if (!Rows.TryGetValue(name, out var row)) return Refuse(target, name, $"`{name}` has no counterpart on Ollama's /api/chat");
            var refused = row.RefusedWhen is { } when ? when(value, false) : row.Fate == FieldFate.Refused;
            if (refused) return Refuse(target, name, $"`{name}`: {row.Note}");
        }
        if (request.ToolChoice is { ValueKind: not JsonValueKind.Null } choice
            && !(choice.ValueKind == JsonValueKind.String && (choice.ValueEquals("auto") || choice.ValueEquals("none"))))
            return Refuse(target, "tool_choice", "`tool_choice`: Ollama cannot force a tool call");
        if (request.ParallelToolCalls == false)
            return Refuse(target, "parallel_tool_calls", "`parallel_tool_calls` = false: Ollama cannot limit an answer to one tool call");
        for (var i = 0; i < request.Messages.Length; i++)
        {
            var m = request.Messages[i];
            if (m.Name is not null && m.Role != "tool")
                return Refuse(target, $"messages[{i}].name", $"`messages[{i}].name`: Ollama messages carry no participant name");
            for (var j = 0; j < m.Parts.Length; j++)
            {
                var part = m.Parts[j];
                var path = $"messages[{i}].content[{j}]";
                if (part.Type is ContentPartTypes.Text or ContentPartTypes.Refusal) continue;
                if (part.Type != ContentPartTypes.ImageUrl)
                    return Refuse(target, path, $"`{path}` is a {part.Type} part: Ollama takes text and images only");
                if (ImageData(part.ImageUrl) is null)
                    return Refuse(target, path + ".image_url",
                        $"`{path}.image_url`: Ollama takes images as base64 data: URLs only (it does not fetch http(s) URLs)");
            }
        }
        if (request.Tools is { ValueKind: JsonValueKind.Array } tools)
        {
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var path = $"tools[{i++}]";
                if (Unknown(tool, ToolKeys, path, target) is { } refused) return refused;
                if (tool.TryGetProperty("function", out var fn) && Unknown(fn, FunctionKeys, path + ".function", target) is { } inner) return inner;
            }
        }
        return null;
    }

    /// <summary>The fields the client set that are not sent and are worth telling it about (<c>x-durar-dropped</c>).</summary>
    public static ImmutableArray<string> Dropped(ChatRequest request)
    {
        var dropped = ImmutableArray.CreateBuilder<string>();
        foreach (var (name, value) in AnthropicFields.ClientFields(request))
            if (value.ValueKind != JsonValueKind.Null && Rows.TryGetValue(name, out var row) && row.Reported) dropped.Add(name);
        return dropped.ToImmutable();
    }

    /// <summary>The base64 data of an image part's <c>data:</c> URL; null for anything else (Ollama fetches nothing).</summary>
    public static string? ImageData(string? url) =>
        url is not null && AnthropicContentRules.ImageSource(url) is { Type: "base64" } source ? source.Data : null;

    /// <summary>A 400 for <paramref name="param"/>, naming the model.</summary>
    public static UnsupportedField Refuse(ResolvedModel target, string param, string why) =>
        new(param, $"{why}. {target} (Ollama /api/chat) cannot take it; remove it or choose a model that can.");

    private static UnsupportedField? Unknown(JsonElement o, FrozenSet<string> known, string path, ResolvedModel target) =>
        UnsupportedField.UnknownMember(o, known, path) is { } member ? Refuse(target, member, $"`{member}` has no counterpart on Ollama's /api/chat") : null;

    private static bool IsNumber(JsonElement v, double expected) => UnsupportedField.IsNumber(v, expected);
}
