using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Providers;

/// <summary>What a key can do right now: serve, or not until a time (cooling down, or disabled).</summary>
internal enum KeyStatus { Ready, CoolingDown, Disabled }

/// <summary>
/// The cooldown and disable rules of reference section G as pure functions: decide the event for an outcome, apply an
/// event to the state, and read availability. The key actor persists what
/// <see cref="Decide(KeyHealth, string?, AttemptOutcome, DateTimeOffset, CooldownSettings)"/> returns and applies it; the
/// provider actors and the lease board apply the same events to their copies.
/// </summary>
internal static class KeyHealthPolicy
{
    /// <summary>
    /// The one place where an attempt's outcome becomes a change of key state: the event to persist and apply, or null when
    /// the outcome changes nothing. The key actor persists what this returns; the provider actors and the lease board apply
    /// the same event to their copies at once (optimistically, before the key actor's authoritative push).
    /// </summary>
    /// <remarks>
    /// A failure follows <see cref="Decide(KeyHealth, FailoverReason, string?, RateLimitHints, DateTimeOffset, CooldownSettings)"/>
    /// (a request error is returned too, with <see cref="KeyEvents.Failed.CountsAsError"/> false: it changes no health but the
    /// key actor still counts and publishes it). A success on a key that can serve records a spent quota
    /// (<see cref="DecideExhausted"/>), or clears failures below the threshold and expired model windows; a success on a key
    /// that is cooling or disabled (a probe) proves it works again and clears everything. A cancelled attempt says nothing.
    /// </remarks>
    public static IKeyEvent? Decide(KeyHealth s, string? model, AttemptOutcome outcome, DateTimeOffset now, CooldownSettings cfg) => outcome switch
    {
        AttemptOutcome.Failed failed => Decide(s, failed.Reason, model, failed.Hints, now, cfg),
        AttemptOutcome.Succeeded ok when StatusAt(s, now).Status != KeyStatus.Ready => new KeyEvents.Recovered(now),
        AttemptOutcome.Succeeded ok => (IKeyEvent?)DecideExhausted(s, model, ok.Hints, now)
            ?? (s.ErrorCount > 0 || !s.ModelCooldowns.IsEmpty ? new KeyEvents.Recovered(now) : null),
        _ => null,
    };

    /// <summary>
    /// <paramref name="s"/> after <paramref name="outcome"/>, through <see cref="Decide(KeyHealth, string?, AttemptOutcome, DateTimeOffset, CooldownSettings)"/>
    /// and <see cref="Apply"/>: what a provider's copy of the key shows until the key actor pushes its own state.
    /// </summary>
    public static KeyHealth After(KeyHealth s, string? model, AttemptOutcome outcome, DateTimeOffset now, CooldownSettings cfg) =>
        Decide(s, model, outcome, now, cfg) is { } e ? Apply(s, e) : s;

    /// <summary>Decides the event for a failed attempt.</summary>
    public static KeyEvents.Failed Decide(KeyHealth s, FailoverReason reason, string? model, RateLimitHints hints, DateTimeOffset now, CooldownSettings cfg)
    {
        // The failure window: stale counts start again before this failure is counted.
        var windowReset = s.LastFailureAt is { } last && now - last > cfg.FailureWindow;
        var errorCount = (windowReset ? 0 : s.ErrorCount) + 1;
        var counts = windowReset ? s.FailureCounts.Clear() : s.FailureCounts;
        var sameReasonCount = counts.GetValueOrDefault(reason.ToWireName()) + 1;

        DateTimeOffset? cooldown = null, modelCooldown = null, disabled = null;
        var effect = FailoverReasons.KeyEffectOf(reason);
        switch (effect)
        {
            case KeyEffect.DisableBilling:
                disabled = Disable(s, now, cfg.BillingBase, cfg.BillingMax, sameReasonCount);
                break;
            case KeyEffect.DisableAuthPermanent:
                disabled = Disable(s, now, cfg.AuthPermanentBase, cfg.AuthPermanentMax, sameReasonCount);
                break;
            case KeyEffect.CoolDown or KeyEffect.CoolDownFromThreshold:
                // Transient upstream trouble is usually not the key's fault: count it, but cool only from the threshold on.
                var index = effect == KeyEffect.CoolDownFromThreshold ? errorCount - cfg.TransientThreshold + 1 : errorCount;
                TimeSpan step;
                if (index < 1)
                {
                    // Below the threshold only the provider's own hint cools the key, and only for as long as it asks.
                    if (hints.RetryAfter is not { } wait || wait <= TimeSpan.Zero) break;
                    step = wait;
                }
                else
                {
                    step = cfg.Schedule[Math.Min(index, cfg.Schedule.Length) - 1];
                    // A provider hint (Retry-After, reset headers, Gemini retryDelay) wins when it is longer.
                    if (hints.RetryAfter is { } hinted && hinted > step) step = hinted;
                }
                var until = now + step;
                if (reason == FailoverReason.RateLimit && model is not null)
                {
                    var current = s.ModelCooldowns.TryGetValue(model, out var m) ? m : (DateTimeOffset?)null;
                    modelCooldown = Later(current, until); // never shortens an active cooldown
                }
                else cooldown = Later(s.CooldownUntil, until);
                break;
            default:
                // format, model_not_found, context_overflow, session_expired, refusal: the request was the problem, not the key.
                return new KeyEvents.Failed(now, reason, model, false, null, null, null, false);
        }
        return new KeyEvents.Failed(now, reason, model, true, cooldown, modelCooldown, disabled, windowReset);
    }

