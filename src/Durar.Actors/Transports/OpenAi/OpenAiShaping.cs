using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Actors.Chat;
using Durar.Actors.Models;

namespace Durar.Actors.Transports.OpenAi;

/// <summary>
/// How a request is shaped for one <c>openai-completions</c> target (reference items 14–16): native OpenAI
/// (<c>api.openai.com</c>) keeps its native-only fields; any other host is a proxy, which gets no <c>developer</c> role and
/// none of <c>service_tier</c>, <c>store</c> or the prompt-cache hints; the model's (else the provider's) <c>compat</c> block
/// adjusts the rest. The same rules decide what the request writer drops and what the gateway reports as dropped
/// (<c>x-durar-dropped</c>), so the two cannot disagree.
/// </summary>
internal sealed class OpenAiShaping
{
    /// <summary>Fields only native OpenAI accepts; proxies never get them (a client that set one sees it in <c>x-durar-dropped</c>).</summary>
    private static readonly ImmutableHashSet<string> NativeOnly = ["service_tier", "store", "prompt_cache_key", "prompt_cache_retention"];

    /// <summary>The gateway's own fields: they steer the run and never go upstream.</summary>
    public static readonly ImmutableHashSet<string> GatewayFields = ["fallbacks", "models"];

    private readonly JsonObject? _compat;

    private OpenAiShaping(ResolvedModel target)
    {
        Native = target.Provider.IsNativeOpenAi;
        _compat = target.Model.Compat ?? target.Provider.Compat;
        SupportsDeveloperRole = Native && Flag("supportsDeveloperRole", true);
        SupportsStore = Flag("supportsStore", Native);
        SupportsReasoningEffort = Native || Flag("supportsReasoningEffort", target.Model.Reasoning);
        SupportsUsageInStreaming = Flag("supportsUsageInStreaming", true);
        SupportsTools = Flag("supportsTools", true);
        RequiresStringContent = Flag("requiresStringContent", false);
        MaxTokensField = _compat?["maxTokensField"] is JsonValue v && v.TryGetValue<string>(out var field) && field is "max_tokens" or "max_completion_tokens"
            ? field
            : Native ? "max_completion_tokens" : "max_tokens";
    }

    public static OpenAiShaping For(ResolvedModel target) => new(target);

    public bool Native { get; }
    public bool SupportsDeveloperRole { get; }
    public bool SupportsStore { get; }
    public bool SupportsReasoningEffort { get; }
    public bool SupportsUsageInStreaming { get; }
    public bool SupportsTools { get; }
    public bool RequiresStringContent { get; }
    public string MaxTokensField { get; }

    /// <summary>Whether a field the client set goes upstream (renamed fields such as <c>max_tokens</c> count as kept).</summary>
    public bool Keeps(string field) => field switch
    {
        "store" => SupportsStore,
        _ when NativeOnly.Contains(field) => Native,
        "reasoning_effort" => SupportsReasoningEffort,
        "tools" or "tool_choice" or "parallel_tool_calls" => SupportsTools,
        _ => !GatewayFields.Contains(field),
    };

    /// <summary>The reasoning effort as this target wants it (compat <c>reasoningEffortMap</c>), or null when it takes none.</summary>
    public string? Effort(string effort)
    {
        if (!SupportsReasoningEffort) return null;
        if (_compat?["reasoningEffortMap"] is JsonObject map && map[effort] is JsonValue mapped && mapped.TryGetValue<string>(out var to)) effort = to;
        if (_compat?["supportedReasoningEfforts"] is JsonArray supported
            && !supported.Any(e => e is JsonValue s && s.TryGetValue<string>(out var name) && name == effort))
            return null;
        return effort;
    }

    /// <summary>
    /// The fields the client set that this target does not get, in the order the client wrote them (the gateway's own
    /// fields are not reported: they were consumed, not dropped).
    /// </summary>
    public ImmutableArray<string> Dropped(ChatRequest request)
    {
        // Per request on the hot path: nothing is allocated when nothing is dropped (the builder is made at the first field,
        // the extras and the messages are walked without an enumerator or a closure).
        ImmutableArray<string>.Builder? dropped = null;
        if (request.Original is { ValueKind: JsonValueKind.Object } original)
            foreach (var p in original.EnumerateObject())
                if (!GatewayFields.Contains(p.Name) && !Keeps(p.Name)) (dropped ??= ImmutableArray.CreateBuilder<string>()).Add(p.Name);
        if (!request.Extra.IsEmpty)
            foreach (var (name, _) in request.Extra)
                if (!Keeps(name)) (dropped ??= ImmutableArray.CreateBuilder<string>()).Add(name);
        var toolError = false;
        var cacheControl = false;
        foreach (var m in request.Messages)
        {
            toolError |= m.ToolError;
            if (!m.Parts.IsDefaultOrEmpty)
                foreach (var part in m.Parts)
                    cacheControl |= part.CacheControl is not null;
        }
        if (dropped is null && request.Original is not null && !toolError && !cacheControl && !OriginalEffortDropped(request)) return [];
        dropped ??= ImmutableArray.CreateBuilder<string>();
        if (request.Original is null && request.ReasoningEffort is { } effort && Effort(effort) is null && !dropped.Contains("reasoning_effort"))
            dropped.Add("reasoning_effort");
        if (request.Original is { } body && body.TryGetProperty("reasoning_effort", out var e) && e.ValueKind == JsonValueKind.String
            && Keeps("reasoning_effort") && Effort(e.GetString()!) is null)
            dropped.Add("reasoning_effort");
        if (request.Original is null && request.ServiceTier is not null && !Keeps("service_tier")) dropped.Add("service_tier");
        // A tool result marked as an error (the Anthropic dialect): OpenAI's tool messages have no such flag, the text stays.
        if (toolError) dropped.Add("is_error");
        // A cache breakpoint of the Anthropic dialect: OpenAI-compatible servers cache by themselves, the answer is the same.
        if (cacheControl) dropped.Add("cache_control");
        return dropped.ToImmutable();
    }

    /// <summary>The client's <c>reasoning_effort</c> in the body is one this target keeps but cannot map (reported as dropped).</summary>
    private bool OriginalEffortDropped(ChatRequest request) =>
        request.Original is { } body && body.TryGetProperty("reasoning_effort", out var e) && e.ValueKind == JsonValueKind.String
        && Keeps("reasoning_effort") && Effort(e.GetString()!) is null;

    private bool Flag(string name, bool fallback) => _compat?[name] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : fallback;
}
