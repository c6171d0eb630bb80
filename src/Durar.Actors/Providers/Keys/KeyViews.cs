using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Providers.Keys;

/// <summary>A key's operator view (<see cref="KeyStateView"/>), from its health, its minute window and its bookkeeping.</summary>
internal static class KeyViews
{
    /// <summary>
    /// ready, cooling or disabled from the health (<see cref="KeyHealthPolicy.StatusAt"/>), or "limited" when the key is
    /// healthy but this minute's rpm/tpm budget is spent; usage totals include what is not written yet.
    /// </summary>
    public static KeyStateView Of(ApiKeyCredential key, KeyHealth health, MinuteWindow window, KeyUsageLedger usage, DateTimeOffset now)
    {
        var (status, until, reason) = KeyHealthPolicy.StatusAt(health, now);
        var state = status switch { KeyStatus.Disabled => "disabled", KeyStatus.CoolingDown => "cooling", _ => "ready" };
        if (status == KeyStatus.Ready && window.LimitedUntil(now) is { } limited)
        {
            state = "limited";
            until = limited;
            reason = FailoverReason.RateLimit;
        }
        var (tokens, cost) = usage.Totals(health);
        return new KeyStateView(key.Id, key.Masked, key.Source, state, until, reason?.ToWireName(), health.ErrorCount, health.FailureCounts,
            health.LastUsed, usage.Requests, usage.Failures) { Usage = tokens, Cost = cost };
    }
}
