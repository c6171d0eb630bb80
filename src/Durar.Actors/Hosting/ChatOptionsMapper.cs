// Over 300 lines on purpose: one table of every ChatOptions field and additional property, each mapped or refused by name,
// reads best in one place; the helpers below it are the validations the HTTP parser applies to the same fields.
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Actors.Chat;
using Microsoft.Extensions.AI;
using AI = Microsoft.Extensions.AI;

namespace Durar.Actors.Hosting;

/// <summary>What one <see cref="DurarChatClient"/> call asks a run for: the plan's inputs and the canonical request.</summary>
/// <param name="OmitReasoning">The caller asked for no reasoning output (<see cref="ReasoningOutput.None"/>).</param>
internal sealed record ChatClientCall(string Model, IReadOnlyList<string>? Fallbacks, ChatRequest Request, bool OmitReasoning);

/// <summary>
/// Maps Microsoft.Extensions.AI <see cref="ChatOptions"/> onto the canonical <see cref="ChatRequest"/> the way the HTTP
/// gateway maps the OpenAI fields: every option is carried, translated, or refused with an <see cref="ArgumentException"/>
/// naming it. Conventions follow Microsoft.Extensions.AI.OpenAI's own adapter, so swapping it for Durar sends the same wire:
/// <c>AdditionalProperties["strict"]</c> (bool) marks the JSON schema and function tools strict (a tool's own
/// <c>AdditionalProperties["strict"]</c> wins), <see cref="ChatOptions.Instructions"/> is a leading system message,
/// <see cref="HostedWebSearchTool"/> is <c>web_search_options</c>. Other additional properties are body fields: the typed
/// ones (<c>user</c>, <c>metadata</c>, <c>n</c>, <c>logprobs</c>, <c>top_logprobs</c>, <c>service_tier</c>,
/// <c>reasoning_effort</c>) are validated as the HTTP parser validates them, <c>fallbacks</c> (or <c>models</c>) and
/// <see cref="ContinueKey"/> steer the run, and the rest go upstream as written (<see cref="ChatRequest.Extra"/>).
/// </summary>
internal static class ChatOptionsMapper
{
    /// <summary>The additional property that marks schemas strict, as Microsoft.Extensions.AI.OpenAI names it.</summary>
    public const string StrictKey = "strict";

    /// <summary>
    /// The additional property (bool) that turns stream continuation on or off for one call, as the HTTP header
    /// <c>x-durar-continue</c> does (absent: <c>gateway.failover.continueStreams</c>).
    /// </summary>
    public const string ContinueKey = "durar.continue";

    private static readonly ImmutableHashSet<string> Efforts = ["none", "minimal", "low", "medium", "high", "xhigh"];

    /// <summary>Body fields a typed option (or the call itself) already carries: set that instead.</summary>
    private static readonly ImmutableDictionary<string, string> OwnedByOptions = new Dictionary<string, string>
    {
        ["model"] = "ChatOptions.ModelId",
        ["messages"] = "the messages argument",
        ["stream"] = "GetStreamingResponseAsync",
        ["stream_options"] = "nothing (usage is always reported)",
        ["temperature"] = "ChatOptions.Temperature",
        ["top_p"] = "ChatOptions.TopP",
        ["top_k"] = "ChatOptions.TopK",
        ["max_tokens"] = "ChatOptions.MaxOutputTokens",
        ["max_completion_tokens"] = "ChatOptions.MaxOutputTokens",
        ["frequency_penalty"] = "ChatOptions.FrequencyPenalty",
        ["presence_penalty"] = "ChatOptions.PresencePenalty",
        ["seed"] = "ChatOptions.Seed",
        ["stop"] = "ChatOptions.StopSequences",
        ["tools"] = "ChatOptions.Tools",
        ["tool_choice"] = "ChatOptions.ToolMode",
        ["parallel_tool_calls"] = "ChatOptions.AllowMultipleToolCalls",
        ["response_format"] = "ChatOptions.ResponseFormat",
    }.ToImmutableDictionary();

    /// <summary>OpenAI's strict structured-output rules, as Microsoft.Extensions.AI.OpenAI applies them to a strict schema.</summary>
    private static readonly AIJsonSchemaTransformCache StrictSchemas = new(new AIJsonSchemaTransformOptions
    {
        DisallowAdditionalProperties = true,
        RequireAllProperties = true,
        ConvertBooleanSchemas = true,
        MoveDefaultKeywordToDescription = true,
    });

