using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Models;
using Durar.Actors.Transports.Anthropic;
using Durar.Actors.Transports.OpenAi;

namespace Durar.Actors.Transports.OpenAiResponses;

/// <summary>
/// The translation table of the OpenAI chat-completions request onto OpenAI's Responses API (<c>POST /responses</c>), one
/// row per top-level field, with the same rules as <see cref="AnthropicFields"/>: translated, ignored for a stated reason,
/// or refused with a 400 naming it (a field not in the table is refused). Native-only fields follow the reference's rule:
/// <c>service_tier</c>, <c>store</c> and the prompt-cache hints go to <c>api.openai.com</c> only and are reported dropped
/// elsewhere; <c>previous_response_id</c> (a stored conversation) only where the provider keeps responses (OpenAI, xAI).
/// Messages, parts and tools are checked below the table.
/// </summary>
internal static class ResponsesFields
{
    private const FieldFate T = FieldFate.Translated, I = FieldFate.Ignored, R = FieldFate.Refused;

    private static readonly ImmutableHashSet<string> NativeOnly = ["service_tier", "store", "prompt_cache_key", "prompt_cache_retention"];

    public static readonly FrozenDictionary<string, FieldRow> Rows = new FieldRow[]
    {
        new("model", T, "model: the upstream model id"),
        new("messages", T, "input items: system and developer messages, user messages of input_text/input_image/input_file, "
            + "assistant text, function_call and function_call_output items"),
        new("stream", T, "stream"),
        new("max_tokens", T, "max_output_tokens"),
        new("max_completion_tokens", T, "max_output_tokens"),
        new("temperature", T, "temperature"),
        new("top_p", T, "top_p"),
        new("tools", T, "function tools: name, description, parameters, strict"),
        new("tool_choice", T, "tool_choice: auto, none, required, a named function as {type: function, name}"),
        new("parallel_tool_calls", T, "parallel_tool_calls"),
        new("response_format", T, "text.format: text, json_object, json_schema with name, schema, strict, description"),
        new("reasoning_effort", T, "reasoning.effort, with reasoning.summary = auto so the reasoning reaches the client"),
        new("verbosity", T, "text.verbosity"),
        new("metadata", T, "metadata"),
        new("user", T, "user"),
        new("safety_identifier", T, "safety_identifier"),
        new("service_tier", T, "service_tier on api.openai.com; other hosts take none (x-durar-dropped)"),
        new("store", T, "store on api.openai.com (else false: the gateway keeps no upstream state); other hosts take none (x-durar-dropped)"),
        new("prompt_cache_key", T, "prompt_cache_key on api.openai.com; other hosts take none (x-durar-dropped)"),
        new("prompt_cache_retention", T, "prompt_cache_retention on api.openai.com; other hosts take none (x-durar-dropped)"),
        new("previous_response_id", T, "previous_response_id where the provider stores responses (OpenAI, xAI)",
            static (v, keeps) => !keeps),
        new("stream_options", I, "the Responses API always reports usage; the gateway answers include_usage itself"),
        new("fallbacks", I, "the gateway's own: the candidate chain"),
        new("models", I, "the gateway's own: OpenRouter's name for fallbacks"),
        new("n", R, "the Responses API returns one answer per request", static (v, _) => !IsNumber(v, 1)),
        new("logprobs", R, "the gateway does not translate the Responses API's log probabilities", static (v, _) => v.ValueKind != JsonValueKind.False),
        new("top_logprobs", R, "the gateway does not translate the Responses API's log probabilities", static (v, _) => !IsNumber(v, 0)),
        new("logit_bias", R, "the Responses API has no token bias", static (v, _) => v.ValueKind != JsonValueKind.Object || v.EnumerateObject().Any()),
        new("frequency_penalty", R, "the Responses API has no frequency penalty", static (v, _) => !IsNumber(v, 0)),
        new("presence_penalty", R, "the Responses API has no presence penalty", static (v, _) => !IsNumber(v, 0)),
        new("seed", R, "the Responses API has no sampling seed"),
        new("stop", R, "the Responses API has no stop sequences",
            static (v, _) => v.ValueKind != JsonValueKind.Array || v.GetArrayLength() > 0),
        new("prediction", R, "the Responses API has no predicted outputs"),
        new("audio", R, "the Responses API answers with no audio"),
        new("modalities", R, "the Responses API answers in text only",
            static (v, _) => v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(m => !m.ValueEquals("text"))),
        new("web_search_options", R, "web search is a Responses tool (web_search) this gateway does not translate"),
        new("functions", R, "the deprecated functions list is not translated: send tools"),
        new("function_call", R, "the deprecated function_call is not translated: send tool_choice"),
    }.ToFrozenDictionary(r => r.Field, StringComparer.Ordinal);

    private static readonly FrozenSet<string> ToolKeys = new[] { "type", "function" }.ToFrozenSet();
    private static readonly FrozenSet<string> FunctionKeys = new[] { "name", "description", "parameters", "strict" }.ToFrozenSet();
    private static readonly FrozenSet<string> SchemaKeys = new[] { "name", "description", "schema", "strict" }.ToFrozenSet();

