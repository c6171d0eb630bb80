using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Actors.Sessions.Directives;
using Durar.Actors.Chat;

namespace Durar.Actors.Sessions;

/// <summary>
/// Resolves the effective per-turn settings (reference items 76–78, 83) and maps them to upstream request fields.
/// Order: inline directive (this message only) → session override → <c>agents.defaults.*Default</c> → the model's
/// <c>agents.defaults.models["p/m"].params</c> → provider default. The first non-null value wins.
/// </summary>
internal static class EffectiveSettings
{
    /// <summary><c>params.fastAutoOnSeconds</c> default: <c>/fast auto</c> is on for calls started in the first 60 s of a run.</summary>
    public static readonly TimeSpan DefaultFastAutoOnFor = TimeSpan.FromSeconds(60);

    /// <summary>
    /// inline → session → <c>agents.defaults.thinkingDefault</c> → <c>params.thinking</c> → <c>medium</c> for reasoning
    /// models, <c>off</c> otherwise.
    /// </summary>
    public static ThinkingLevel Thinking(ThinkingLevel? inline, ThinkingLevel? session, ThinkingLevel? agentDefault, JsonObject? modelParams, bool reasoningModel) =>
        inline ?? session ?? agentDefault ?? ThinkingFromParams(modelParams) ?? (reasoningModel ? ThinkingLevel.Medium : ThinkingLevel.Off);

    /// <summary>inline → session → <c>agents.defaults.fastModeDefault</c> → <c>params.fastMode</c> → <c>off</c>.</summary>
    public static FastMode Fast(FastMode? inline, FastMode? session, FastMode? agentDefault, JsonObject? modelParams) =>
        inline ?? session ?? agentDefault ?? FastFromParams(modelParams) ?? FastMode.Off;

    /// <summary>
    /// The effective thinking level and fast mode as the request fields of <paramref name="target"/>'s wire. The client's
    /// own <c>reasoning_effort</c> and <c>service_tier</c> are the request's and win over <c>/think</c>, <c>/fast</c> and the
    /// defaults; a request without them (stateless or a session turn) gets the configured ones. Anthropic gets a thinking
    /// budget only when the client set no <c>reasoning_effort</c> (its wire translates the client's own).
    /// </summary>
    /// <param name="runStart">When the run began: <c>/fast auto</c> is on for calls started before it plus
    /// <see cref="FastAutoOnFor"/> (<see cref="ChatRequest.FastUntil"/>).</param>
    public static ChatRequest ApplyTo(ChatRequest request, SessionOverrides inline, SessionOverrides session, Configuration.AgentDefaults agents,
        Models.ResolvedModel target, DateTimeOffset runStart)
    {
        var prms = target.Entry?.Params;
        var thinking = Thinking(inline.Thinking, session.Thinking, AgentThinking(agents), prms, target.Model.Reasoning);
        var fast = Fast(inline.Fast, session.Fast, AgentFast(agents), prms);
        var anthropic = target.Provider.Api == Configuration.ApiKinds.AnthropicMessages;
        var clientEffort = request.ReasoningEffort;
        var effort = clientEffort ?? (anthropic ? null : ToReasoningEffort(thinking));
        var budget = anthropic && clientEffort is null ? ToAnthropicBudgetTokens(thinking) : null;
        var fastFlag = request.ServiceTier is null ? ToFastFlag(fast, TimeSpan.Zero, FastAutoOnFor(prms)) : null;
        DateTimeOffset? fastUntil = request.ServiceTier is null && fast == FastMode.Auto ? runStart + FastAutoOnFor(prms) : null;
        // Most requests come out as they went in (no thinking or fast mode configured): no copy of the request then (issue 17).
        if (effort == request.ReasoningEffort && budget == request.ThinkingBudgetTokens && fastFlag == request.FastMode && fastUntil == request.FastUntil)
            return request;
        return request with { ReasoningEffort = effort, ThinkingBudgetTokens = budget, FastMode = fastFlag, FastUntil = fastUntil };
    }

    /// <summary><c>agents.defaults.thinkingDefault</c>, when it names a level.</summary>
    public static ThinkingLevel? AgentThinking(Configuration.AgentDefaults agents) =>
        WireNames.TryParseThinking(agents.ThinkingDefault, out var v) ? v : null;

    /// <summary><c>agents.defaults.fastModeDefault</c>, when it names a mode.</summary>
    public static FastMode? AgentFast(Configuration.AgentDefaults agents) => WireNames.TryParseFast(agents.FastModeDefault, out var v) ? v : null;

