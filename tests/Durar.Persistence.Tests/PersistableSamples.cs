using System.Collections.Immutable;
using Durar.Actors;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Persistence.Tests;

/// <summary>
/// At least one sample of every <see cref="IDurarPersistable"/> type, with every field set to a non-default value where the
/// type allows it (plus the all-null shapes). A reflection spec fails when a persistable type has no sample here.
/// </summary>
public static class PersistableSamples
{
    // Non-UTC offsets and sub-millisecond ticks: both must survive the round trip.
    private static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.FromHours(2)).AddTicks(1234567);

    public static readonly KeyHealth FullHealth = new(
        CooldownUntil: T0.AddMinutes(5),
        CooldownReason: FailoverReason.RateLimit,
        ModelCooldowns: ImmutableDictionary<string, DateTimeOffset>.Empty.WithComparers(StringComparer.OrdinalIgnoreCase)
            .Add("GPT-5.4", T0.AddMinutes(1))
            .Add("claude-opus-4-6", T0.AddSeconds(90).ToOffset(TimeSpan.Zero)),
        DisabledUntil: T0.AddHours(1),
        DisabledReason: FailoverReason.AuthPermanent,
        ErrorCount: 3,
        FailureCounts: ImmutableDictionary<string, int>.Empty.Add("rate_limit", 2).Add("auth_permanent", 1),
        LastFailureAt: T0.AddSeconds(-1),
        LastUsed: T0.AddSeconds(-2));

    public static IReadOnlyList<IDurarPersistable> All { get; } =
    [
        new KeyEvents.Failed(T0, FailoverReason.RateLimit, "GPT-5.4", true, T0.AddMinutes(1), T0.AddMinutes(2), T0.AddMinutes(3), true),
        new KeyEvents.Failed(T0, FailoverReason.Format, null, false, null, null, null, false),
        new KeyEvents.Recovered(T0),
        new KeyEvents.Exhausted(T0, "gpt-5.4-mini", T0.AddSeconds(20)),
        new KeyEvents.Exhausted(T0, null, T0.AddMilliseconds(1)),
        new KeyEvents.Reset(T0),
        new KeyEvents.Used(T0.AddDays(-400)),
        new KeyHealthSnapshot(FullHealth),
        new KeyHealthSnapshot(KeyHealth.Healthy),
    ];

    public static TheoryData<int> Indexes()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < All.Count; i++) data.Add(i);
        return data;
    }
}
