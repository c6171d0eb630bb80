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

    private CachedTokens _tokens;

    /// <summary>The tokens this entry adds to a request as <paramref name="counter"/> counts them; counted once, then cached with the entry.</summary>
    internal int Tokens(TokenCounter counter) =>
        _tokens.Get(counter, this, static (c, e) => TokenCounter.PerMessage + c.Count(e.Content) + c.Count(e.Reasoning));
    /// <summary>For assistant entries: the reply was cut by an abort (the text is what streamed until then).</summary>
    public bool Aborted { get; init; }
}