    public static ChatClientCall Map(IEnumerable<AI.ChatMessage> messages, ChatOptions? options, bool stream, IChatClient client)
    {
        ArgumentNullException.ThrowIfNull(messages);
        options ??= new ChatOptions();
        Refuse(options, client);

        var extra = ImmutableDictionary.CreateBuilder<string, JsonElement>();
        IReadOnlyList<string>? fallbacks = null;
        bool? strict = null;
        string? user = null, serviceTier = null, effort = null;
        JsonElement? metadata = null;
        int? n = null, topLogprobs = null;
        bool? logprobs = null, continueStream = null;
        foreach (var (key, value) in options.AdditionalProperties ?? [])
        {
            var name = $"ChatOptions.AdditionalProperties[\"{key}\"]";
            if (OwnedByOptions.TryGetValue(key, out var owner))
                throw new ArgumentException($"{name}: set {owner} instead.", nameof(options));
            switch (key)
            {
                case "fallbacks" or "models":
                    if (fallbacks is not null) throw new ArgumentException($"{name}: fallbacks are set twice (fallbacks and models).", nameof(options));
                    fallbacks = Strings(value, name);
                    break;
                case StrictKey: strict = value as bool? ?? throw Bad(name, "must be a bool"); break;
                case ContinueKey: continueStream = value as bool? ?? throw Bad(name, "must be a bool"); break;
                case "user": user = value as string ?? throw Bad(name, "must be a string"); break;
                case "service_tier": serviceTier = value as string ?? throw Bad(name, "must be a string"); break;
                case "reasoning_effort":
                    effort = value as string is { } e && Efforts.Contains(e) ? e : throw Bad(name, "must be one of none, minimal, low, medium, high, xhigh");
                    break;
                case "metadata":
                    metadata = ToJson(value, name) is { ValueKind: JsonValueKind.Object } m ? m : throw Bad(name, "must be an object");
                    break;
                case "n":
                    n = Int(value, name);
                    if (n != 1)
                        throw Bad(name, $"must be 1 (got {n}): an IChatClient answer has one choice; ask {n} times, or use the HTTP gateway for n > 1");
                    break;
                case "logprobs": logprobs = value as bool? ?? throw Bad(name, "must be a bool"); break;
                case "top_logprobs":
                    topLogprobs = Int(value, name);
                    if (topLogprobs is < 0 or > 20) throw Bad(name, $"must be between 0 and 20, got {topLogprobs}");
                    break;
                default:
                    extra[key] = ToJson(value, name);
                    break;
            }
        }

        if (options.Reasoning?.Effort is { } level)
        {
            if (effort is not null)
                throw new ArgumentException("ChatOptions.Reasoning.Effort and AdditionalProperties[\"reasoning_effort\"] are both set.", nameof(options));
            effort = level switch
            {
                ReasoningEffort.None => "none",
                ReasoningEffort.Low => "low",
                ReasoningEffort.Medium => "medium",
                ReasoningEffort.High => "high",
                ReasoningEffort.ExtraHigh => "xhigh",
                _ => throw Bad("ChatOptions.Reasoning.Effort", $"{level} has no reasoning_effort"),
            };
        }

        var (tools, webSearch) = Tools(options, strict);
        // Without function tools, auto and none are already true and parallel calls moot; requiring a call cannot be met.
        if (tools is null && options.ToolMode is RequiredChatToolMode)
            throw Bad("ChatOptions.ToolMode", "requires a tool call, but ChatOptions.Tools has no function");
        if (webSearch && !extra.ContainsKey("web_search_options")) extra["web_search_options"] = EmptyObject;
        var request = new ChatRequest
        {
            Messages = ChatMessageMapper.Map(messages, options.Instructions),
            Tools = tools,
            ToolChoice = tools is null ? null : ToolChoice(options),
            ParallelToolCalls = tools is null ? null : options.AllowMultipleToolCalls,
            ResponseFormat = ResponseFormat(options.ResponseFormat, strict),
            MaxTokens = options.MaxOutputTokens is { } max ? (max >= 1 ? max : throw Bad("ChatOptions.MaxOutputTokens", $"must be at least 1, got {max}")) : null,
            Temperature = Number(options.Temperature, "ChatOptions.Temperature", 0, 2),
            TopP = Number(options.TopP, "ChatOptions.TopP", 0, 1),
            FrequencyPenalty = Number(options.FrequencyPenalty, "ChatOptions.FrequencyPenalty", -2, 2),
            PresencePenalty = Number(options.PresencePenalty, "ChatOptions.PresencePenalty", -2, 2),
            Seed = options.Seed,
            Stop = Stop(options.StopSequences),
            User = user,
            Metadata = metadata,
            N = n,
            Logprobs = logprobs,
            TopLogprobs = topLogprobs,
            ServiceTier = serviceTier,
            ReasoningEffort = effort,
            Stream = stream,
            IncludeUsage = true,
            ContinueStream = continueStream,
            Extra = TopK(options.TopK, extra).ToImmutable(),
        };
        return new ChatClientCall(options.ModelId ?? Models.ModelResolver.DefaultTarget, fallbacks, request,
            OmitReasoning: options.Reasoning?.Output == ReasoningOutput.None);
    }

