using System.Collections.Immutable;
using Durar.Actors.Resilience;
using Durar.Actors.Chat;

namespace Durar.Actors.Providers.Messages;

/// <summary>Persisted facts about one key. Each carries its computed outcome, so replay does not depend on today's config.</summary>
internal interface IKeyEvent : IDurarPersistable
{
    DateTimeOffset At { get; }
}

internal static class KeyEvents
{
    /// <summary>
    /// An attempt failed. <see cref="CooldownUntil"/> (key-wide), <see cref="ModelCooldownUntil"/> (for <see cref="Model"/> only)
    /// and <see cref="DisabledUntil"/> are the results of the schedule at the time; null = unchanged.
    /// </summary>
    public sealed record Failed(
        DateTimeOffset At,
        FailoverReason Reason,
        string? Model,
        bool CountsAsError,
        DateTimeOffset? CooldownUntil,
        DateTimeOffset? ModelCooldownUntil,
        DateTimeOffset? DisabledUntil,
        bool WindowReset) : IKeyEvent;

    /// <summary>A success: errors, cooldowns and disables are cleared.</summary>
    public sealed record Recovered(DateTimeOffset At) : IKeyEvent;

    /// <summary>The provider said the key has no requests or tokens left: cool down until the reset, without counting an error.</summary>
    public sealed record Exhausted(DateTimeOffset At, string? Model, DateTimeOffset Until) : IKeyEvent;

    /// <summary>An operator cleared every cooldown and disable.</summary>
    public sealed record Reset(DateTimeOffset At) : IKeyEvent;

    /// <summary>Last-used bookkeeping, written at most once per flush interval.</summary>
    public sealed record Used(DateTimeOffset At) : IKeyEvent
    {
        /// <summary>Tokens and cost served by the key since the previous flush (added to its totals).</summary>
        public TokenUsage? UsageDelta { get; init; }
        public decimal CostDelta { get; init; }
    }
}

/// <summary>The persisted snapshot of a key's health.</summary>
internal sealed record KeyHealthSnapshot(KeyHealth Health) : IDurarPersistable;

/// <summary>
/// A key's health: the reference's <c>ProfileUsageStats</c> (cooldownUntil, disabledUntil, reason, errorCount, failureCounts,
/// lastUsed), plus model-scoped rate-limit cooldowns. Pure data; <see cref="KeyHealthPolicy"/> decides and applies.
/// </summary>
internal sealed record KeyHealth(
    DateTimeOffset? CooldownUntil,
    FailoverReason? CooldownReason,
    ImmutableDictionary<string, DateTimeOffset> ModelCooldowns,
    DateTimeOffset? DisabledUntil,
    FailoverReason? DisabledReason,
    int ErrorCount,
    ImmutableDictionary<string, int> FailureCounts,
    DateTimeOffset? LastFailureAt,
    DateTimeOffset? LastUsed)
{
    /// <summary>Model ids compare case-insensitively however the map was built (policy, <c>with</c>, deserialization).</summary>
    public ImmutableDictionary<string, DateTimeOffset> ModelCooldowns { get; init => field = value.WithComparers(StringComparer.OrdinalIgnoreCase); }
        = ModelCooldowns.WithComparers(StringComparer.OrdinalIgnoreCase);

    /// <summary>Tokens served by this key over its lifetime (flushed with last-used bookkeeping).</summary>
    public TokenUsage UsageTotal { get; init; } = TokenUsage.Zero;
    /// <summary>Cost in USD of <see cref="UsageTotal"/>, from the models' <c>cost</c> metadata.</summary>
    public decimal CostTotal { get; init; }

    public static readonly KeyHealth Healthy = new(null, null, ImmutableDictionary<string, DateTimeOffset>.Empty.WithComparers(StringComparer.OrdinalIgnoreCase),
        null, null, 0, ImmutableDictionary<string, int>.Empty, null, null);
}
