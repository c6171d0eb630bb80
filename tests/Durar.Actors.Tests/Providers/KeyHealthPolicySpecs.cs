using System.Collections.Immutable;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Tests.Providers;

/// <summary>
/// Reference section G items 49–54: the regular cooldown schedule, the failure window, success and reset, Retry-After,
/// model-scoped rate limits, the billing / auth_permanent disable lanes, pre-emptive exhaustion and deterministic replay.
/// Every spec runs on a virtual clock (<see cref="T0"/> plus hand-made offsets); nothing sleeps. Specs of the reference
/// schedule use <see cref="Reference"/> (transientThreshold = 1); the default threshold of 3 is pinned in its own section.
/// </summary>
public sealed class KeyHealthPolicySpecs
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly CooldownSettings Cfg = CooldownSettings.Default;

    /// <summary>
    /// The reference schedule (item 49): every regular reason cools from the 1st failure. <c>auth.cooldowns.transientThreshold
    /// = 1</c>; the shipped default (3) holds transient reasons back and has its own section below.
    /// </summary>
    private static readonly CooldownSettings Reference = Cfg with { TransientThreshold = 1 };

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);
    private static TimeSpan M(double minutes) => TimeSpan.FromMinutes(minutes);
    private static RateLimitHints RetryAfter(TimeSpan t) => new(t, false, null);

    /// <summary>A key on the virtual clock: decides, applies and records every event it produces.</summary>
    private sealed class Key(KeyHealth? start = null, CooldownSettings? cfg = null)
    {
        public KeyHealth State { get; private set; } = start ?? KeyHealth.Healthy;
        public List<IKeyEvent> Events { get; } = [];
        public List<KeyHealth> History { get; } = [];
        private readonly CooldownSettings _cfg = cfg ?? Reference;

        public KeyEvents.Failed Fail(FailoverReason reason, DateTimeOffset at, string? model = null, RateLimitHints? hints = null)
        {
            var e = KeyHealthPolicy.Decide(State, reason, model, hints ?? RateLimitHints.None, at, _cfg);
            Push(e);
            return e;
        }

        public KeyEvents.Exhausted? Exhaust(DateTimeOffset at, string? model, RateLimitHints hints)
        {
            var e = KeyHealthPolicy.DecideExhausted(State, model, hints, at);
            if (e is not null) Push(e);
            return e;
        }

        public void Push(IKeyEvent e)
        {
            Events.Add(e);
            State = KeyHealthPolicy.Apply(State, e);
            History.Add(State);
        }
    }

    private static void AssertSameHealth(KeyHealth expected, KeyHealth actual)
    {
        Assert.Equal(expected.CooldownUntil, actual.CooldownUntil);
        Assert.Equal(expected.CooldownReason, actual.CooldownReason);
        Assert.Equal(expected.DisabledUntil, actual.DisabledUntil);
        Assert.Equal(expected.DisabledReason, actual.DisabledReason);
        Assert.Equal(expected.ErrorCount, actual.ErrorCount);
        Assert.Equal(expected.LastFailureAt, actual.LastFailureAt);
        Assert.Equal(expected.LastUsed, actual.LastUsed);
        Assert.Equal(
            expected.ModelCooldowns.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase).Select(p => (p.Key.ToLowerInvariant(), p.Value)),
            actual.ModelCooldowns.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase).Select(p => (p.Key.ToLowerInvariant(), p.Value)));
        Assert.Equal(expected.FailureCounts.OrderBy(p => p.Key, StringComparer.Ordinal), actual.FailureCounts.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    /// <summary>A state that has seen everything: counts, both cooldown scopes, a disable, and a LastUsed.</summary>
    private static KeyHealth Busy(DateTimeOffset now) => KeyHealth.Healthy with
    {
        CooldownUntil = now + M(3),
        CooldownReason = FailoverReason.Timeout,
        ModelCooldowns = KeyHealth.Healthy.ModelCooldowns.SetItem("gpt-4o", now + M(7)),
        DisabledUntil = now + M(10),
        DisabledReason = FailoverReason.Billing,
        ErrorCount = 4,
        FailureCounts = ImmutableDictionary<string, int>.Empty.Add("timeout", 3).Add("billing", 1),
        LastFailureAt = now - M(1),
        LastUsed = now - M(30),
    };

    private static readonly FailoverReason[] KeyWideCooldownReasons =
    [
        FailoverReason.Overloaded, FailoverReason.Timeout, FailoverReason.ServerError, FailoverReason.Auth,
        FailoverReason.Unknown, FailoverReason.Unclassified, FailoverReason.NoErrorDetails, FailoverReason.EmptyResponse,
    ];

    private static readonly FailoverReason[] NonCountingReasons =
    [
        FailoverReason.Format, FailoverReason.ModelNotFound, FailoverReason.ContextOverflow, FailoverReason.SessionExpired,
        FailoverReason.Refusal,
    ];

    public static TheoryData<FailoverReason> CooldownReasonRows { get; } =
        new(KeyWideCooldownReasons.Prepend(FailoverReason.RateLimit));

    public static TheoryData<FailoverReason> KeyWideEvenWithModelRows { get; } = new(KeyWideCooldownReasons);

    public static TheoryData<FailoverReason> TransientRows { get; } = new(KeyWideCooldownReasons.Where(r => r != FailoverReason.Auth));

    public static TheoryData<FailoverReason> NonCountingRows { get; } = new(NonCountingReasons);

    // ---------------------------------------------------------------- classification of every reason

    [Fact]
    public void Should_put_every_failover_reason_in_exactly_one_lane()
    {
        var now = T0;
        foreach (var reason in FailoverReasons.All)
        {
            var e = KeyHealthPolicy.Decide(KeyHealth.Healthy, reason, null, RateLimitHints.None, now, Reference);
            var lane = (e.CountsAsError, e.CooldownUntil is not null, e.DisabledUntil is not null) switch
            {
                (true, true, false) => "cooldown",
                (true, false, true) => "disabled",
                (false, false, false) => "none",
                var other => $"invalid {other}",
            };
            var expected = reason switch
            {
                FailoverReason.Billing or FailoverReason.AuthPermanent => "disabled",
                _ when NonCountingReasons.Contains(reason) => "none",
                _ => "cooldown",
            };
            Assert.True(expected == lane, $"{reason.ToWireName()}: expected {expected}, got {lane}");
            Assert.Null(e.ModelCooldownUntil);
        }
        Assert.Equal(16, FailoverReasons.All.Count);
    }

    // ---------------------------------------------------------------- regular schedule (item 49)

    [Theory]
    [MemberData(nameof(CooldownReasonRows))]
    public void Should_follow_30s_60s_then_5min_cap_on_a_virtual_clock(FailoverReason reason)
    {
        // Each failure lands just after the previous cooldown ended, all inside the 24 h window.
        (double AtSeconds, double StepSeconds)[] script =
        [
            (0, 30), (31, 60), (92, 300), (400, 300), (701, 300), (1002, 300), (5000, 300),
        ];
        var key = new Key();
        for (var i = 0; i < script.Length; i++)
        {
            var at = T0 + S(script[i].AtSeconds);
            Assert.Equal(KeyStatus.Ready, KeyHealthPolicy.StatusAt(key.State, at).Status);

            var e = key.Fail(reason, at);

            var until = at + S(script[i].StepSeconds);
            Assert.True(e.CountsAsError);
            Assert.False(e.WindowReset);
            Assert.Equal(until, e.CooldownUntil);
            Assert.Null(e.ModelCooldownUntil);
            Assert.Null(e.DisabledUntil);
            Assert.Equal(until, key.State.CooldownUntil);
            Assert.Equal(reason, key.State.CooldownReason);
            Assert.Equal(i + 1, key.State.ErrorCount);
            Assert.Equal(i + 1, key.State.FailureCounts[reason.ToWireName()]);
            Assert.Equal(at, key.State.LastFailureAt);
            Assert.Equal((KeyStatus.CoolingDown, (DateTimeOffset?)until, (FailoverReason?)reason), KeyHealthPolicy.StatusAt(key.State, until - TimeSpan.FromTicks(1)));
            Assert.Equal(KeyStatus.Ready, KeyHealthPolicy.StatusAt(key.State, until).Status);
        }
    }

    [Fact]
    public void Should_follow_the_same_schedule_for_a_model_scoped_rate_limit()
    {
        double[] at = [0, 31, 92, 400, 701];
        double[] step = [30, 60, 300, 300, 300];
        var key = new Key();
        for (var i = 0; i < at.Length; i++)
        {
            var now = T0 + S(at[i]);
            var e = key.Fail(FailoverReason.RateLimit, now, "gpt-4o");
            Assert.Equal(now + S(step[i]), e.ModelCooldownUntil);
            Assert.Null(e.CooldownUntil);
            Assert.Equal(now + S(step[i]), key.State.ModelCooldowns["gpt-4o"]);
            Assert.Null(key.State.CooldownUntil);
            Assert.Equal(i + 1, key.State.ErrorCount);
        }
    }

    [Theory]
    [InlineData(0, 30)]
    [InlineData(1, 60)]
    [InlineData(2, 300)]
    [InlineData(3, 300)]
    [InlineData(9, 300)]
    [InlineData(1000, 300)]
    public void Should_index_the_schedule_by_the_error_count_within_the_window(int priorErrors, double expectedSeconds)
    {
        var s = KeyHealth.Healthy with { ErrorCount = priorErrors, LastFailureAt = priorErrors == 0 ? null : T0 - M(10) };
        foreach (var reason in new[] { FailoverReason.Timeout, FailoverReason.Auth })
        {
            var e = KeyHealthPolicy.Decide(s, reason, null, RateLimitHints.None, T0, Reference);
            Assert.Equal(T0 + S(expectedSeconds), e.CooldownUntil);
            Assert.Equal(priorErrors + 1, KeyHealthPolicy.Apply(s, e).ErrorCount);
        }
    }

    [Fact]
    public void Should_share_one_error_count_across_reasons()
    {
        var key = new Key();
        key.Fail(FailoverReason.RateLimit, T0);
        var second = key.Fail(FailoverReason.Overloaded, T0 + S(31));
        var third = key.Fail(FailoverReason.ServerError, T0 + S(92));

        Assert.Equal(T0 + S(31) + S(60), second.CooldownUntil);
        Assert.Equal(T0 + S(92) + M(5), third.CooldownUntil);
        Assert.Equal(3, key.State.ErrorCount);
        Assert.Equal(
            new Dictionary<string, int> { ["rate_limit"] = 1, ["overloaded"] = 1, ["server_error"] = 1 }.OrderBy(p => p.Key),
            key.State.FailureCounts.OrderBy(p => p.Key));
    }

    [Fact]
    public void Should_extend_an_active_cooldown_when_the_next_step_ends_later()
    {
        var key = new Key();
        key.Fail(FailoverReason.Timeout, T0);                      // until T0+30s
        var e = key.Fail(FailoverReason.Timeout, T0 + S(10));      // step 60 s → T0+70s
        Assert.Equal(T0 + S(70), e.CooldownUntil);
        Assert.Equal(T0 + S(70), key.State.CooldownUntil);
    }

    [Fact]
    public void Should_count_billing_failures_into_the_regular_schedule()
    {
        var key = new Key();
        key.Fail(FailoverReason.Billing, T0);
        var e = key.Fail(FailoverReason.Timeout, T0 + M(11));
        Assert.Equal(T0 + M(11) + S(60), e.CooldownUntil);
    }

    // ---------------------------------------------------------------- failure window (item 50)

    [Theory]
    [InlineData(-10_000_000L, false, 60)]   // 23:59:59 after the last failure: still inside
    [InlineData(0L, false, 60)]             // exactly 24 h: still inside (the rule is strictly "> window")
    [InlineData(1L, true, 30)]              // one tick past 24 h: reset
    [InlineData(36_000_000_000L, true, 30)] // 25 h: reset
    public void Should_reset_counts_only_once_the_last_failure_is_older_than_24h(long ticksPast24h, bool expectReset, double expectedStep)
    {
        var key = new Key();
        key.Fail(FailoverReason.Timeout, T0);
        var now = T0 + TimeSpan.FromHours(24) + TimeSpan.FromTicks(ticksPast24h);

        var e = key.Fail(FailoverReason.Timeout, now);

        Assert.Equal(expectReset, e.WindowReset);
        Assert.Equal(now + S(expectedStep), e.CooldownUntil);
        Assert.Equal(expectReset ? 1 : 2, key.State.ErrorCount);
        Assert.Equal(expectReset ? 1 : 2, key.State.FailureCounts["timeout"]);
        Assert.Equal(now, key.State.LastFailureAt);
    }

    [Fact]
    public void Should_drop_every_reason_count_when_the_window_resets()
    {
        var s = KeyHealth.Healthy with
        {
            ErrorCount = 7,
            FailureCounts = ImmutableDictionary<string, int>.Empty.Add("timeout", 4).Add("billing", 2).Add("rate_limit", 1),
            LastFailureAt = T0,
        };
        var now = T0 + TimeSpan.FromHours(25);

        var e = KeyHealthPolicy.Decide(s, FailoverReason.RateLimit, null, RateLimitHints.None, now, Cfg);
        var after = KeyHealthPolicy.Apply(s, e);

        Assert.True(e.WindowReset);
        Assert.Equal(now + S(30), e.CooldownUntil);
        Assert.Equal(1, after.ErrorCount);
        Assert.Equal([new KeyValuePair<string, int>("rate_limit", 1)], after.FailureCounts);
    }

    [Fact]
    public void Should_restart_the_billing_backoff_after_the_window_resets()
    {
        var s = KeyHealth.Healthy with
        {
            ErrorCount = 5,
            FailureCounts = ImmutableDictionary<string, int>.Empty.Add("billing", 5),
            LastFailureAt = T0,
            DisabledUntil = T0 + TimeSpan.FromHours(5),
            DisabledReason = FailoverReason.Billing,
        };
        var now = T0 + TimeSpan.FromHours(24) + S(1);

        var e = KeyHealthPolicy.Decide(s, FailoverReason.Billing, null, RateLimitHints.None, now, Cfg);

        Assert.True(e.WindowReset);
        Assert.Equal(now + M(10), e.DisabledUntil);
        Assert.Equal(1, KeyHealthPolicy.Apply(s, e).FailureCounts["billing"]);
    }

    [Fact]
    public void Should_not_treat_a_key_without_failures_as_a_window_reset()
    {
        var e = KeyHealthPolicy.Decide(KeyHealth.Healthy with { LastUsed = T0 - TimeSpan.FromDays(30) },
            FailoverReason.Timeout, null, RateLimitHints.None, T0, Cfg);
        Assert.False(e.WindowReset);
    }

    // ---------------------------------------------------------------- success, reset, used (item 53)

    [Fact]
    public void Should_clear_errors_cooldowns_and_disables_on_recovered_and_set_last_used()
    {
        var now = T0 + M(1);
        var after = KeyHealthPolicy.Apply(Busy(T0), new KeyEvents.Recovered(now));

        AssertSameHealth(KeyHealth.Healthy with { LastUsed = now }, after);
        Assert.Empty(after.ModelCooldowns);
        Assert.Empty(after.FailureCounts);
        Assert.Equal((KeyStatus.Ready, (DateTimeOffset?)null, (FailoverReason?)null), KeyHealthPolicy.StatusAt(after, now));
        Assert.Null(KeyHealthPolicy.BlockedUntil(after, "gpt-4o", now));
        Assert.Null(KeyHealthPolicy.NextExpiry(after, now));
    }

    [Fact]
    public void Should_restart_the_schedule_at_30s_after_a_success()
    {
        var key = new Key();
        key.Fail(FailoverReason.Timeout, T0);
        key.Fail(FailoverReason.Timeout, T0 + S(31));
        key.Fail(FailoverReason.Timeout, T0 + S(92));
        key.Push(new KeyEvents.Recovered(T0 + S(400)));

        var e = key.Fail(FailoverReason.Timeout, T0 + S(401));

        Assert.Equal(T0 + S(401) + S(30), e.CooldownUntil);
        Assert.Equal(1, key.State.ErrorCount);
        Assert.False(e.WindowReset);
    }

    [Fact]
    public void Should_keep_model_lookups_case_insensitive_after_a_success()
    {
        var key = new Key();
        key.Push(new KeyEvents.Recovered(T0));
        key.Fail(FailoverReason.RateLimit, T0 + S(1), "Claude-Sonnet");
        Assert.NotNull(KeyHealthPolicy.BlockedUntil(key.State, "claude-sonnet", T0 + S(2)));
    }

    [Fact]
    public void Should_clear_everything_but_last_used_on_reset()
    {
        var busy = Busy(T0);
        var after = KeyHealthPolicy.Apply(busy, new KeyEvents.Reset(T0 + M(1)));
        AssertSameHealth(KeyHealth.Healthy with { LastUsed = busy.LastUsed }, after);
        Assert.Equal(T0 - M(30), after.LastUsed);
        Assert.Equal(KeyStatus.Ready, KeyHealthPolicy.StatusAt(after, T0 + M(1)).Status);
    }

    [Fact]
    public void Should_keep_a_missing_last_used_missing_on_reset()
    {
        var after = KeyHealthPolicy.Apply(Busy(T0) with { LastUsed = null }, new KeyEvents.Reset(T0));
        Assert.Null(after.LastUsed);
        Assert.Equal(0, after.ErrorCount);
    }

    [Fact]
    public void Should_only_set_last_used_on_used()
    {
        var busy = Busy(T0);
        var after = KeyHealthPolicy.Apply(busy, new KeyEvents.Used(T0 + M(2)));
        AssertSameHealth(busy with { LastUsed = T0 + M(2) }, after);
        Assert.Same(busy.ModelCooldowns, after.ModelCooldowns);
        Assert.Same(busy.FailureCounts, after.FailureCounts);
    }

    // ---------------------------------------------------------------- Retry-After and never shortening (item 49, hints)

    [Theory]
    [InlineData(0, 10, 30)]     // shorter hint does not shorten the step
    [InlineData(0, 30, 30)]     // equal hint
    [InlineData(0, 31, 31)]     // longer hint wins
    [InlineData(0, 600, 600)]
    [InlineData(1, 45, 60)]
    [InlineData(1, 0, 60)]
    [InlineData(1, -5, 60)]     // a negative hint is ignored
    [InlineData(2, 120, 300)]
    [InlineData(2, 900, 900)]
    [InlineData(6, 3600, 3600)]
    public void Should_take_retry_after_only_when_longer_than_the_step(int priorErrors, double hintSeconds, double expectedSeconds)
    {
        var s = KeyHealth.Healthy with { ErrorCount = priorErrors, LastFailureAt = priorErrors == 0 ? null : T0 - M(10) };
        var keyWide = KeyHealthPolicy.Decide(s, FailoverReason.RateLimit, null, RetryAfter(S(hintSeconds)), T0, Cfg);
        var scoped = KeyHealthPolicy.Decide(s, FailoverReason.RateLimit, "gpt-4o", RetryAfter(S(hintSeconds)), T0, Cfg);
        Assert.Equal(T0 + S(expectedSeconds), keyWide.CooldownUntil);
        Assert.Equal(T0 + S(expectedSeconds), scoped.ModelCooldownUntil);
    }

    [Theory]
    [MemberData(nameof(CooldownReasonRows))]
    public void Should_honour_retry_after_for_every_regular_cooldown_reason(FailoverReason reason)
    {
        var e = KeyHealthPolicy.Decide(KeyHealth.Healthy, reason, null, RetryAfter(M(10)), T0, Cfg);
        Assert.Equal(T0 + M(10), e.CooldownUntil);
    }

    [Fact]
    public void Should_ignore_reset_in_and_exhausted_flag_when_deciding_a_failure()
    {
        var e = KeyHealthPolicy.Decide(KeyHealth.Healthy, FailoverReason.RateLimit, null, new RateLimitHints(null, true, M(30)), T0, Cfg);
        Assert.Equal(T0 + S(30), e.CooldownUntil);
    }

    [Theory]
    [MemberData(nameof(CooldownReasonRows))]
    public void Should_never_shorten_an_active_key_wide_cooldown(FailoverReason later)
    {
        var key = new Key();
        key.Fail(FailoverReason.RateLimit, T0, null, RetryAfter(M(10)));   // until T0+10min
        var e = key.Fail(later, T0 + M(1));                               // step 60 s → T0+2min

        Assert.Equal(T0 + M(10), e.CooldownUntil);
        Assert.Equal(T0 + M(10), key.State.CooldownUntil);
        Assert.Equal(T0 + M(10), KeyHealthPolicy.BlockedUntil(key.State, null, T0 + M(5)));
        Assert.Equal(KeyStatus.CoolingDown, KeyHealthPolicy.StatusAt(key.State, T0 + M(9)).Status);
    }

    [Fact]
    public void Should_never_shorten_an_active_model_cooldown_and_match_models_case_insensitively()
    {
        var key = new Key();
        key.Fail(FailoverReason.RateLimit, T0, "GPT-4o", RetryAfter(M(10)));
        var e = key.Fail(FailoverReason.RateLimit, T0 + M(1), "gpt-4O");

        Assert.Equal(T0 + M(10), e.ModelCooldownUntil);
        Assert.Single(key.State.ModelCooldowns);
        Assert.Equal(T0 + M(10), key.State.ModelCooldowns["gpt-4o"]);
        Assert.Equal(T0 + M(10), KeyHealthPolicy.BlockedUntil(key.State, "GPT-4O", T0 + M(5)));
    }

    [Fact]
    public void Should_replace_an_expired_cooldown_with_the_new_step()
    {
        var key = new Key();
        key.Fail(FailoverReason.RateLimit, T0, null, RetryAfter(M(10)));
        var e = key.Fail(FailoverReason.Timeout, T0 + M(11));
        Assert.Equal(T0 + M(11) + S(60), e.CooldownUntil);
    }

    // ---------------------------------------------------------------- the shipped default: transientThreshold = 3
    // Transient upstream trouble (overloaded, server_error, timeout, unknown-ish) is counted at once but cools the key only
    // from the threshold's failure on; rate_limit and auth cool at once (config/hocon/durar.conf, auth.cooldowns).

    [Fact]
    public void Should_ship_the_reference_schedules_with_a_transient_threshold_of_3()
    {
        Assert.Equal([S(30), S(60), M(5)], Cfg.Schedule.ToArray());
        Assert.Equal(TimeSpan.FromHours(24), Cfg.FailureWindow);
        Assert.Equal((M(10), TimeSpan.FromHours(24)), (Cfg.BillingBase, Cfg.BillingMax));
        Assert.Equal((M(10), M(60)), (Cfg.AuthPermanentBase, Cfg.AuthPermanentMax));
        Assert.Equal(3, Cfg.TransientThreshold);
    }

    [Theory]
    [MemberData(nameof(TransientRows))]
    public void Should_count_transient_failures_at_once_but_cool_only_from_the_3rd(FailoverReason reason)
    {
        var key = new Key(cfg: Cfg);
        var first = key.Fail(reason, T0, "m");
        var second = key.Fail(reason, T0 + S(1), "m");

        foreach (var e in new[] { first, second })
        {
            Assert.True(e.CountsAsError);
            Assert.Null(e.CooldownUntil);
            Assert.Null(e.ModelCooldownUntil);
            Assert.Null(e.DisabledUntil);
        }
        Assert.Equal(2, key.State.ErrorCount);
        Assert.Equal(2, key.State.FailureCounts[reason.ToWireName()]);
        Assert.Equal(T0 + S(1), key.State.LastFailureAt);
        Assert.Equal(KeyStatus.Ready, KeyHealthPolicy.StatusAt(key.State, T0 + S(1)).Status);
        Assert.Null(KeyHealthPolicy.BlockedUntil(key.State, "m", T0 + S(1)));

        // 3rd = 30 s, then 60 s, then the 5 min cap, each landing after the previous cooldown ended.
        (double At, double Step)[] rest = [(2, 30), (33, 60), (94, 300), (395, 300)];
        foreach (var (at, step) in rest)
        {
            var e = key.Fail(reason, T0 + S(at), "m");
            Assert.Equal(T0 + S(at) + S(step), e.CooldownUntil);
            Assert.Equal((KeyStatus.CoolingDown, (DateTimeOffset?)(T0 + S(at) + S(step)), (FailoverReason?)reason),
                KeyHealthPolicy.StatusAt(key.State, T0 + S(at)));
        }
        Assert.Equal(6, key.State.ErrorCount);
    }

    [Theory]
    [InlineData(FailoverReason.RateLimit, null)]
    [InlineData(FailoverReason.RateLimit, "m")]
    [InlineData(FailoverReason.Auth, null)]
    [InlineData(FailoverReason.Auth, "m")]
    public void Should_cool_rate_limits_and_auth_errors_from_the_1st_failure_by_default(FailoverReason reason, string? model)
    {
        var key = new Key(cfg: Cfg);
        var first = key.Fail(reason, T0, model);
        var second = key.Fail(reason, T0 + S(31), model);
        Assert.Equal(T0 + S(30), first.CooldownUntil ?? first.ModelCooldownUntil);
        Assert.Equal(T0 + S(31) + S(60), second.CooldownUntil ?? second.ModelCooldownUntil);
        Assert.Equal(T0 + S(31) + S(60), KeyHealthPolicy.BlockedUntil(key.State, model, T0 + S(31)));
    }

    // expectedSeconds < 0 = no cooldown.
    [Theory]
    [InlineData(1, 0, 30)]
    [InlineData(1, 1, 60)]
    [InlineData(2, 0, -1)]
    [InlineData(2, 1, 30)]
    [InlineData(2, 2, 60)]
    [InlineData(2, 3, 300)]
    [InlineData(3, 0, -1)]
    [InlineData(3, 1, -1)]
    [InlineData(3, 2, 30)]
    [InlineData(3, 3, 60)]
    [InlineData(3, 4, 300)]
    [InlineData(3, 40, 300)]
    [InlineData(5, 3, -1)]
    [InlineData(5, 4, 30)]
    [InlineData(5, 6, 300)]
    public void Should_offset_the_transient_schedule_by_the_threshold(int threshold, int priorErrors, double expectedSeconds)
    {
        var cfg = Cfg with { TransientThreshold = threshold };
        var s = KeyHealth.Healthy with { ErrorCount = priorErrors, LastFailureAt = priorErrors == 0 ? null : T0 - M(10) };

        var transient = KeyHealthPolicy.Decide(s, FailoverReason.Overloaded, null, RateLimitHints.None, T0, cfg);
        var rateLimit = KeyHealthPolicy.Decide(s, FailoverReason.RateLimit, null, RateLimitHints.None, T0, cfg);

        Assert.Equal(expectedSeconds < 0 ? null : T0 + S(expectedSeconds), transient.CooldownUntil);
        Assert.True(transient.CountsAsError);
        Assert.Equal(T0 + Cfg.Schedule[Math.Min(priorErrors, 2)], rateLimit.CooldownUntil);   // never offset
    }

    [Fact]
    public void Should_count_every_reason_toward_the_transient_threshold()
    {
        var key = new Key(cfg: Cfg);
        key.Fail(FailoverReason.RateLimit, T0, "m");                  // model-scoped 30 s, errorCount 1
        var second = key.Fail(FailoverReason.Timeout, T0 + S(1));     // errorCount 2: below the threshold
        var third = key.Fail(FailoverReason.Overloaded, T0 + S(2));   // errorCount 3: cools 30 s

        Assert.Null(second.CooldownUntil);
        Assert.Equal(T0 + S(2) + S(30), third.CooldownUntil);
    }

    [Fact]
    public void Should_leave_an_active_cooldown_and_its_reason_alone_below_the_threshold()
    {
        var key = new Key(cfg: Cfg);
        key.Fail(FailoverReason.RateLimit, T0);                       // key-wide 30 s
        var e = key.Fail(FailoverReason.Timeout, T0 + S(5));          // errorCount 2, below the threshold

        Assert.Null(e.CooldownUntil);
        Assert.Equal((KeyStatus.CoolingDown, (DateTimeOffset?)(T0 + S(30)), (FailoverReason?)FailoverReason.RateLimit),
            KeyHealthPolicy.StatusAt(key.State, T0 + S(6)));
    }

    [Fact]
    public void Should_start_the_threshold_again_after_a_success()
    {
        var key = new Key(cfg: Cfg);
        key.Fail(FailoverReason.Timeout, T0);
        key.Fail(FailoverReason.Timeout, T0 + S(1));
        key.Push(new KeyEvents.Recovered(T0 + S(2)));
        Assert.Null(key.Fail(FailoverReason.Timeout, T0 + S(3)).CooldownUntil);
        Assert.Null(key.Fail(FailoverReason.Timeout, T0 + S(4)).CooldownUntil);
        Assert.Equal(T0 + S(5) + S(30), key.Fail(FailoverReason.Timeout, T0 + S(5)).CooldownUntil);
    }

    [Fact]
    public void Should_start_the_threshold_again_after_the_failure_window()
    {
        var key = new Key(cfg: Cfg);
        key.Fail(FailoverReason.Timeout, T0);
        key.Fail(FailoverReason.Timeout, T0 + S(1));
        var e = key.Fail(FailoverReason.Timeout, T0 + S(1) + TimeSpan.FromHours(25));
        Assert.True(e.WindowReset);
        Assert.Null(e.CooldownUntil);
        Assert.Equal(1, key.State.ErrorCount);
    }

    // Below the threshold only the provider's own hint cools the key, and for exactly as long as it asks.
    // expectedSeconds < 0 = no cooldown. The 5 s and 0 s rows fail today: the 30 s schedule step is used as a floor.
    [Theory]
    [InlineData(600, 600)]
    [InlineData(31, 31)]
    [InlineData(30, 30)]
    [InlineData(5, 5)]
    [InlineData(0, -1)]
    public void Should_cool_below_the_threshold_only_for_the_hinted_wait(double hintSeconds, double expectedSeconds)
    {
        var e = KeyHealthPolicy.Decide(KeyHealth.Healthy, FailoverReason.Overloaded, null, RetryAfter(S(hintSeconds)), T0, Cfg);
        Assert.True(e.CountsAsError);
        Assert.Equal(expectedSeconds < 0 ? null : T0 + S(expectedSeconds), e.CooldownUntil);
    }

    // ---------------------------------------------------------------- model-scoped rate limits (item 54)

    [Fact]
    public void Should_scope_a_rate_limit_with_a_known_model_to_that_model()
    {
        var key = new Key();
        var e = key.Fail(FailoverReason.RateLimit, T0, "model-a");
        var now = T0 + S(5);

        Assert.Null(e.CooldownUntil);
        Assert.Equal(T0 + S(30), e.ModelCooldownUntil);
        Assert.Equal("model-a", e.Model);
        Assert.Null(key.State.CooldownUntil);
        Assert.Equal(T0 + S(30), KeyHealthPolicy.BlockedUntil(key.State, "model-a", now));
        Assert.Equal(T0 + S(30), KeyHealthPolicy.BlockedUntil(key.State, "MODEL-A", now));
        Assert.Null(KeyHealthPolicy.BlockedUntil(key.State, "model-b", now));
        Assert.Null(KeyHealthPolicy.BlockedUntil(key.State, null, now));
        Assert.Equal((KeyStatus.CoolingDown, (DateTimeOffset?)(T0 + S(30)), (FailoverReason?)FailoverReason.RateLimit),
            KeyHealthPolicy.StatusAt(key.State, now));
        Assert.Equal(T0 + S(30), KeyHealthPolicy.NextExpiry(key.State, now));
        Assert.Null(KeyHealthPolicy.BlockedUntil(key.State, "model-a", T0 + S(30)));
        Assert.Equal(KeyStatus.Ready, KeyHealthPolicy.StatusAt(key.State, T0 + S(30)).Status);
    }

    [Fact]
    public void Should_make_a_rate_limit_without_a_model_key_wide()
    {
        var key = new Key();
        var e = key.Fail(FailoverReason.RateLimit, T0, null);
        Assert.Equal(T0 + S(30), e.CooldownUntil);
        Assert.Null(e.ModelCooldownUntil);
        Assert.Empty(key.State.ModelCooldowns);
        Assert.Equal(T0 + S(30), KeyHealthPolicy.BlockedUntil(key.State, "any-model", T0));
        Assert.Equal(T0 + S(30), KeyHealthPolicy.BlockedUntil(key.State, null, T0));
    }

    [Theory]
    [MemberData(nameof(KeyWideEvenWithModelRows))]
    public void Should_keep_other_cooldowns_key_wide_even_with_a_model(FailoverReason reason)
    {
        var key = new Key();
        var e = key.Fail(reason, T0, "model-a");
        Assert.Equal(T0 + S(30), e.CooldownUntil);
        Assert.Null(e.ModelCooldownUntil);
        Assert.Empty(key.State.ModelCooldowns);
        Assert.Equal(T0 + S(30), KeyHealthPolicy.BlockedUntil(key.State, "model-a", T0));
        Assert.Equal(T0 + S(30), KeyHealthPolicy.BlockedUntil(key.State, "model-b", T0));
        Assert.Equal(T0 + S(30), KeyHealthPolicy.BlockedUntil(key.State, null, T0));
    }

    [Fact]
    public void Should_keep_independent_cooldowns_per_model()
    {
        var key = new Key();
        key.Fail(FailoverReason.RateLimit, T0, "model-a");           // 30 s
        key.Fail(FailoverReason.RateLimit, T0 + S(5), "model-b");    // errorCount 2 → 60 s
        var now = T0 + S(10);

        Assert.Equal(2, key.State.ModelCooldowns.Count);
        Assert.Equal(T0 + S(30), KeyHealthPolicy.BlockedUntil(key.State, "model-a", now));
        Assert.Equal(T0 + S(65), KeyHealthPolicy.BlockedUntil(key.State, "model-b", now));
        Assert.Null(KeyHealthPolicy.BlockedUntil(key.State, "model-c", now));
        Assert.Equal(T0 + S(65), KeyHealthPolicy.StatusAt(key.State, now).Until);
        Assert.Equal(T0 + S(30), KeyHealthPolicy.NextExpiry(key.State, now));
        Assert.Equal(T0 + S(65), KeyHealthPolicy.NextExpiry(key.State, T0 + S(30)));
        Assert.Null(KeyHealthPolicy.BlockedUntil(key.State, "model-a", T0 + S(31)));
        Assert.Equal(T0 + S(65), KeyHealthPolicy.BlockedUntil(key.State, "model-b", T0 + S(31)));
    }

    [Fact]
    public void Should_block_a_model_until_the_latest_of_its_own_and_the_key_wide_cooldown()
    {
        var key = new Key();
        key.Fail(FailoverReason.RateLimit, T0, "model-a", RetryAfter(M(15)));   // model-a until +15 min
        key.Fail(FailoverReason.Overloaded, T0 + S(1), "model-a");             // key-wide until T0+61s
        var now = T0 + S(30);

        Assert.Equal(T0 + M(15), KeyHealthPolicy.BlockedUntil(key.State, "model-a", now));
        Assert.Equal(T0 + S(61), KeyHealthPolicy.BlockedUntil(key.State, "model-b", now));
        Assert.Equal(T0 + S(61), KeyHealthPolicy.StatusAt(key.State, now).Until);   // key-wide window first
        Assert.Equal(T0 + M(15), KeyHealthPolicy.StatusAt(key.State, T0 + S(61)).Until);
    }

    // ---------------------------------------------------------------- disable lanes (items 51, 52)

    [Fact]
    public void Should_double_billing_disables_from_10min_to_the_24h_cap_then_restart_after_the_window()
    {
        // Each billing failure lands one second after the previous disable expired.
        double[] expectedMinutes = [10, 20, 40, 80, 160, 320, 640, 1280, 1440];
        var key = new Key();
        var now = T0;
        for (var i = 0; i < expectedMinutes.Length; i++)
        {
            Assert.Equal(KeyStatus.Ready, KeyHealthPolicy.StatusAt(key.State, now).Status);
            var e = key.Fail(FailoverReason.Billing, now);
            var until = now + M(expectedMinutes[i]);

            Assert.True(e.CountsAsError);
            Assert.False(e.WindowReset);
            Assert.Null(e.CooldownUntil);
            Assert.Null(e.ModelCooldownUntil);
            Assert.Equal(until, e.DisabledUntil);
            Assert.Equal(until, key.State.DisabledUntil);
            Assert.Equal(FailoverReason.Billing, key.State.DisabledReason);
            Assert.Equal(i + 1, key.State.FailureCounts["billing"]);
            Assert.Equal((KeyStatus.Disabled, (DateTimeOffset?)until, (FailoverReason?)FailoverReason.Billing),
                KeyHealthPolicy.StatusAt(key.State, until - TimeSpan.FromTicks(1)));
            now = until + S(1);
        }

        // The capped 24 h disable ends more than 24 h after the last failure, so the window has reset.
        var restart = key.Fail(FailoverReason.Billing, now);
        Assert.True(restart.WindowReset);
        Assert.Equal(now + M(10), restart.DisabledUntil);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(1, 20)]
    [InlineData(2, 40)]
    [InlineData(3, 80)]
    [InlineData(7, 1280)]
    [InlineData(8, 1440)]   // 2560 min capped at 24 h
    [InlineData(10, 1440)]
    [InlineData(50, 1440)]
    public void Should_compute_billing_disables_as_base_times_2_pow_n_minus_1_capped(int priorBilling, double expectedMinutes)
    {
        var s = KeyHealth.Healthy with
        {
            ErrorCount = priorBilling,
            FailureCounts = priorBilling == 0 ? ImmutableDictionary<string, int>.Empty : ImmutableDictionary<string, int>.Empty.Add("billing", priorBilling),
            LastFailureAt = priorBilling == 0 ? null : T0 - M(1),
        };
        var e = KeyHealthPolicy.Decide(s, FailoverReason.Billing, null, RateLimitHints.None, T0, Cfg);
        Assert.Equal(T0 + M(expectedMinutes), e.DisabledUntil);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(9, 512)]
    [InlineData(10, 1024)]
    [InlineData(11, 1024)]  // the exponent stops at 10 even when the cap is far away
    [InlineData(40, 1024)]
    public void Should_stop_doubling_at_2_pow_10(int priorBilling, double expectedMinutes)
    {
        var cfg = Cfg with { BillingBase = M(1), BillingMax = TimeSpan.FromDays(365) };
        var s = KeyHealth.Healthy with
        {
            FailureCounts = ImmutableDictionary<string, int>.Empty.Add("billing", priorBilling),
            LastFailureAt = T0 - M(1),
        };
        var e = KeyHealthPolicy.Decide(s, FailoverReason.Billing, null, RateLimitHints.None, T0, cfg);
        Assert.Equal(T0 + M(expectedMinutes), e.DisabledUntil);
    }

    [Fact]
    public void Should_double_auth_permanent_disables_from_10min_to_the_60min_cap()
    {
        double[] expectedMinutes = [10, 20, 40, 60, 60, 60];
        var key = new Key();
        var now = T0;
        foreach (var minutes in expectedMinutes)
        {
            var e = key.Fail(FailoverReason.AuthPermanent, now, "model-a");
            Assert.Equal(now + M(minutes), e.DisabledUntil);
            Assert.Equal(FailoverReason.AuthPermanent, key.State.DisabledReason);
            Assert.Equal(KeyStatus.Disabled, KeyHealthPolicy.StatusAt(key.State, now).Status);
            now += M(minutes) + S(1);
        }
        Assert.Equal(expectedMinutes.Length, key.State.FailureCounts["auth_permanent"]);
    }

    [Fact]
    public void Should_count_billing_and_auth_permanent_separately_for_their_doubling()
    {
        var key = new Key();
        key.Fail(FailoverReason.Billing, T0);                                   // billing #1: 10 min
        key.Fail(FailoverReason.Billing, T0 + M(10) + S(1));                     // billing #2: 20 min
        var e = key.Fail(FailoverReason.AuthPermanent, T0 + M(31));             // auth_permanent #1: 10 min
        Assert.Equal(T0 + M(31) + M(10), e.DisabledUntil);
    }

    [Theory]
    [InlineData(FailoverReason.Billing)]
    [InlineData(FailoverReason.AuthPermanent)]
    public void Should_never_extend_an_active_disable_on_a_retry(FailoverReason reason)
    {
        var key = new Key();
        var first = key.Fail(reason, T0);
        var retry1 = key.Fail(reason, T0 + M(1));
        var retry2 = key.Fail(reason, T0 + M(10) - TimeSpan.FromTicks(1));

        Assert.Equal(T0 + M(10), first.DisabledUntil);
        Assert.Equal(T0 + M(10), retry1.DisabledUntil);
        Assert.Equal(T0 + M(10), retry2.DisabledUntil);
        Assert.Equal(T0 + M(10), key.State.DisabledUntil);
    }

    [Fact]
    public void Should_double_from_the_count_within_the_window_once_the_disable_expired()
    {
        var key = new Key();
        key.Fail(FailoverReason.Billing, T0);                          // 10 min
        var atExpiry = key.Fail(FailoverReason.Billing, T0 + M(10));   // exactly at expiry: window over, 20 min
        Assert.Equal(T0 + M(10) + M(20), atExpiry.DisabledUntil);
    }

    [Fact]
    public void Should_count_retries_inside_an_active_disable_toward_the_next_doubling()
    {
        // Pinned: a retry inside the window does not extend it, but it is a billing failure within the failure window,
        // so it counts. Billing #1 (10 min), retry #2 inside it, then #3 after expiry: 10·2² = 40 min.
        var key = new Key();
        key.Fail(FailoverReason.Billing, T0);
        key.Fail(FailoverReason.Billing, T0 + M(5));
        var e = key.Fail(FailoverReason.Billing, T0 + M(11));
        Assert.Equal(3, key.State.FailureCounts["billing"]);
        Assert.Equal(3, key.State.ErrorCount);
        Assert.Equal(T0 + M(11) + M(40), e.DisabledUntil);
    }

    [Theory]
    [InlineData(FailoverReason.Billing)]
    [InlineData(FailoverReason.AuthPermanent)]
    public void Should_ignore_provider_hints_in_the_disable_lanes(FailoverReason reason)
    {
        var longHint = KeyHealthPolicy.Decide(KeyHealth.Healthy, reason, null, new RateLimitHints(TimeSpan.FromHours(48), true, TimeSpan.FromHours(48)), T0, Cfg);
        var shortHint = KeyHealthPolicy.Decide(KeyHealth.Healthy, reason, null, RetryAfter(S(5)), T0, Cfg);
        Assert.Equal(T0 + M(10), longHint.DisabledUntil);
        Assert.Equal(T0 + M(10), shortHint.DisabledUntil);
        Assert.Null(longHint.CooldownUntil);
    }

    [Theory]
    [InlineData(FailoverReason.Billing)]
    [InlineData(FailoverReason.AuthPermanent)]
    public void Should_block_every_model_while_disabled(FailoverReason reason)
    {
        var key = new Key();
        var e = key.Fail(reason, T0, "model-a");
        var now = T0 + M(1);

        Assert.Null(e.ModelCooldownUntil);
        Assert.Empty(key.State.ModelCooldowns);
        Assert.Null(key.State.CooldownUntil);
        Assert.Equal(T0 + M(10), KeyHealthPolicy.BlockedUntil(key.State, "model-a", now));
        Assert.Equal(T0 + M(10), KeyHealthPolicy.BlockedUntil(key.State, "model-b", now));
        Assert.Equal(T0 + M(10), KeyHealthPolicy.BlockedUntil(key.State, null, now));
        Assert.Equal((KeyStatus.Disabled, (DateTimeOffset?)(T0 + M(10)), (FailoverReason?)reason), KeyHealthPolicy.StatusAt(key.State, now));
        Assert.Null(KeyHealthPolicy.BlockedUntil(key.State, "model-a", T0 + M(10)));
    }

    [Fact]
    public void Should_report_disabled_over_an_active_cooldown_and_keep_both()
    {
        var key = new Key();
        key.Fail(FailoverReason.Timeout, T0, null, RetryAfter(M(30)));   // cooldown until +30 min
        key.Fail(FailoverReason.Billing, T0 + S(1));                      // disabled until +10 min 1 s

        Assert.Equal(T0 + M(30), key.State.CooldownUntil);
        Assert.Equal(KeyStatus.Disabled, KeyHealthPolicy.StatusAt(key.State, T0 + M(5)).Status);
        Assert.Equal((KeyStatus.CoolingDown, (DateTimeOffset?)(T0 + M(30)), (FailoverReason?)FailoverReason.Timeout),
            KeyHealthPolicy.StatusAt(key.State, T0 + M(11)));
        Assert.Equal(T0 + M(30), KeyHealthPolicy.BlockedUntil(key.State, "m", T0 + M(5)));
        Assert.Equal(T0 + M(10) + S(1), KeyHealthPolicy.NextExpiry(key.State, T0 + M(5)));
    }

    // ---------------------------------------------------------------- request-shaped failures: no cooldown, no count

    [Theory]
    [MemberData(nameof(NonCountingRows))]
    public void Should_leave_the_key_alone_for_request_shaped_failures(FailoverReason reason)
    {
        foreach (var (state, model) in new[] { (KeyHealth.Healthy, (string?)null), (Busy(T0), "gpt-4o") })
        {
            var e = KeyHealthPolicy.Decide(state, reason, model, RetryAfter(M(10)), T0, Cfg);

            Assert.Equal(new KeyEvents.Failed(T0, reason, model, false, null, null, null, false), e);
            Assert.Same(state, KeyHealthPolicy.Apply(state, e));
        }
    }

    [Theory]
    [MemberData(nameof(NonCountingRows))]
    public void Should_not_reset_a_stale_window_for_request_shaped_failures(FailoverReason reason)
    {
        var stale = KeyHealth.Healthy with
        {
            ErrorCount = 2,
            FailureCounts = ImmutableDictionary<string, int>.Empty.Add("timeout", 2),
            LastFailureAt = T0 - TimeSpan.FromDays(3),
        };
        var e = KeyHealthPolicy.Decide(stale, reason, null, RateLimitHints.None, T0, Cfg);
        Assert.False(e.WindowReset);
        Assert.Same(stale, KeyHealthPolicy.Apply(stale, e));
    }

    [Fact]
    public void Should_not_disturb_the_schedule_with_request_shaped_failures_in_between()
    {
        var key = new Key();
        key.Fail(FailoverReason.Timeout, T0);
        foreach (var reason in NonCountingReasons) key.Fail(reason, T0 + S(40), "m");
        var e = key.Fail(FailoverReason.Timeout, T0 + S(41));
        Assert.Equal(T0 + S(41) + S(60), e.CooldownUntil);
        Assert.Equal(2, key.State.ErrorCount);
        Assert.Equal(T0 + S(41), key.State.LastFailureAt);
    }

    // ---------------------------------------------------------------- DecideExhausted (pre-emptive cooldown)

    public static TheoryData<object> NotExhaustedRows { get; } = new(
        RateLimitHints.None,
        new RateLimitHints(M(5), false, null),
        new RateLimitHints(null, false, M(5)),
        new RateLimitHints(M(5), false, M(5)));

    [Theory]
    [MemberData(nameof(NotExhaustedRows))]
    public void Should_decide_nothing_when_the_quota_is_not_exhausted(object row)
    {
        var hints = (RateLimitHints)row; // object: a public theory cannot take the internal RateLimitHints
        Assert.Null(KeyHealthPolicy.DecideExhausted(KeyHealth.Healthy, "m", hints, T0));
        Assert.Null(KeyHealthPolicy.DecideExhausted(KeyHealth.Healthy, null, hints, T0));
    }

    [Theory]
    [InlineData(null, 120.0, 120.0)]      // reset window
    [InlineData(30.0, 120.0, 120.0)]      // reset window preferred over Retry-After
    [InlineData(300.0, 120.0, 120.0)]
    [InlineData(45.0, null, 45.0)]        // Retry-After when no reset window
    [InlineData(null, null, 1.0)]         // neither: a one-second pause
    public void Should_cool_down_until_the_reset_when_exhausted(double? retryAfter, double? resetIn, double expectedSeconds)
    {
        var hints = new RateLimitHints(retryAfter is { } r ? S(r) : null, true, resetIn is { } x ? S(x) : null);
        var e = KeyHealthPolicy.DecideExhausted(KeyHealth.Healthy, "m", hints, T0);
        Assert.Equal(new KeyEvents.Exhausted(T0, "m", T0 + S(expectedSeconds)), e);
    }

    [Fact]
    public void Should_scope_exhaustion_to_the_model_when_given()
    {
        var key = new Key();
        key.Exhaust(T0, "Model-A", new RateLimitHints(null, true, M(2)));
        var now = T0 + S(1);

        Assert.Null(key.State.CooldownUntil);
        Assert.Equal(T0 + M(2), key.State.ModelCooldowns["model-a"]);
        Assert.Equal(T0 + M(2), KeyHealthPolicy.BlockedUntil(key.State, "MODEL-A", now));
        Assert.Null(KeyHealthPolicy.BlockedUntil(key.State, "model-b", now));
        Assert.Equal((KeyStatus.CoolingDown, (DateTimeOffset?)(T0 + M(2)), (FailoverReason?)FailoverReason.RateLimit), KeyHealthPolicy.StatusAt(key.State, now));
    }

    [Fact]
    public void Should_make_exhaustion_key_wide_without_a_model()
    {
        var key = new Key();
        key.Exhaust(T0, null, new RateLimitHints(null, true, M(2)));
        Assert.Equal(T0 + M(2), key.State.CooldownUntil);
        Assert.Equal(FailoverReason.RateLimit, key.State.CooldownReason);
        Assert.Empty(key.State.ModelCooldowns);
        Assert.Equal(T0 + M(2), KeyHealthPolicy.BlockedUntil(key.State, "any", T0 + S(1)));
    }

    [Fact]
    public void Should_not_count_exhaustion_as_an_error()
    {
        var key = new Key();
        key.Exhaust(T0, "m", new RateLimitHints(null, true, M(2)));
        key.Exhaust(T0 + M(3), null, new RateLimitHints(null, true, M(2)));

        Assert.Equal(0, key.State.ErrorCount);
        Assert.Empty(key.State.FailureCounts);
        Assert.Null(key.State.LastFailureAt);
        Assert.Null(key.State.DisabledUntil);
        var e = key.Fail(FailoverReason.Timeout, T0 + M(6));
        Assert.Equal(T0 + M(6) + S(30), e.CooldownUntil);
    }

    [Theory]
    [InlineData("m", "m", 600, 120, false)]     // existing model cooldown lasts longer
    [InlineData("m", "M", 600, 120, false)]     // ... matched case-insensitively
    [InlineData("m", "m", 120, 120, false)]     // equal: nothing to do
    [InlineData("m", "m", 60, 120, true)]       // shorter: extend
    [InlineData("m", "other", 600, 120, true)]  // another model's cooldown does not count
    [InlineData(null, null, 600, 120, false)]   // existing key-wide cooldown lasts longer
    [InlineData(null, null, 120, 120, false)]
    [InlineData(null, null, 60, 120, true)]
    [InlineData(null, "m", 600, 120, false)]    // a longer key-wide cooldown already covers the model
    [InlineData("m", null, 600, 120, true)]     // a model-scoped cooldown does not cover the whole key
    public void Should_skip_exhaustion_when_an_existing_cooldown_already_lasts_longer(
        string? existingModel, string? exhaustedModel, double existingSeconds, double resetSeconds, bool expectEvent)
    {
        var s = existingModel is null
            ? KeyHealth.Healthy with { CooldownUntil = T0 + S(existingSeconds), CooldownReason = FailoverReason.RateLimit }
            : KeyHealth.Healthy with { ModelCooldowns = KeyHealth.Healthy.ModelCooldowns.SetItem(existingModel, T0 + S(existingSeconds)) };

        var e = KeyHealthPolicy.DecideExhausted(s, exhaustedModel, new RateLimitHints(null, true, S(resetSeconds)), T0);

        if (!expectEvent)
        {
            Assert.Null(e);
            return;
        }
        Assert.Equal(new KeyEvents.Exhausted(T0, exhaustedModel, T0 + S(resetSeconds)), e);
        var after = KeyHealthPolicy.Apply(s, e!);
        Assert.Equal(T0 + S(resetSeconds), KeyHealthPolicy.BlockedUntil(after, exhaustedModel, T0));
        if (exhaustedModel is null) Assert.Equal(T0 + S(resetSeconds), after.CooldownUntil);
        else Assert.Equal(T0 + S(resetSeconds), after.ModelCooldowns[exhaustedModel]);
    }

    // ---------------------------------------------------------------- StatusAt / BlockedUntil / NextExpiry

    [Fact]
    public void Should_report_a_healthy_key_ready_and_unblocked()
    {
        Assert.Equal((KeyStatus.Ready, (DateTimeOffset?)null, (FailoverReason?)null), KeyHealthPolicy.StatusAt(KeyHealth.Healthy, T0));
        Assert.Null(KeyHealthPolicy.BlockedUntil(KeyHealth.Healthy, "m", T0));
        Assert.Null(KeyHealthPolicy.BlockedUntil(KeyHealth.Healthy, null, T0));
        Assert.Null(KeyHealthPolicy.NextExpiry(KeyHealth.Healthy, T0));
    }

    [Fact]
    public void Should_treat_everything_expired_as_ready()
    {
        var s = Busy(T0 - TimeSpan.FromHours(1));
        Assert.Equal((KeyStatus.Ready, (DateTimeOffset?)null, (FailoverReason?)null), KeyHealthPolicy.StatusAt(s, T0));
        Assert.Null(KeyHealthPolicy.BlockedUntil(s, "gpt-4o", T0));
        Assert.Null(KeyHealthPolicy.NextExpiry(s, T0));
    }

    // Offsets in seconds from T0 (null = absent); the key is read at T0.
    [Theory]
    [InlineData(null, null, null, null, null)]
    [InlineData(600.0, null, null, null, 600.0)]
    [InlineData(null, 30.0, null, null, 30.0)]
    [InlineData(null, null, 45.0, null, 45.0)]
    [InlineData(600.0, 30.0, 45.0, 90.0, 30.0)]
    [InlineData(600.0, 300.0, 45.0, 20.0, 20.0)]
    [InlineData(600.0, -5.0, 45.0, -1.0, 45.0)]    // expired entries are skipped
    [InlineData(0.0, 0.0, 0.0, 0.0, null)]         // expiring exactly now is not in the future
    [InlineData(-60.0, 0.0, null, 10.0, 10.0)]
    public void Should_return_the_soonest_future_expiry(double? disabled, double? cooldown, double? modelA, double? modelB, double? expected)
    {
        var models = KeyHealth.Healthy.ModelCooldowns;
        if (modelA is { } a) models = models.SetItem("a", T0 + S(a));
        if (modelB is { } b) models = models.SetItem("b", T0 + S(b));
        var s = KeyHealth.Healthy with
        {
            DisabledUntil = disabled is { } d ? T0 + S(d) : null,
            CooldownUntil = cooldown is { } c ? T0 + S(c) : null,
            ModelCooldowns = models,
        };
        Assert.Equal(expected is { } x ? T0 + S(x) : null, KeyHealthPolicy.NextExpiry(s, T0));
    }

    // Offsets in seconds from T0 (null = absent); the key is read at T0 for model "a".
    [Theory]
    [InlineData(null, null, null, null, KeyStatus.Ready, null)]
    [InlineData(600.0, 30.0, 900.0, 900.0, KeyStatus.Disabled, 600.0)]   // disabled wins the status
    [InlineData(null, 30.0, 900.0, 900.0, KeyStatus.CoolingDown, 30.0)]  // key-wide cooldown before model ones
    [InlineData(null, null, 20.0, 900.0, KeyStatus.CoolingDown, 900.0)]  // latest model cooldown for the key
    [InlineData(0.0, 0.0, 0.0, 0.0, KeyStatus.Ready, null)]              // ends exactly now: ready
    [InlineData(0.0, -1.0, 1.0, null, KeyStatus.CoolingDown, 1.0)]
    public void Should_report_the_key_wide_status(double? disabled, double? cooldown, double? modelA, double? modelB, Enum expected, double? until)
    {
        var status = (KeyStatus)expected; // Enum: a public theory cannot take the internal KeyStatus
        var models = KeyHealth.Healthy.ModelCooldowns;
        if (modelA is { } a) models = models.SetItem("a", T0 + S(a));
        if (modelB is { } b) models = models.SetItem("b", T0 + S(b));
        var s = KeyHealth.Healthy with
        {
            DisabledUntil = disabled is { } d ? T0 + S(d) : null,
            DisabledReason = disabled is null ? null : FailoverReason.Billing,
            CooldownUntil = cooldown is { } c ? T0 + S(c) : null,
            CooldownReason = cooldown is null && modelA is null && modelB is null ? null : FailoverReason.RateLimit,
            ModelCooldowns = models,
        };
        var (actualStatus, actualUntil, reason) = KeyHealthPolicy.StatusAt(s, T0);
        Assert.Equal(status, actualStatus);
        Assert.Equal(until is { } u ? T0 + S(u) : null, actualUntil);
        Assert.Equal(status switch
        {
            KeyStatus.Disabled => FailoverReason.Billing,
            KeyStatus.CoolingDown => FailoverReason.RateLimit,
            _ => (FailoverReason?)null,
        }, reason);
    }

    [Theory]
    [InlineData(600.0, 30.0, 900.0, "a", 900.0)]    // the latest of the three applies to the model
    [InlineData(600.0, 30.0, 900.0, "B", 600.0)]    // other models are not held by model a's cooldown
    [InlineData(600.0, 30.0, 900.0, null, 600.0)]
    [InlineData(10.0, 30.0, 20.0, "A", 30.0)]
    [InlineData(-10.0, -30.0, 20.0, "a", 20.0)]
    [InlineData(-10.0, -30.0, -20.0, "a", null)]
    [InlineData(0.0, 0.0, 0.0, "a", null)]
    public void Should_block_a_model_until_the_latest_applicable_expiry(double disabled, double cooldown, double modelA, string? model, double? expected)
    {
        var s = KeyHealth.Healthy with
        {
            DisabledUntil = T0 + S(disabled),
            CooldownUntil = T0 + S(cooldown),
            ModelCooldowns = KeyHealth.Healthy.ModelCooldowns.SetItem("a", T0 + S(modelA)),
        };
        Assert.Equal(expected is { } x ? T0 + S(x) : null, KeyHealthPolicy.BlockedUntil(s, model, T0));
    }

    // ---------------------------------------------------------------- determinism and replay

    private static Key ScriptedKey(int transientThreshold)
    {
        var key = new Key(cfg: Cfg with { TransientThreshold = transientThreshold });
        key.Push(new KeyEvents.Used(T0 - M(5)));
        key.Fail(FailoverReason.Timeout, T0);
        key.Fail(FailoverReason.RateLimit, T0 + S(31), "gpt-4o", RetryAfter(M(10)));
        key.Fail(FailoverReason.RateLimit, T0 + S(40), "GPT-4O");
        key.Fail(FailoverReason.Format, T0 + S(41), "gpt-4o");
        key.Exhaust(T0 + S(50), "claude", new RateLimitHints(null, true, M(3)));
        key.Exhaust(T0 + S(51), null, new RateLimitHints(S(20), true, null));
        key.Fail(FailoverReason.Overloaded, T0 + S(92), "claude");
        key.Fail(FailoverReason.Billing, T0 + M(6));
        key.Fail(FailoverReason.Billing, T0 + M(7));
        key.Push(new KeyEvents.Used(T0 + M(8)));
        key.Fail(FailoverReason.Billing, T0 + M(17));
        key.Push(new KeyEvents.Reset(T0 + M(20)));
        key.Fail(FailoverReason.AuthPermanent, T0 + M(21));
        key.Fail(FailoverReason.ServerError, T0 + M(22), "gpt-4o", RetryAfter(M(2)));
        key.Fail(FailoverReason.Timeout, T0 + TimeSpan.FromHours(30));           // window reset
        key.Fail(FailoverReason.RateLimit, T0 + TimeSpan.FromHours(30) + S(5), "gpt-4o");
        key.Push(new KeyEvents.Recovered(T0 + TimeSpan.FromHours(31)));
        key.Fail(FailoverReason.Auth, T0 + TimeSpan.FromHours(31) + S(1));
        key.Fail(FailoverReason.RateLimit, T0 + TimeSpan.FromHours(31) + S(2), "gpt-4o", RetryAfter(M(4)));
        key.Fail(FailoverReason.Billing, T0 + TimeSpan.FromHours(31) + S(3), "gpt-4o");
        return key;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Should_rebuild_the_same_state_when_replaying_recorded_events(int transientThreshold)
    {
        var live = ScriptedKey(transientThreshold);
        Assert.True(live.Events.Count >= 20);
        Assert.Contains(live.Events, e => e is KeyEvents.Failed { WindowReset: true });

        var replayed = live.Events.Aggregate(KeyHealth.Healthy, KeyHealthPolicy.Apply);

        AssertSameHealth(live.State, replayed);
        foreach (var at in new[] { T0 + TimeSpan.FromHours(31) + S(4), T0 + TimeSpan.FromHours(31) + M(5), T0 + TimeSpan.FromHours(32) })
        {
            Assert.Equal(KeyHealthPolicy.StatusAt(live.State, at), KeyHealthPolicy.StatusAt(replayed, at));
            Assert.Equal(KeyHealthPolicy.NextExpiry(live.State, at), KeyHealthPolicy.NextExpiry(replayed, at));
            foreach (var model in new[] { "gpt-4o", "GPT-4o", "claude", "other", null })
                Assert.Equal(KeyHealthPolicy.BlockedUntil(live.State, model, at), KeyHealthPolicy.BlockedUntil(replayed, model, at));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Should_rebuild_every_intermediate_state_when_replaying_a_prefix(int transientThreshold)
    {
        var live = ScriptedKey(transientThreshold);
        for (var n = 1; n <= live.Events.Count; n++)
            AssertSameHealth(live.History[n - 1], live.Events.Take(n).Aggregate(KeyHealth.Healthy, KeyHealthPolicy.Apply));
    }

    [Fact]
    public void Should_give_equal_events_for_equal_inputs()
    {
        var s = Busy(T0);
        var hints = RetryAfter(M(2));
        foreach (var cfg in new[] { Cfg, Reference })
        foreach (var reason in FailoverReasons.All)
        foreach (var now in new[] { T0, T0 + M(20), T0 + TimeSpan.FromDays(2) })
            Assert.Equal(
                KeyHealthPolicy.Decide(s, reason, "gpt-4o", hints, now, cfg),
                KeyHealthPolicy.Decide(s with { }, reason, "gpt-4o", hints, now, cfg));
        Assert.Equal(KeyHealthPolicy.DecideExhausted(s, "x", new RateLimitHints(null, true, M(9)), T0),
            KeyHealthPolicy.DecideExhausted(s with { }, "x", new RateLimitHints(null, true, M(9)), T0));
    }

    // ---------------------------------------------------------------- reasons reported with a window
    // The reason returned with an until must be the reason that produced that window. These specs fail today; see the
    // report: Apply overwrites CooldownReason / DisabledReason even when the new failure did not set the window.

    [Fact]
    public void Should_report_rate_limit_for_a_model_cooldown_after_a_later_key_wide_failure()
    {
        var key = new Key();
        key.Fail(FailoverReason.RateLimit, T0, "model-a", RetryAfter(M(10)));   // model-a until +10 min
        key.Fail(FailoverReason.Timeout, T0 + M(1));                            // key-wide until +2 min
        var status = KeyHealthPolicy.StatusAt(key.State, T0 + M(3));            // only model-a's window is left

        Assert.Equal((KeyStatus.CoolingDown, (DateTimeOffset?)(T0 + M(10)), (FailoverReason?)FailoverReason.RateLimit), status);
    }

    [Fact]
    public void Should_keep_the_key_wide_reason_when_a_model_scoped_rate_limit_follows()
    {
        var key = new Key();
        key.Fail(FailoverReason.Overloaded, T0, null, RetryAfter(M(10)));       // key-wide until +10 min
        key.Fail(FailoverReason.RateLimit, T0 + S(1), "model-a");               // model-a only
        var status = KeyHealthPolicy.StatusAt(key.State, T0 + M(2));

        Assert.Equal((KeyStatus.CoolingDown, (DateTimeOffset?)(T0 + M(10)), (FailoverReason?)FailoverReason.Overloaded), status);
    }

    [Fact]
    public void Should_keep_the_key_wide_reason_when_a_model_scoped_exhaustion_follows()
    {
        var key = new Key();
        key.Fail(FailoverReason.Timeout, T0, null, RetryAfter(M(10)));                    // key-wide until +10 min
        var e = key.Exhaust(T0 + S(1), "model-a", new RateLimitHints(null, true, M(20)));  // model-a until +20 min

        Assert.NotNull(e);
        Assert.Equal((KeyStatus.CoolingDown, (DateTimeOffset?)(T0 + M(10)), (FailoverReason?)FailoverReason.Timeout),
            KeyHealthPolicy.StatusAt(key.State, T0 + S(2)));
    }

    [Fact]
    public void Should_keep_the_cooldown_reason_when_a_later_failure_does_not_extend_the_window()
    {
        var key = new Key();
        key.Fail(FailoverReason.RateLimit, T0, null, RetryAfter(M(10)));        // until +10 min, rate_limit
        key.Fail(FailoverReason.Timeout, T0 + M(1));                            // step ends at +2 min: window kept

        Assert.Equal(T0 + M(10), key.State.CooldownUntil);
        Assert.Equal(FailoverReason.RateLimit, key.State.CooldownReason);
    }

    [Theory]
    [InlineData(FailoverReason.AuthPermanent, FailoverReason.Billing)]
    [InlineData(FailoverReason.Billing, FailoverReason.AuthPermanent)]
    public void Should_keep_the_disable_reason_when_a_retry_of_another_reason_lands_inside_the_window(FailoverReason first, FailoverReason retry)
    {
        var key = new Key();
        key.Fail(first, T0);
        key.Fail(retry, T0 + M(1));   // in flight when the key was disabled: the window is kept

        Assert.Equal((KeyStatus.Disabled, (DateTimeOffset?)(T0 + M(10)), (FailoverReason?)first), KeyHealthPolicy.StatusAt(key.State, T0 + M(2)));
    }
}