    /// <summary>Options the run has no place for: a clear error rather than an answer that looks as if they were honoured.</summary>
    private static void Refuse(ChatOptions options, IChatClient client)
    {
        if (!string.IsNullOrEmpty(options.ConversationId))
            throw new ArgumentException(
                "ChatOptions.ConversationId is not supported: DurarChatClient keeps no conversation state; send the whole history (or use a Durar session over HTTP).",
                nameof(options));
        if (options.ContinuationToken is not null)
            throw new ArgumentException("ChatOptions.ContinuationToken is not supported: DurarChatClient answers in the foreground and issues no continuation tokens.",
                nameof(options));
        if (options.RawRepresentationFactory?.Invoke(client) is { } raw)
            throw new ArgumentException(
                $"ChatOptions.RawRepresentationFactory returned a {raw.GetType().FullName}: DurarChatClient has no provider options type; put body fields in AdditionalProperties.",
                nameof(options));
    }

    /// <summary>Function tools (and web search); <see cref="ChatOptions.ToolMode"/> and parallel calls only matter with them.</summary>
    private static (JsonElement? Tools, bool WebSearch) Tools(ChatOptions options, bool? strict)
    {
        if (options.Tools is not { Count: > 0 } list) return (null, false);
        var tools = new JsonArray();
        var webSearch = false;
        for (var i = 0; i < list.Count; i++)
        {
            switch (list[i])
            {
                case AIFunctionDeclaration fn:
                    var toolStrict = fn.AdditionalProperties.TryGetValue(StrictKey, out var s) && s is bool b ? b : strict;
                    var function = new JsonObject { ["name"] = fn.Name };
                    if (!string.IsNullOrEmpty(fn.Description)) function["description"] = fn.Description;
                    function["parameters"] = JsonNode.Parse((toolStrict is true ? StrictSchemas.GetOrCreateTransformedSchema(fn) : fn.JsonSchema).GetRawText());
                    if (toolStrict is { } st) function["strict"] = st;
                    tools.Add(new JsonObject { ["type"] = "function", ["function"] = function });
                    break;
                case HostedWebSearchTool:
                    webSearch = true;
                    break;
                case var other:
                    throw new ArgumentException(
                        $"ChatOptions.Tools[{i}] is a {other.GetType().Name} (\"{other.Name}\"): the chat-completions wire carries function tools and web search only.",
                        nameof(options));
            }
        }
        return (tools.Count > 0 ? JsonSerializer.SerializeToElement(tools) : null, webSearch);
    }

