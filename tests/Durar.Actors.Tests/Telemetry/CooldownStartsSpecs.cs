using System.Collections.Immutable;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Telemetry;

namespace Durar.Actors.Tests.Telemetry;

/// <summary>
/// The <c>durar.key.cooldowns</c> counter's rule: an event counts when it starts a window that was not running (a cooldown,
/// a model cooldown, a disable, a pre-emptive exhaustion), with its reason; keeping or extending a running window, a failure
/// below the transient threshold, a request error or a recovery does not. Events come from <see cref="KeyHealthPolicy"/>.
/// </summary>
public sealed class CooldownStartsSpecs
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly CooldownSettings Cfg = CooldownSettings.Default;

    private static KeyEvents.Failed Fail(KeyHealth before, FailoverReason reason, string? model = null, DateTimeOffset? at = null) =>
        KeyHealthPolicy.Decide(before, reason, model, RateLimitHints.None, at ?? T0, Cfg);

    [Theory]
    [InlineData(FailoverReason.RateLimit, null, CooldownStarts.Cooldown)]
    [InlineData(FailoverReason.RateLimit, "m", CooldownStarts.ModelCooldown)]
    [InlineData(FailoverReason.Auth, null, CooldownStarts.Cooldown)]
    [InlineData(FailoverReason.Billing, null, CooldownStarts.Disabled)]
    [InlineData(FailoverReason.AuthPermanent, "m", CooldownStarts.Disabled)]
    public void Should_count_a_window_that_starts_with_its_kind_and_reason(FailoverReason reason, string? model, string kind)
    {
        var started = CooldownStarts.Of(KeyHealth.Healthy, Fail(KeyHealth.Healthy, reason, model));

        Assert.Equal((kind, reason), started);
    }

    [Fact]
    public void Should_not_count_a_failure_that_keeps_or_extends_a_running_window()
    {
        var first = Fail(KeyHealth.Healthy, FailoverReason.RateLimit);
        var cooling = KeyHealthPolicy.Apply(KeyHealth.Healthy, first);
        var again = Fail(cooling, FailoverReason.RateLimit, at: T0.AddSeconds(5));

        Assert.NotNull(again.CooldownUntil);
        Assert.Null(CooldownStarts.Of(cooling, again));
        // Once the window is over, the next one is a new start.
        var later = T0 + first.CooldownUntil!.Value.Subtract(T0) + TimeSpan.FromSeconds(1);
        Assert.Equal((CooldownStarts.Cooldown, FailoverReason.RateLimit), CooldownStarts.Of(cooling, Fail(cooling, FailoverReason.RateLimit, at: later)));
    }

    [Fact]
    public void Should_count_a_model_window_per_model()
    {
        var first = Fail(KeyHealth.Healthy, FailoverReason.RateLimit, "m1");
        var cooling = KeyHealthPolicy.Apply(KeyHealth.Healthy, first);

        Assert.Null(CooldownStarts.Of(cooling, Fail(cooling, FailoverReason.RateLimit, "m1", T0.AddSeconds(1))));
        Assert.Equal((CooldownStarts.ModelCooldown, FailoverReason.RateLimit),
            CooldownStarts.Of(cooling, Fail(cooling, FailoverReason.RateLimit, "m2", T0.AddSeconds(1))));
    }

    [Fact]
    public void Should_not_count_failures_that_start_no_window()
    {
        // Transient errors cool a key only from the third in a row (auth.cooldowns.transientThreshold).
        var once = Fail(KeyHealth.Healthy, FailoverReason.Overloaded);
        Assert.Null(CooldownStarts.Of(KeyHealth.Healthy, once));
        // A request error is not the key's fault; a recovery and a reset end windows.
        Assert.Null(CooldownStarts.Of(KeyHealth.Healthy, Fail(KeyHealth.Healthy, FailoverReason.Format)));
        Assert.Null(CooldownStarts.Of(KeyHealth.Healthy, new KeyEvents.Recovered(T0)));
        Assert.Null(CooldownStarts.Of(KeyHealth.Healthy, new KeyEvents.Reset(T0)));
    }

    [Fact]
    public void Should_count_a_pre_emptive_exhaustion_as_a_rate_limit_window()
    {
        var model = new KeyEvents.Exhausted(T0, "m", T0.AddSeconds(20));
        var key = new KeyEvents.Exhausted(T0, null, T0.AddSeconds(20));
        var modelCooling = KeyHealth.Healthy with { ModelCooldowns = ImmutableDictionary<string, DateTimeOffset>.Empty.Add("m", T0.AddSeconds(5)) };

        Assert.Equal((CooldownStarts.ModelCooldown, FailoverReason.RateLimit), CooldownStarts.Of(KeyHealth.Healthy, model));
        Assert.Equal((CooldownStarts.Cooldown, FailoverReason.RateLimit), CooldownStarts.Of(KeyHealth.Healthy, key));
        Assert.Null(CooldownStarts.Of(modelCooling, model));
    }
}