    /// <summary>The provider keeps responses, so <c>previous_response_id</c> means something there (OpenAI, xAI).</summary>
    public static bool StoresResponses(ResolvedModel target) =>
        target.Provider.IsNativeOpenAi
        || target.Provider.BaseUrl is { } url && Catalog.ProviderDefinition.HostOf(url) is { } host && host.Equals("api.x.ai", StringComparison.OrdinalIgnoreCase);

    /// <summary>The first field of <paramref name="request"/> the Responses wire cannot carry to <paramref name="target"/>.</summary>
    public static UnsupportedField? Unsupported(ChatRequest request, ResolvedModel target)
    {
        var stores = StoresResponses(target);
        foreach (var (name, value) in AnthropicFields.ClientFields(request))
        {
            if (value.ValueKind == JsonValueKind.Null) continue;
            if (!Rows.TryGetValue(name, out var row)) return Refuse(target, name, $"`{name}` has no counterpart on the Responses API");
            var refused = row.RefusedWhen is { } when ? when(value, stores) : row.Fate == FieldFate.Refused;
            if (refused) return Refuse(target, name, $"`{name}`: {row.Note}");
        }
        if (!request.Stop.IsDefaultOrEmpty) return Refuse(target, "stop", "`stop`: the Responses API has no stop sequences");
        for (var i = 0; i < request.Messages.Length; i++)
        {
            var m = request.Messages[i];
            if (m.Name is not null && m.Role != "tool")
                return Refuse(target, $"messages[{i}].name", $"`messages[{i}].name`: Responses input messages carry no participant name");
            for (var j = 0; j < m.Parts.Length; j++)
            {
                var part = m.Parts[j];
                var path = $"messages[{i}].content[{j}]";
                if (part.Type == ContentPartTypes.InputAudio)
                    return Refuse(target, path, $"`{path}` is an input_audio part: the Responses API takes no audio input");
                if (m.Role != "user" && part.Type is ContentPartTypes.ImageUrl or ContentPartTypes.File)
                    return Refuse(target, path, $"`{path}` is a {part.Type} part in a {m.Role} message: the Responses API takes images and files from the user only");
            }
        }
        if (request.Tools is { ValueKind: JsonValueKind.Array } tools)
        {
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var path = $"tools[{i++}]";
                if (tool.TryGetProperty("type", out var type) && !type.ValueEquals("function"))
                    return Refuse(target, path + ".type", $"`{path}.type`: only function tools are translated to the Responses API");
                if (Unknown(tool, ToolKeys, path, target) is { } refused) return refused;
                if (tool.TryGetProperty("function", out var fn) && Unknown(fn, FunctionKeys, path + ".function", target) is { } inner) return inner;
            }
        }
        if (request.ResponseFormat is { ValueKind: JsonValueKind.Object } format && format.TryGetProperty("json_schema", out var js))
            return Unknown(js, SchemaKeys, "response_format.json_schema", target);
        return null;
    }

    /// <summary>
    /// The first field of the Responses dialect's own (<see cref="ChatRequest.ResponsesOnly"/>) that <paramref name="transport"/>
    /// cannot carry: only the Responses wires (<see cref="OpenAiResponsesTransport"/> and its kin) send them, as written.
    /// </summary>
    public static UnsupportedField? NotCarried(IChatTransport transport, ChatRequest request, ResolvedModel target)
    {
        if (request.ResponsesOnly.IsEmpty || transport is OpenAiResponsesTransport) return null;
        var name = request.ResponsesOnly.Keys.Order(StringComparer.Ordinal).First();
        return new UnsupportedField(name, $"`{name}` is a Responses API field that only an openai-responses upstream takes. {target} "
            + $"({target.Provider.Api}) cannot take it; remove it or choose a model that can.");
    }

    /// <summary>The native-only fields the client set that this host does not take (<c>x-durar-dropped</c>).</summary>
    public static ImmutableArray<string> Dropped(ChatRequest request, ResolvedModel target)
    {
        if (target.Provider.IsNativeOpenAi) return [];
        var shaping = OpenAiShaping.For(target);
        var dropped = ImmutableArray.CreateBuilder<string>();
        foreach (var (name, value) in AnthropicFields.ClientFields(request))
            if (value.ValueKind != JsonValueKind.Null && NativeOnly.Contains(name) && !(name == "store" && shaping.SupportsStore)) dropped.Add(name);
        return dropped.ToImmutable();
    }

    /// <summary>A 400 for <paramref name="param"/>, naming the model.</summary>
    public static UnsupportedField Refuse(ResolvedModel target, string param, string why) =>
        new(param, $"{why}. {target} (Responses API) cannot take it; remove it or choose a model that can.");

    private static UnsupportedField? Unknown(JsonElement o, FrozenSet<string> known, string path, ResolvedModel target) =>
        UnsupportedField.UnknownMember(o, known, path) is { } member ? Refuse(target, member, $"`{member}` has no counterpart on the Responses API") : null;

    private static bool IsNumber(JsonElement v, double expected) => UnsupportedField.IsNumber(v, expected);
}