    private static JsonElement? ToolChoice(ChatOptions options) => options.ToolMode switch
    {
        null => null,
        AutoChatToolMode => JsonSerializer.SerializeToElement("auto"),
        NoneChatToolMode => JsonSerializer.SerializeToElement("none"),
        RequiredChatToolMode { RequiredFunctionName: null } => JsonSerializer.SerializeToElement("required"),
        RequiredChatToolMode { RequiredFunctionName: { } name } when options.Tools!.OfType<AIFunctionDeclaration>().Any(f => f.Name == name) =>
            JsonSerializer.SerializeToElement(new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = name } }),
        RequiredChatToolMode { RequiredFunctionName: { } name } =>
            throw Bad("ChatOptions.ToolMode", $"requires the function \"{name}\", which is not among ChatOptions.Tools"),
        var other => throw Bad("ChatOptions.ToolMode", $"{other.GetType().Name} is not a tool mode the chat-completions wire knows"),
    };

    private static JsonElement? ResponseFormat(ChatResponseFormat? format, bool? strict)
    {
        switch (format)
        {
            case null:
                return null;
            case ChatResponseFormatText:
                return JsonSerializer.SerializeToElement(new JsonObject { ["type"] = "text" });
            case ChatResponseFormatJson { Schema: null }:
                return JsonSerializer.SerializeToElement(new JsonObject { ["type"] = "json_object" });
            case ChatResponseFormatJson json:
                var schema = new JsonObject { ["name"] = json.SchemaName ?? "json_schema" };
                if (!string.IsNullOrEmpty(json.SchemaDescription)) schema["description"] = json.SchemaDescription;
                schema["schema"] = JsonNode.Parse((strict is true ? StrictSchemas.GetOrCreateTransformedSchema(json)!.Value : json.Schema.Value).GetRawText());
                if (strict is { } st) schema["strict"] = st;
                return JsonSerializer.SerializeToElement(new JsonObject { ["type"] = "json_schema", ["json_schema"] = schema });
            default:
                throw Bad("ChatOptions.ResponseFormat", $"{format.GetType().Name} is not a response format the chat-completions wire knows");
        }
    }

    /// <summary>
    /// <c>top_k</c> is not an OpenAI field but many OpenAI-compatible servers and Anthropic take it: it goes as a body field,
    /// exactly as if an HTTP client had written it (a wire that cannot carry it refuses it by name).
    /// </summary>
    private static ImmutableDictionary<string, JsonElement>.Builder TopK(int? topK, ImmutableDictionary<string, JsonElement>.Builder extra)
    {
        if (topK is not { } k) return extra;
        if (k < 1) throw Bad("ChatOptions.TopK", $"must be at least 1, got {k}");
        extra["top_k"] = JsonSerializer.SerializeToElement(k);
        return extra;
    }

    private static ImmutableArray<string> Stop(IList<string>? stops)
    {
        if (stops is not { Count: > 0 }) return [];
        if (stops.Count > 4) throw Bad("ChatOptions.StopSequences", $"may hold at most 4 sequences, got {stops.Count}");
        return [.. stops];
    }

    /// <summary>A float option as the decimal the caller wrote (0.3f goes upstream as 0.3, not 0.30000001192092896).</summary>
    private static double? Number(float? value, string name, double min, double max)
    {
        if (value is not { } v) return null;
        if (!(v >= min && v <= max)) throw Bad(name, $"must be between {min} and {max}, got {v}");
        // The float's shortest round-trip text is what the caller wrote; widening the bits would add float noise.
        return double.Parse(v.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    private static int Int(object? value, string name) => value switch
    {
        int i => i,
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        JsonElement { ValueKind: JsonValueKind.Number } e when e.TryGetInt32(out var i) => i,
        _ => throw Bad(name, "must be an integer"),
    };

    private static IReadOnlyList<string> Strings(object? value, string name) => value switch
    {
        IEnumerable<string> list when list.All(s => !string.IsNullOrEmpty(s)) => [.. list],
        JsonElement { ValueKind: JsonValueKind.Array } e when e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String && x.GetString()!.Length > 0) =>
            [.. e.EnumerateArray().Select(x => x.GetString()!)],
        _ => throw Bad(name, "must be a list of model refs"),
    };

    /// <summary>An additional property's value as the JSON body field it becomes (names as written, no renaming).</summary>
    private static JsonElement ToJson(object? value, string name)
    {
        try
        {
            return value switch
            {
                null => JsonSerializer.SerializeToElement<object?>(null),
                JsonElement e => e.Clone(),
                _ => JsonSerializer.SerializeToElement(value, value.GetType(), JsonSerializerOptions.Default),
            };
        }
        catch (Exception e) when (e is NotSupportedException or JsonException or InvalidOperationException)
        {
            throw new ArgumentException($"{name}: a {value!.GetType().Name} cannot be written as JSON ({e.Message}).", "options", e);
        }
    }

    private static readonly JsonElement EmptyObject = JsonSerializer.SerializeToElement(new JsonObject());

    private static ArgumentException Bad(string name, string problem) => new($"{name} {problem}.", "options");
}
