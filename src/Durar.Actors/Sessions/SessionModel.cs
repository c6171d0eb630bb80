using System.Collections.Immutable;
using Durar.Actors.Chat;
using Durar.Actors.Sessions.Context;

namespace Durar.Actors.Sessions;

/// <summary><c>/think</c> levels (reference item 76).</summary>
public enum ThinkingLevel { Off, Minimal, Low, Medium, High, XHigh, Adaptive, Max, Ultra }

/// <summary><c>/fast</c> modes (reference item 77).</summary>
public enum FastMode { Auto, On, Off }

/// <summary><c>/usage</c> modes (reference item 78); <c>Off</c> stored explicitly is distinct from unset.</summary>
public enum ResponseUsageMode { Off, Tokens, Full }

/// <summary>
/// What happens to messages that arrive while a run is active (reference items 81–82). Durar has no tool loop to steer,
/// so <c>steer</c> is accepted as an alias of <see cref="Followup"/>.
/// </summary>
public enum QueueMode { Followup, Collect, Interrupt }

/// <summary>What to drop when the queue is full (cap 20 by default).</summary>
public enum QueueDropPolicy { Old, New, Summarize }

/// <summary>Who set an override: the user (strict, survives <c>/new</c> for auth pins) or the system (auto).</summary>
public enum OverrideSource { User, Auto }

/// <summary>
/// A session's stored overrides (reference section J). Null means "not set here": the effective value then comes from
/// <c>agents.defaults</c>, the model's params or the provider default.
/// </summary>
public sealed record SessionOverrides
{
    public static readonly SessionOverrides None = new();

    /// <summary><c>provider/model</c> chosen with <c>/model</c> or PATCH; always <see cref="OverrideSource.User"/> (strict, no fallback).</summary>
    public string? Model { get; init; }
    public OverrideSource? ModelSource { get; init; }
    /// <summary>The pinned auth profile / key id, its source, and the compaction count it was pinned at (auto pins only).</summary>
    public string? AuthProfile { get; init; }
    public OverrideSource? AuthProfileSource { get; init; }
    public int? AuthProfileCompactionCount { get; init; }
    public ThinkingLevel? Thinking { get; init; }
    public FastMode? Fast { get; init; }
    public ResponseUsageMode? ResponseUsage { get; init; }
    public QueueMode? Queue { get; init; }
    /// <summary><c>/queue ... debounce:&lt;d&gt;</c>: this session's collect debounce (else <c>gateway.sessions.queueDebounce</c>).</summary>
    public TimeSpan? QueueDebounce { get; init; }
    /// <summary><c>/queue ... cap:&lt;n&gt;</c>: messages that may wait behind this session's run (else <c>gateway.sessions.queueCap</c>).</summary>
    public int? QueueCap { get; init; }
    /// <summary><c>/queue ... drop:old|new|summarize</c>: what a full queue does (else <c>gateway.sessions.queueDrop</c>).</summary>
    public QueueDropPolicy? QueueDrop { get; init; }
}

/// <summary>Usage totals in the reference's buckets plus cost in USD (tokens × model cost / 1e6).</summary>
public sealed record UsageTotals(long Input, long Output, long CacheRead, long CacheWrite, decimal Cost)
{
    public static readonly UsageTotals Zero = new(0, 0, 0, 0, 0m);
    public long Total => Input + Output;
    public UsageTotals Add(TokenUsage u, decimal cost) => new(Input + u.Input, Output + u.Output, CacheRead + u.CacheRead, CacheWrite + u.CacheWrite, Cost + cost);
}

/// <summary>One transcript entry. Assistant entries carry the model that answered and the usage of that turn.</summary>
public sealed record TranscriptEntry(
    long Seq,
    string Role,
    string Content,
    DateTimeOffset At,
    string? Model = null,
    TokenUsage? Usage = null,
    decimal? Cost = null)
{
    /// <summary>For assistant entries: the user message answered.</summary>
    public long? ReplyTo { get; init; }

    /// <summary>For assistant entries: the reply's reasoning and its signature, sent back with later turns.</summary>
    public string? Reasoning { get; init; }
    public string? ReasoningSignature { get; init; }

    /// <summary>For user entries: the turn's own messages when it carried more than its text (tool results, images).</summary>
    public ImmutableArray<ChatMessage> Messages { get; init; } = [];

    /// <summary>For assistant entries: the tool calls the reply made.</summary>
    public ImmutableArray<ToolCall> ToolCalls { get; init; } = [];

    private CachedTokens _tokens;

    private CachedMessage _message;

    /// <summary>
    /// The entry as a message of a run's request (its content, reasoning and tool calls; for an entry without
    /// <see cref="Messages"/>): built once, then cached with the entry.
    /// </summary>
    internal ChatMessage AsMessage() => _message.Get(this);

    /// <summary>
    /// The tokens this entry adds to a request as <paramref name="counter"/> counts them (its own messages, when a turn
    /// carried them, in place of its text; its tool calls); counted once, then cached with the entry.
    /// </summary>
    internal int Tokens(TokenCounter counter) => _tokens.Get(counter, this, static (c, e) => CountTokens(c, e));

    private static int CountTokens(TokenCounter c, TranscriptEntry e)
    {
        if (!e.Messages.IsDefaultOrEmpty) return e.Messages.Sum(c.Count);
        var n = TokenCounter.PerMessage + c.Count(e.Content) + c.Count(e.Reasoning);
        if (!e.ToolCalls.IsDefaultOrEmpty)
            foreach (var call in e.ToolCalls)
                n += c.Count(call.Name) + c.Count(call.Arguments);
        return n;
    }

    /// <summary>For assistant entries: the reply was cut by an abort (the text is what streamed until then).</summary>
    public bool Aborted { get; init; }
}