    private static DateTimeOffset Disable(KeyHealth s, DateTimeOffset now, TimeSpan @base, TimeSpan max, int count)
    {
        // A retry inside an active disable window never extends it.
        if (s.DisabledUntil is { } active && active > now) return active;
        var factor = Math.Pow(2, Math.Min(count - 1, 10));
        var span = TimeSpan.FromTicks((long)Math.Min(max.Ticks, @base.Ticks * factor));
        return now + span;
    }

    private static DateTimeOffset Later(DateTimeOffset? current, DateTimeOffset proposed) =>
        current is { } c && c > proposed ? c : proposed;

    /// <summary>Decides the pre-emptive cooldown for a success whose headers say the quota is used up; null = nothing to do.</summary>
    public static KeyEvents.Exhausted? DecideExhausted(KeyHealth s, string? model, RateLimitHints hints, DateTimeOffset now)
    {
        if (!hints.Exhausted) return null;
        var until = now + (hints.ResetIn ?? hints.RetryAfter ?? TimeSpan.FromSeconds(1));
        var current = model is not null && s.ModelCooldowns.TryGetValue(model, out var m) ? m : s.CooldownUntil;
        return current is { } c && c >= until ? null : new KeyEvents.Exhausted(now, model, until);
    }

    public static KeyHealth Apply(KeyHealth s, IKeyEvent e) => e switch
    {
        KeyEvents.Failed f when !f.CountsAsError => s,
        KeyEvents.Failed f => s with
        {
            ErrorCount = (f.WindowReset ? 0 : s.ErrorCount) + 1,
            FailureCounts = (f.WindowReset ? s.FailureCounts.Clear() : s.FailureCounts)
                .SetItem(f.Reason.ToWireName(), (f.WindowReset ? 0 : s.FailureCounts.GetValueOrDefault(f.Reason.ToWireName())) + 1),
            LastFailureAt = f.At,
            CooldownUntil = f.CooldownUntil ?? s.CooldownUntil,
            // A reason goes with the window it produced: kept windows, and model-scoped ones, leave the key-wide reason alone.
            CooldownReason = f.CooldownUntil is { } cu && cu != s.CooldownUntil ? f.Reason : s.CooldownReason,
            ModelCooldowns = f.ModelCooldownUntil is { } mc && f.Model is not null ? s.ModelCooldowns.SetItem(f.Model, mc) : s.ModelCooldowns,
            DisabledUntil = f.DisabledUntil ?? s.DisabledUntil,
            DisabledReason = f.DisabledUntil is { } du && du != s.DisabledUntil ? f.Reason : s.DisabledReason,
        },
        KeyEvents.Recovered r => KeyHealth.Healthy with { LastUsed = r.At, UsageTotal = s.UsageTotal, CostTotal = s.CostTotal },
        KeyEvents.Reset => KeyHealth.Healthy with { LastUsed = s.LastUsed, UsageTotal = s.UsageTotal, CostTotal = s.CostTotal },
        KeyEvents.Exhausted x when x.Model is not null => s with { ModelCooldowns = s.ModelCooldowns.SetItem(x.Model, x.Until) },
        KeyEvents.Exhausted x => s with { CooldownUntil = x.Until, CooldownReason = FailoverReason.RateLimit },
        KeyEvents.Used u => s with
        {
            LastUsed = u.At,
            UsageTotal = u.UsageDelta is { } d ? s.UsageTotal.Add(d) : s.UsageTotal,
            CostTotal = s.CostTotal + u.CostDelta,
        },
        _ => s,
    };

    /// <summary>Key-wide status (model-scoped cooldowns do not make the key unavailable for other models).</summary>
    public static (KeyStatus Status, DateTimeOffset? Until, FailoverReason? Reason) StatusAt(KeyHealth s, DateTimeOffset now)
    {
        if (s.DisabledUntil is { } d && d > now) return (KeyStatus.Disabled, d, s.DisabledReason);
        if (s.CooldownUntil is { } c && c > now) return (KeyStatus.CoolingDown, c, s.CooldownReason);
        var model = s.ModelCooldowns.Values.Where(v => v > now).DefaultIfEmpty().Max();
        // Model-scoped windows come only from rate limits (a failed rate_limit with a model, or an exhausted quota).
        return model > now ? (KeyStatus.CoolingDown, model, FailoverReason.RateLimit) : (KeyStatus.Ready, null, null);
    }

    /// <summary>When the key can next serve <paramref name="model"/>; null = now.</summary>
    public static DateTimeOffset? BlockedUntil(KeyHealth s, string? model, DateTimeOffset now)
    {
        DateTimeOffset? until = null;
        if (s.DisabledUntil is { } d && d > now) until = d;
        if (s.CooldownUntil is { } c && c > now && (until is null || c > until)) until = c;
        if (model is not null && s.ModelCooldowns.TryGetValue(model, out var m) && m > now && (until is null || m > until)) until = m;
        return until;
    }

    /// <summary>The next moment something expires (to schedule the transition back to Ready); null = nothing pending.</summary>
    public static DateTimeOffset? NextExpiry(KeyHealth s, DateTimeOffset now) =>
        new[] { s.DisabledUntil, s.CooldownUntil }.Concat(s.ModelCooldowns.Values.Select(v => (DateTimeOffset?)v))
            .Where(t => t > now).Min();
}
