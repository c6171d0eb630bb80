using System.Diagnostics.CodeAnalysis;

namespace Durar.Actors.Sessions.Directives;

/// <summary>
/// The lower-case wire names of the session enums, shared by the directive parser, the replies and the HTTP API
/// (<c>PATCH /v1/sessions/{key}</c>). Parsing is case-insensitive and trims; aliases map to their canonical value.
/// </summary>
internal static class WireNames
{
    /// <summary>Words that clear a stored value (reference items 76, 78, 83): default, inherit, inherited, clear, reset, unpin.</summary>
    public static readonly IReadOnlyList<string> ClearWords = ["default", "inherit", "inherited", "clear", "reset", "unpin"];

    public static bool IsClearWord([NotNullWhen(true)] string? text) =>
        text is not null && ClearWords.Contains(text.Trim(), StringComparer.OrdinalIgnoreCase);

    public static string ToWire(ThinkingLevel level) => level switch
    {
        ThinkingLevel.Off => "off",
        ThinkingLevel.Minimal => "minimal",
        ThinkingLevel.Low => "low",
        ThinkingLevel.Medium => "medium",
        ThinkingLevel.High => "high",
        ThinkingLevel.XHigh => "xhigh",
        ThinkingLevel.Adaptive => "adaptive",
        ThinkingLevel.Max => "max",
        ThinkingLevel.Ultra => "ultra",
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, null),
    };

    public static string ToWire(FastMode mode) => mode switch
    {
        FastMode.Auto => "auto",
        FastMode.On => "on",
        FastMode.Off => "off",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    public static string ToWire(ResponseUsageMode mode) => mode switch
    {
        ResponseUsageMode.Off => "off",
        ResponseUsageMode.Tokens => "tokens",
        ResponseUsageMode.Full => "full",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    public static string ToWire(QueueMode mode) => mode switch
    {
        QueueMode.Followup => "followup",
        QueueMode.Collect => "collect",
        QueueMode.Interrupt => "interrupt",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    public static string ToWire(QueueDropPolicy policy) => policy switch
    {
        QueueDropPolicy.Old => "old",
        QueueDropPolicy.New => "new",
        QueueDropPolicy.Summarize => "summarize",
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, null),
    };

    public static string ToWire(OverrideSource source) => source switch
    {
        OverrideSource.User => "user",
        OverrideSource.Auto => "auto",
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, null),
    };

    /// <summary>off, minimal, low, medium, high, xhigh, adaptive, max, ultra; aliases <c>x-high</c> → xhigh, <c>highest</c> → high.</summary>
    public static bool TryParseThinking(string? text, out ThinkingLevel level)
    {
        level = default;
        switch (Key(text))
        {
            case "off": level = ThinkingLevel.Off; return true;
            case "minimal": level = ThinkingLevel.Minimal; return true;
            case "low": level = ThinkingLevel.Low; return true;
            case "medium": level = ThinkingLevel.Medium; return true;
            case "high" or "highest": level = ThinkingLevel.High; return true;
            case "xhigh" or "x-high": level = ThinkingLevel.XHigh; return true;
            case "adaptive": level = ThinkingLevel.Adaptive; return true;
            case "max": level = ThinkingLevel.Max; return true;
            case "ultra": level = ThinkingLevel.Ultra; return true;
            default: return false;
        }
    }

    /// <summary>auto, on, off.</summary>
    public static bool TryParseFast(string? text, out FastMode mode)
    {
        mode = default;
        switch (Key(text))
        {
            case "auto": mode = FastMode.Auto; return true;
            case "on": mode = FastMode.On; return true;
            case "off": mode = FastMode.Off; return true;
            default: return false;
        }
    }

    /// <summary>off, tokens, full.</summary>
    public static bool TryParseResponseUsage(string? text, out ResponseUsageMode mode)
    {
        mode = default;
        switch (Key(text))
        {
            case "off": mode = ResponseUsageMode.Off; return true;
            case "tokens": mode = ResponseUsageMode.Tokens; return true;
            case "full": mode = ResponseUsageMode.Full; return true;
            default: return false;
        }
    }

    /// <summary>
    /// followup, collect, interrupt. Durar has no tool loop to steer, so <c>steer</c>, the legacy <c>queue</c> (= steer) and
    /// <c>steer-backlog</c> / <c>steer+backlog</c> map to followup (reference item 81).
    /// </summary>
    public static bool TryParseQueue(string? text, out QueueMode mode)
    {
        mode = default;
        switch (Key(text))
        {
            case "followup" or "steer" or "queue" or "steer-backlog" or "steer+backlog": mode = QueueMode.Followup; return true;
            case "collect": mode = QueueMode.Collect; return true;
            case "interrupt": mode = QueueMode.Interrupt; return true;
            default: return false;
        }
    }

    /// <summary>old, new, summarize.</summary>
    public static bool TryParseQueueDrop(string? text, out QueueDropPolicy policy)
    {
        policy = default;
        switch (Key(text))
        {
            case "old": policy = QueueDropPolicy.Old; return true;
            case "new": policy = QueueDropPolicy.New; return true;
            case "summarize": policy = QueueDropPolicy.Summarize; return true;
            default: return false;
        }
    }

    /// <summary>user, auto.</summary>
    public static bool TryParseOverrideSource(string? text, out OverrideSource source)
    {
        source = default;
        switch (Key(text))
        {
            case "user": source = OverrideSource.User; return true;
            case "auto": source = OverrideSource.Auto; return true;
            default: return false;
        }
    }

    private static string? Key(string? text) => text?.Trim().ToLowerInvariant();
}
