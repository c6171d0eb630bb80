using System.Collections.Immutable;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Tests.Providers;

/// <summary>
/// <see cref="KeyHealthPolicy.Decide(KeyHealth, string?, AttemptOutcome, DateTimeOffset, CooldownSettings)"/> and
/// <see cref="KeyHealthPolicy.After"/>, the one place an attempt's outcome becomes a key event: a failure gives the event of
/// the reason overload; a success on a ready key gives nothing, a recovery (errors below the threshold, expired model
/// windows) or a pre-emptive cooldown (exhausted quota); a success on a cooling or disabled key is a probe that recovers it;
/// a cancelled attempt says nothing. The cooldown rules themselves are pinned in <see cref="KeyHealthPolicySpecs"/>.
/// Virtual instants only.
/// </summary>
public sealed class KeyOutcomeSpecs
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly CooldownSettings Cfg = CooldownSettings.Default;
    private const string Model = "gpt-4o";

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);
    private static TimeSpan M(double minutes) => TimeSpan.FromMinutes(minutes);

    private static AttemptOutcome.Succeeded Success(RateLimitHints? hints = null) => new(hints ?? RateLimitHints.None, new TokenUsage(10, 20));

    private static RateLimitHints Exhausted(TimeSpan? resetIn, TimeSpan? retryAfter = null) => new(retryAfter, true, resetIn);

    /// <summary>Usage totals a recovery must keep.</summary>
    private static KeyHealth WithTotals(KeyHealth s) => s with { UsageTotal = new TokenUsage(1000, 2000), CostTotal = 1.5m, LastUsed = T0 - M(30) };

    private static KeyHealth Busy => WithTotals(KeyHealth.Healthy with
    {
        CooldownUntil = T0 + M(3),
        CooldownReason = FailoverReason.Timeout,
        ModelCooldowns = KeyHealth.Healthy.ModelCooldowns.SetItem(Model, T0 + M(7)),
        ErrorCount = 4,
        FailureCounts = ImmutableDictionary<string, int>.Empty.Add("timeout", 3).Add("rate_limit", 1),
        LastFailureAt = T0 - M(1),
    });

    public static TheoryData<FailoverReason> AllReasons { get; } = new(FailoverReasons.All);

    private static void AssertRecoveredAt(DateTimeOffset at, KeyHealth before, KeyHealth after)
    {
        Assert.Null(after.CooldownUntil);
        Assert.Null(after.CooldownReason);
        Assert.Null(after.DisabledUntil);
        Assert.Null(after.DisabledReason);
        Assert.Empty(after.ModelCooldowns);
        Assert.Equal(0, after.ErrorCount);
        Assert.Empty(after.FailureCounts);
        Assert.Null(after.LastFailureAt);
        Assert.Equal(at, after.LastUsed);
        Assert.Equal(before.UsageTotal, after.UsageTotal);
        Assert.Equal(before.CostTotal, after.CostTotal);
    }

    // ---------------------------------------------------------------- failures

    [Theory]
    [MemberData(nameof(AllReasons))]
    public void Should_decide_the_same_failed_event_as_the_reason_overload(FailoverReason reason)
    {
        var hints = new RateLimitHints(M(2), false, null);
        foreach (var s in new[] { KeyHealth.Healthy, Busy })
        foreach (var model in new[] { Model, null })
        {
            var expected = KeyHealthPolicy.Decide(s, reason, model, hints, T0, Cfg);

            var e = KeyHealthPolicy.Decide(s, model, new AttemptOutcome.Failed(reason, hints, "upstream said no"), T0, Cfg);

            Assert.Equal(expected, e);
            var after = KeyHealthPolicy.After(s, model, new AttemptOutcome.Failed(reason, hints, "upstream said no"), T0, Cfg);
            Assert.Equal(KeyHealthPolicy.Apply(s, expected).ErrorCount, after.ErrorCount);
            Assert.Equal(KeyHealthPolicy.Apply(s, expected).CooldownUntil, after.CooldownUntil);
            Assert.Equal(KeyHealthPolicy.Apply(s, expected).DisabledUntil, after.DisabledUntil);
            Assert.Equal(KeyHealthPolicy.BlockedUntil(KeyHealthPolicy.Apply(s, expected), model, T0), KeyHealthPolicy.BlockedUntil(after, model, T0));
        }
    }

    [Fact]
    public void Should_return_a_request_error_without_changing_the_health()
    {
        var s = Busy;

        var e = KeyHealthPolicy.Decide(s, Model, new AttemptOutcome.Failed(FailoverReason.Format, RateLimitHints.None, "bad request"), T0, Cfg);

        Assert.Equal(new KeyEvents.Failed(T0, FailoverReason.Format, Model, false, null, null, null, false), e);
        Assert.Same(s, KeyHealthPolicy.After(s, Model, new AttemptOutcome.Failed(FailoverReason.Format, RateLimitHints.None, "bad request"), T0, Cfg));
    }

    [Fact]
    public void Should_apply_a_model_scoped_rate_limit_after_a_failure()
    {
        var after = KeyHealthPolicy.After(KeyHealth.Healthy, "Model-A",
            new AttemptOutcome.Failed(FailoverReason.RateLimit, RateLimitHints.None, "429"), T0, Cfg);

        Assert.Equal(T0 + S(30), after.ModelCooldowns["model-a"]);
        Assert.Null(after.CooldownUntil);
        Assert.Equal(1, after.ErrorCount);
        Assert.Equal(T0, after.LastFailureAt);
    }

    // ---------------------------------------------------------------- successes on a ready key

    [Fact]
    public void Should_decide_nothing_for_a_success_on_a_ready_healthy_key()
    {
        var s = WithTotals(KeyHealth.Healthy);

        Assert.Null(KeyHealthPolicy.Decide(s, Model, Success(), T0, Cfg));
        Assert.Null(KeyHealthPolicy.Decide(s, null, Success(new RateLimitHints(S(5), false, S(5))), T0, Cfg)); // hints, but not exhausted
        Assert.Same(s, KeyHealthPolicy.After(s, Model, Success(), T0, Cfg));
    }

    [Fact]
    public void Should_recover_a_ready_key_with_errors_below_the_threshold()
    {
        var s = WithTotals(KeyHealth.Healthy with
        {
            ErrorCount = 2,
            FailureCounts = ImmutableDictionary<string, int>.Empty.Add("timeout", 1).Add("server_error", 1),
            LastFailureAt = T0 - S(10),
        });

        Assert.Equal(new KeyEvents.Recovered(T0), KeyHealthPolicy.Decide(s, Model, Success(), T0, Cfg));
        AssertRecoveredAt(T0, s, KeyHealthPolicy.After(s, Model, Success(), T0, Cfg));
    }

    [Fact]
    public void Should_recover_a_ready_key_with_expired_model_windows()
    {
        var s = WithTotals(KeyHealth.Healthy with
        {
            ModelCooldowns = KeyHealth.Healthy.ModelCooldowns.SetItem("a", T0 - S(1)).SetItem("b", T0),
            CooldownUntil = T0 - M(1),   // an expired key-wide window alone is no reason to write
        });

        Assert.Equal(new KeyEvents.Recovered(T0), KeyHealthPolicy.Decide(s, "other", Success(), T0, Cfg));
        AssertRecoveredAt(T0, s, KeyHealthPolicy.After(s, "other", Success(), T0, Cfg));
        Assert.Null(KeyHealthPolicy.Decide(s with { ModelCooldowns = KeyHealth.Healthy.ModelCooldowns }, "other", Success(), T0, Cfg));
    }

    [Theory]
    [InlineData(Model, 120.0, null, 120.0)]
    [InlineData(Model, 120.0, 30.0, 120.0)]   // the reset window before Retry-After
    [InlineData(Model, null, 30.0, 30.0)]
    [InlineData(Model, null, null, 1.0)]      // neither: a one-second pause
    [InlineData(null, 120.0, null, 120.0)]    // no model: key-wide
    public void Should_cool_a_ready_key_pre_emptively_on_an_exhausted_success(string? model, double? resetIn, double? retryAfter, double expected)
    {
        var s = WithTotals(KeyHealth.Healthy with { ErrorCount = 1, LastFailureAt = T0 - S(5) }); // below the threshold: not cleared
        var outcome = Success(Exhausted(resetIn is { } r ? S(r) : null, retryAfter is { } a ? S(a) : null));

        Assert.Equal(new KeyEvents.Exhausted(T0, model, T0 + S(expected)), KeyHealthPolicy.Decide(s, model, outcome, T0, Cfg));

        var after = KeyHealthPolicy.After(s, model, outcome, T0, Cfg);
        Assert.Equal(T0 + S(expected), KeyHealthPolicy.BlockedUntil(after, model, T0));
        Assert.Equal(1, after.ErrorCount);
        if (model is null)
        {
            Assert.Equal(T0 + S(expected), after.CooldownUntil);
            Assert.Equal(FailoverReason.RateLimit, after.CooldownReason);
        }
        else
        {
            Assert.Null(after.CooldownUntil);
            Assert.Null(KeyHealthPolicy.BlockedUntil(after, "other", T0));
        }
    }

    [Fact]
    public void Should_decide_nothing_for_an_exhausted_success_whose_window_would_not_end_later()
    {
        // On a ready key no window of the same scope is active (an active one makes the key cooling: see the probe cases),
        // so the only window "already as late" is one that ends right now, met by a reset of zero.
        var s = KeyHealth.Healthy with { CooldownUntil = T0, CooldownReason = FailoverReason.RateLimit };

        Assert.Equal(KeyStatus.Ready, KeyHealthPolicy.StatusAt(s, T0).Status);
        Assert.Null(KeyHealthPolicy.Decide(s, null, Success(Exhausted(TimeSpan.Zero)), T0, Cfg));
        Assert.Same(s, KeyHealthPolicy.After(s, null, Success(Exhausted(TimeSpan.Zero)), T0, Cfg));
        Assert.Equal(new KeyEvents.Exhausted(T0, null, T0 + S(1)), KeyHealthPolicy.Decide(s, null, Success(Exhausted(S(1))), T0, Cfg));
    }

    // ---------------------------------------------------------------- successes on a key that cannot serve (probes)

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Should_recover_a_cooling_key_on_success_even_with_exhausted_hints(bool exhausted)
    {
        var s = Busy;
        var outcome = Success(exhausted ? Exhausted(M(10)) : null);

        Assert.Equal(KeyStatus.CoolingDown, KeyHealthPolicy.StatusAt(s, T0).Status);
        Assert.Equal(new KeyEvents.Recovered(T0), KeyHealthPolicy.Decide(s, Model, outcome, T0, Cfg));
        Assert.Equal(new KeyEvents.Recovered(T0), KeyHealthPolicy.Decide(s, null, outcome, T0, Cfg));
        AssertRecoveredAt(T0, s, KeyHealthPolicy.After(s, Model, outcome, T0, Cfg));
    }

    [Theory]
    [InlineData(FailoverReason.Billing, false)]
    [InlineData(FailoverReason.Billing, true)]
    [InlineData(FailoverReason.AuthPermanent, false)]
    [InlineData(FailoverReason.AuthPermanent, true)]
    public void Should_recover_a_disabled_key_on_success_even_with_exhausted_hints(FailoverReason reason, bool exhausted)
    {
        var s = WithTotals(KeyHealth.Healthy with
        {
            DisabledUntil = T0 + M(10),
            DisabledReason = reason,
            ErrorCount = 1,
            FailureCounts = ImmutableDictionary<string, int>.Empty.Add(reason.ToWireName(), 1),
            LastFailureAt = T0 - M(1),
        });
        var outcome = Success(exhausted ? Exhausted(M(10)) : null);

        Assert.Equal(KeyStatus.Disabled, KeyHealthPolicy.StatusAt(s, T0).Status);
        Assert.Equal(new KeyEvents.Recovered(T0), KeyHealthPolicy.Decide(s, Model, outcome, T0, Cfg));
        AssertRecoveredAt(T0, s, KeyHealthPolicy.After(s, Model, outcome, T0, Cfg));
    }

    // ---------------------------------------------------------------- cancelled

    [Fact]
    public void Should_decide_nothing_for_a_cancelled_attempt()
    {
        foreach (var s in new[] { KeyHealth.Healthy, Busy })
        foreach (var model in new[] { Model, null })
        {
            Assert.Null(KeyHealthPolicy.Decide(s, model, new AttemptOutcome.Cancelled(), T0, Cfg));
            Assert.Same(s, KeyHealthPolicy.After(s, model, new AttemptOutcome.Cancelled(), T0, Cfg));
        }
    }
}
