using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Telemetry;

/// <summary>
/// Whether a key event starts a cooldown or a disable (for the <c>durar.key.cooldowns</c> counter), as a pure function of
/// the key's health before the event: a window that was not running at the event's time and is now. A later failure
/// that keeps or extends a window already running is not a new start, so the counter reads "how often keys went out of
/// service", by reason and kind.
/// </summary>
internal static class CooldownStarts
{
    /// <summary>A key-wide cooldown.</summary>
    public const string Cooldown = "cooldown";
    /// <summary>A rate-limit cooldown for one model of the key.</summary>
    public const string ModelCooldown = "model_cooldown";
    /// <summary>A disable (billing, revoked key).</summary>
    public const string Disabled = "disabled";

    /// <summary>The kind and reason of the window <paramref name="e"/> starts on a key whose health was <paramref name="before"/>; null = none.</summary>
    public static (string Kind, FailoverReason Reason)? Of(KeyHealth before, IKeyEvent e)
    {
        var now = e.At;
        switch (e)
        {
            case KeyEvents.Failed { CountsAsError: true } f:
                if (f.DisabledUntil is { } d && d > now && !Running(before.DisabledUntil, now)) return (Disabled, f.Reason);
                if (f.CooldownUntil is { } c && c > now && !Running(before.CooldownUntil, now)) return (Cooldown, f.Reason);
                if (f.ModelCooldownUntil is { } m && m > now && f.Model is { } model && !Running(ModelWindow(before, model), now))
                    return (ModelCooldown, f.Reason);
                return null;
            case KeyEvents.Exhausted x when x.Until > now:
                return x.Model is { } exhausted
                    ? Running(ModelWindow(before, exhausted), now) ? null : (ModelCooldown, FailoverReason.RateLimit)
                    : Running(before.CooldownUntil, now) ? null : (Cooldown, FailoverReason.RateLimit);
            default:
                return null;
        }
    }

    private static DateTimeOffset? ModelWindow(KeyHealth health, string model) =>
        health.ModelCooldowns.TryGetValue(model, out var until) ? until : null;

    private static bool Running(DateTimeOffset? until, DateTimeOffset now) => until is { } u && u > now;
}