    /// <summary>inline → session → <c>agents.defaults.responseUsageDefault</c> → <c>off</c>.</summary>
    public static ResponseUsageMode ResponseUsage(ResponseUsageMode? inline, ResponseUsageMode? session, ResponseUsageMode? agentDefault) =>
        inline ?? session ?? agentDefault ?? ResponseUsageMode.Off;

    /// <summary>inline (one-turn <c>queueMode</c>) → session → <c>agents.defaults.queue.mode</c> → <c>followup</c>.</summary>
    public static QueueMode Queue(QueueMode? inline, QueueMode? session, QueueMode? agentDefault) =>
        inline ?? session ?? agentDefault ?? QueueMode.Followup;

    /// <summary><c>params.thinking</c> as a level name (aliases allowed); anything else is ignored.</summary>
    public static ThinkingLevel? ThinkingFromParams(JsonObject? modelParams) =>
        StringParam(modelParams, "thinking") is { } s && WireNames.TryParseThinking(s, out var level) ? level : null;

    /// <summary><c>params.fastMode</c>: <c>true</c>/<c>false</c> (bool or string) or <c>"auto"|"on"|"off"</c>; anything else is ignored.</summary>
    public static FastMode? FastFromParams(JsonObject? modelParams)
    {
        if (modelParams?["fastMode"] is not JsonValue value) return null;
        if (value.GetValueKind() is JsonValueKind.True) return FastMode.On;
        if (value.GetValueKind() is JsonValueKind.False) return FastMode.Off;
        if (!value.TryGetValue<string>(out var s)) return null;
        if (bool.TryParse(s.Trim(), out var b)) return b ? FastMode.On : FastMode.Off;
        return WireNames.TryParseFast(s, out var mode) ? mode : null;
    }

    /// <summary><c>params.fastAutoOnSeconds</c> (a non-negative number), or <see cref="DefaultFastAutoOnFor"/>.</summary>
    public static TimeSpan FastAutoOnFor(JsonObject? modelParams)
    {
        if (modelParams?["fastAutoOnSeconds"] is JsonValue value && value.GetValueKind() is JsonValueKind.Number)
        {
            if (double.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                && seconds >= 0 && seconds <= TimeSpan.MaxValue.TotalSeconds / 2) return TimeSpan.FromSeconds(seconds);
        }
        return DefaultFastAutoOnFor;
    }

    // ---- upstream mapping ----

    /// <summary>
    /// OpenAI <c>reasoning_effort</c>: off → null (not sent); minimal, low, high as named; medium and adaptive → <c>medium</c>;
    /// xhigh, max and ultra → <c>xhigh</c>. Our choice: OpenAI has no adaptive/max/ultra, so they map to the nearest effort.
    /// </summary>
    public static string? ToReasoningEffort(ThinkingLevel level) => level switch
    {
        ThinkingLevel.Off => null,
        ThinkingLevel.Minimal => "minimal",
        ThinkingLevel.Low => "low",
        ThinkingLevel.Medium or ThinkingLevel.Adaptive => "medium",
        ThinkingLevel.High => "high",
        ThinkingLevel.XHigh or ThinkingLevel.Max or ThinkingLevel.Ultra => "xhigh",
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, null),
    };

    /// <summary>Anthropic <c>thinking.budget_tokens</c> by <see cref="ReasoningBudgets"/> (the one table); off → null (thinking not enabled).</summary>
    public static int? ToAnthropicBudgetTokens(ThinkingLevel level) => ReasoningBudgets.AnthropicBudgetTokens(WireNames.ToWire(level));

    /// <summary>
    /// <see cref="Chat.ChatRequest.FastMode"/> for one upstream call: on → true, off → false, auto → true only for calls
    /// started before <paramref name="fastAutoOnFor"/> has elapsed since the run began (later retries/fallbacks run without it).
    /// </summary>
    public static bool? ToFastFlag(FastMode mode, TimeSpan elapsedSinceRunStart, TimeSpan fastAutoOnFor) => mode switch
    {
        FastMode.On => true,
        FastMode.Off => false,
        FastMode.Auto => elapsedSinceRunStart < fastAutoOnFor,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    /// <summary><see cref="ToFastFlag(FastMode, TimeSpan, TimeSpan)"/> with the default 60 s window.</summary>
    public static bool? ToFastFlag(FastMode mode, TimeSpan elapsedSinceRunStart) => ToFastFlag(mode, elapsedSinceRunStart, DefaultFastAutoOnFor);

    private static string? StringParam(JsonObject? o, string name) =>
        o?[name] is JsonValue v && v.GetValueKind() is JsonValueKind.String && v.TryGetValue<string>(out var s) ? s : null;
}
