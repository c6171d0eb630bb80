using System.Collections.Immutable;
using Akka.Actor;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Tests.Providers;

/// <summary>
/// <see cref="ProviderKeys"/>, one provider's keys as pure state: what <see cref="ProviderKeys.Acquire"/> answers (a lease, a
/// hand-off to the key actor, an exclusion, or "no key" with the reference wording, the cooling retry time and the disable
/// reason), when it probes a cooling key (<see cref="ProbeMode"/>, <c>gateway.failover.probeInterval</c> and
/// <c>probeMargin</c>, never a spent minute budget), and how the <c>With*</c> transitions change it (outcomes, pushes, the
/// stored order, added, removed and refreshed credentials). Virtual instants only (<see cref="T0"/> plus offsets).
/// </summary>
public sealed class ProviderKeysSpecs
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly FailoverSettings Failover = DurarSettings.Defaults.Gateway.Failover;
    private const string Model = "gpt-4o";

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);
    private static TimeSpan M(double minutes) => TimeSpan.FromMinutes(minutes);

    private static ApiKeyCredential Cred(string id, string type = CredentialTypes.ApiKey, DateTimeOffset? expiresAt = null, bool oauth = false,
        string? secret = null) =>
        new(id, "p", secret ?? "secret-" + id, "env:" + id.ToUpperInvariant())
        {
            Type = type,
            ExpiresAt = expiresAt,
            OAuth = oauth ? new OAuthGrant("refresh-" + id, "https://auth.example/token", null) : null,
        };

    private static ProviderKeys Provider(KeyLimits? limits, string[]? order, params ApiKeyCredential[] credentials) =>
        ProviderKeys.Start("p", ActorRefs.Nobody, credentials, order is null ? default : [.. order], limits ?? KeyLimits.None, CooldownSettings.Default);

    private static ProviderKeys Keys(params string[] ids) => Provider(null, null, [.. ids.Select(id => Cred(id))]);

    private static ProviderCommands.AcquireKey Request(ProbeMode probe = ProbeMode.None, string[]? excluded = null, string? preferred = null,
        string model = Model) =>
        new("p", model, [.. excluded ?? []], probe) { PreferredKeyId = preferred };

    private static ProviderKeys WithHealth(ProviderKeys keys, string id, KeyHealth health) =>
        keys.WithPush(new KeyStateChanged(View(id), health));

    private static ProviderKeys Cooling(ProviderKeys keys, string id, DateTimeOffset until, FailoverReason reason = FailoverReason.Timeout) =>
        WithHealth(keys, id, KeyHealth.Healthy with { CooldownUntil = until, CooldownReason = reason });

    private static ProviderKeys Disabled(ProviderKeys keys, string id, DateTimeOffset until, FailoverReason reason = FailoverReason.Billing) =>
        WithHealth(keys, id, KeyHealth.Healthy with { DisabledUntil = until, DisabledReason = reason });

    private static ProviderKeys Limited(ProviderKeys keys, string id, DateTimeOffset until) =>
        keys.WithPush(new KeyStateChanged(View(id), keys.Find(id)!.Health) { LimitedUntil = until });

    private static KeyStateView View(string id, string state = "ready") =>
        new(id, "…" + id, "env:" + id.ToUpperInvariant(), state, null, null, 0, ImmutableDictionary<string, int>.Empty, null, 0, 0);

    private static AttemptOutcome.Failed Failed(FailoverReason reason, RateLimitHints? hints = null) =>
        new(reason, hints ?? RateLimitHints.None, reason.ToWireName());

    private static AttemptOutcome.Succeeded Succeeded(RateLimitHints? hints = null) => new(hints ?? RateLimitHints.None, null);

    private static (LeaseDecision Decision, ProviderKeys Next) Acquire(ProviderKeys keys, ProviderCommands.AcquireKey request, DateTimeOffset? now = null) =>
        keys.Acquire(request, now ?? T0, Failover);

    private static NoKeyAvailable AssertNoKey(LeaseDecision decision) => Assert.IsType<LeaseDecision.NoKey>(decision).Answer;

    private static string AssertLease(LeaseDecision decision, bool probe = false)
    {
        var lease = Assert.IsType<LeaseDecision.Lease>(decision);
        Assert.Equal(probe, lease.Probe);
        return lease.Key.Id;
    }

    private static string AssertToKeyActor(LeaseDecision decision, bool probe = false)
    {
        var forward = Assert.IsType<LeaseDecision.ToKeyActor>(decision);
        Assert.Equal(probe, forward.Probe);
        return forward.Key.Id;
    }

    // ---------------------------------------------------------------- the pinned defaults

    [Fact]
    public void Should_probe_with_the_shipped_failover_defaults()
    {
        // The probe cases below are written against these values (gateway.failover in durar.conf).
        Assert.Equal(S(30), Failover.ProbeInterval);
        Assert.Equal(M(2), Failover.ProbeMargin);
        Assert.Equal(new[] { S(30), S(60), M(5) }, CooldownSettings.Default.Schedule);
        Assert.Equal(3, CooldownSettings.Default.TransientThreshold);
    }

    // ---------------------------------------------------------------- Acquire: lease, hand-off, exclusion

    [Fact]
    public void Should_answer_no_key_with_the_reference_wording_when_none_is_configured()
    {
        var keys = Keys();

        var (decision, next) = Acquire(keys, Request(ProbeMode.Throttled));

        var answer = AssertNoKey(decision);
        Assert.Equal(new NoKeyAvailable("p", "No API keys configured for provider \"p\".", FailoverReason.Auth, null), answer);
        Assert.False(answer.Cooling);
        Assert.Same(keys, next);
    }

    [Fact]
    public void Should_lease_a_plain_usable_key_itself()
    {
        var keys = Keys("a", "b");

        var (decision, next) = Acquire(keys, Request());

        Assert.Equal("a", AssertLease(decision));
        var lease = ((LeaseDecision.Lease)decision).Key.Lease;
        Assert.Equal(new KeyLease("a", "secret-a", ActorRefs.Nobody), lease);
        Assert.Same(keys, next);
    }

    [Fact]
    public void Should_send_an_oauth_key_to_its_actor()
    {
        var keys = Provider(null, null, Cred("o", CredentialTypes.OAuth, expiresAt: T0 + M(30), oauth: true), Cred("a"));

        var (decision, next) = Acquire(keys, Request());

        Assert.Equal("o", AssertToKeyActor(decision));
        Assert.Same(keys, next);
    }

    [Theory]
    [InlineData(10, null, false)]     // rpm: the key actor counts the minute
    [InlineData(10, 50_000L, false)]
    [InlineData(null, 50_000L, true)] // tpm alone: tokens are counted after the answer, the lease stays plain
    [InlineData(null, null, true)]
    public void Should_send_keys_to_their_actor_only_when_the_provider_has_an_rpm_limit(int? rpm, long? tpm, bool plain)
    {
        var keys = Provider(new KeyLimits(rpm, tpm), null, Cred("a"), Cred("b"));

        var (decision, _) = Acquire(keys, Request());

        Assert.Equal("a", plain ? AssertLease(decision) : AssertToKeyActor(decision));
        Assert.Equal(plain, keys.Find("b")!.IsPlain);
    }

    [Fact]
    public void Should_exclude_a_non_plain_key_whose_actor_is_down()
    {
        var oauth = Provider(null, null, Cred("o", CredentialTypes.OAuth, oauth: true), Cred("a")).WithDown("o", true);
        var rpm = Provider(new KeyLimits(10, null), null, Cred("a")).WithDown("a", true);

        var (decision, next) = Acquire(oauth, Request());
        Assert.Equal("o", Assert.IsType<LeaseDecision.Exclude>(decision).Key.Id);
        Assert.Same(oauth, next);
        Assert.Equal("a", Assert.IsType<LeaseDecision.Exclude>(Acquire(rpm, Request()).Decision).Key.Id);
    }

    [Fact]
    public void Should_still_lease_a_plain_key_whose_actor_is_down()
    {
        var keys = Keys("a").WithDown("a", true);

        Assert.True(keys.Find("a")!.Down);
        Assert.Equal("a", AssertLease(Acquire(keys, Request()).Decision));
    }

    [Fact]
    public void Should_send_a_pinned_token_past_its_expiry_to_its_actor()
    {
        var keys = Provider(null, null, Cred("t", CredentialTypes.Token, expiresAt: T0 - S(1)), Cred("a"));

        Assert.Equal("a", AssertLease(Acquire(keys, Request()).Decision));
        // Pinned: plain, but not usable now, so its actor answers (it sends the request back with the key excluded).
        Assert.Equal("t", AssertToKeyActor(Acquire(keys, Request(preferred: "t")).Decision));
        // ... unless that actor is down: then the provider decides again without it.
        Assert.Equal("t", Assert.IsType<LeaseDecision.Exclude>(Acquire(keys.WithDown("t", true), Request(preferred: "t")).Decision).Key.Id);
    }

    [Fact]
    public void Should_lease_the_pinned_key()
    {
        var keys = Keys("a", "b");

        Assert.Equal("b", AssertLease(Acquire(keys, Request(preferred: "b")).Decision));
    }

    // ---------------------------------------------------------------- Acquire: no key

    [Fact]
    public void Should_answer_that_every_key_was_tried()
    {
        var keys = Keys("a", "b");

        var (decision, next) = Acquire(keys, Request(ProbeMode.Throttled, excluded: ["a", "b"]));

        var answer = AssertNoKey(decision);
        Assert.Equal(new NoKeyAvailable("p", "Every key of provider \"p\" was tried.", FailoverReason.RateLimit, null), answer);
        Assert.False(answer.Cooling);
        Assert.Same(keys, next);
    }

    [Fact]
    public void Should_say_keys_outside_the_order_are_never_tried_when_an_order_is_set()
    {
        var configured = Provider(null, ["a"], Cred("a"), Cred("b"));
        var stored = Keys("a", "b").WithStoredOrder(["b"]);

        Assert.Equal("Every key of provider \"p\" was tried (keys outside auth.order are never tried).",
            AssertNoKey(Acquire(configured, Request(excluded: ["a"])).Decision).Message);
        Assert.Equal("Every key of provider \"p\" was tried (keys outside auth.order are never tried).",
            AssertNoKey(Acquire(stored, Request(excluded: ["b"])).Decision).Message);
    }

    [Fact]
    public void Should_answer_cooling_with_the_soonest_recovery()
    {
        var keys = Cooling(Cooling(Cooling(Keys("a", "b", "c"), "a", T0 + S(90)), "b", T0 + S(30), FailoverReason.Overloaded), "c", T0 + S(60));

        var (decision, next) = Acquire(keys, Request());

        var answer = AssertNoKey(decision);
        Assert.Equal(new NoKeyAvailable("p", "Provider p is in cooldown (all profiles unavailable).", FailoverReason.Overloaded, T0 + S(30)), answer);
        Assert.True(answer.Cooling);
        Assert.Same(keys, next);
    }

    [Fact]
    public void Should_answer_rate_limit_for_a_model_scoped_cooldown()
    {
        var keys = WithHealth(Keys("a"), "a", KeyHealth.Healthy with { ModelCooldowns = KeyHealth.Healthy.ModelCooldowns.SetItem(Model, T0 + S(45)) });

        Assert.Equal(new NoKeyAvailable("p", "Provider p is in cooldown (all profiles unavailable).", FailoverReason.RateLimit, T0 + S(45)),
            AssertNoKey(Acquire(keys, Request()).Decision));
        Assert.Equal("a", AssertLease(Acquire(keys, Request(model: "other")).Decision));
    }

    [Fact]
    public void Should_answer_rate_limit_until_the_minute_budget_has_room()
    {
        var keys = Limited(Keys("a"), "a", T0 + S(20));

        Assert.Equal(new NoKeyAvailable("p", "Provider p is in cooldown (all profiles unavailable).", FailoverReason.RateLimit, T0 + S(20)),
            AssertNoKey(Acquire(keys, Request()).Decision));
    }

    [Theory]
    [InlineData(FailoverReason.Billing, "billing")]
    [InlineData(FailoverReason.AuthPermanent, "auth_permanent")]
    public void Should_answer_every_key_disabled_with_the_reason_when_the_soonest_is_disabled(FailoverReason reason, string wire)
    {
        var keys = Cooling(Disabled(Keys("a", "b"), "a", T0 + M(10), reason), "b", T0 + M(20));

        var answer = AssertNoKey(Acquire(keys, Request()).Decision);

        Assert.Equal(new NoKeyAvailable("p", $"Provider p has {wire} issue (every key disabled).", reason, T0 + M(10)), answer);
        Assert.True(answer.Cooling);
    }

    [Fact]
    public void Should_answer_in_cooldown_when_the_soonest_is_cooling_and_another_is_disabled()
    {
        var keys = Cooling(Disabled(Keys("a", "b"), "a", T0 + M(10)), "b", T0 + M(5), FailoverReason.RateLimit);

        Assert.Equal(new NoKeyAvailable("p", "Provider p is in cooldown (all profiles unavailable).", FailoverReason.RateLimit, T0 + M(5)),
            AssertNoKey(Acquire(keys, Request()).Decision));
    }

    // ---------------------------------------------------------------- Acquire: probes (item 63)

    [Fact]
    public void Should_never_probe_without_a_probe_mode()
    {
        var keys = Cooling(Keys("a"), "a", T0 + S(30));

        foreach (var now in new[] { T0, T0 + S(29), T0 - M(10) })
        {
            var (decision, next) = Acquire(keys, Request(ProbeMode.None), now);
            Assert.True(AssertNoKey(decision).Cooling);
            Assert.Same(keys, next);
        }
    }

    [Fact]
    public void Should_probe_the_soonest_key_at_most_once_per_probe_interval()
    {
        var keys = Cooling(Cooling(Keys("a", "b"), "a", T0 + M(10)), "b", T0 + M(5));

        var (first, afterFirst) = Acquire(keys, Request(ProbeMode.Throttled));
        Assert.Equal("b", AssertLease(first, probe: true));
        Assert.Equal(T0, afterFirst.LastProbe);
        Assert.Equal(DateTimeOffset.MinValue, keys.LastProbe); // the old state is untouched

        var (tooSoon, afterTooSoon) = Acquire(afterFirst, Request(ProbeMode.Throttled), T0 + S(30) - TimeSpan.FromTicks(1));
        Assert.Equal(T0 + M(5), AssertNoKey(tooSoon).RetryAt);
        Assert.Same(afterFirst, afterTooSoon);

        var (second, afterSecond) = Acquire(afterFirst, Request(ProbeMode.Throttled), T0 + S(30));
        Assert.Equal("b", AssertLease(second, probe: true));
        Assert.Equal(T0 + S(30), afterSecond.LastProbe);
    }

    [Fact]
    public void Should_probe_the_primary_only_from_the_probe_margin_before_its_recovery()
    {
        var keys = Cooling(Keys("a"), "a", T0 + M(5));

        Assert.True(AssertNoKey(Acquire(keys, Request(ProbeMode.PrimaryMargin)).Decision).Cooling);
        var (early, afterEarly) = Acquire(keys, Request(ProbeMode.PrimaryMargin), T0 + M(3) - TimeSpan.FromTicks(1));
        Assert.True(AssertNoKey(early).Cooling);
        Assert.Same(keys, afterEarly);

        var (probe, afterProbe) = Acquire(keys, Request(ProbeMode.PrimaryMargin), T0 + M(3));
        Assert.Equal("a", AssertLease(probe, probe: true));
        Assert.Equal(T0 + M(3), afterProbe.LastProbe);
        // Inside the margin the probe interval still applies.
        Assert.True(AssertNoKey(Acquire(afterProbe, Request(ProbeMode.PrimaryMargin), T0 + M(3) + S(29)).Decision).Cooling);
        Assert.Equal("a", AssertLease(Acquire(afterProbe, Request(ProbeMode.PrimaryMargin), T0 + M(3) + S(30)).Decision, probe: true));
    }

    [Fact]
    public void Should_never_probe_a_key_whose_minute_budget_is_spent()
    {
        var keys = Limited(Keys("a"), "a", T0 + S(20));

        var (decision, next) = Acquire(keys, Request(ProbeMode.Throttled));

        Assert.Equal(T0 + S(20), AssertNoKey(decision).RetryAt);
        Assert.Same(keys, next);
        Assert.Equal(DateTimeOffset.MinValue, next.LastProbe);
    }

    [Fact]
    public void Should_hand_a_probe_of_a_non_plain_key_to_its_actor()
    {
        var keys = Cooling(Provider(null, null, Cred("o", CredentialTypes.OAuth, oauth: true)), "o", T0 + S(30));

        var (decision, next) = Acquire(keys, Request(ProbeMode.Throttled));

        Assert.Equal("o", AssertToKeyActor(decision, probe: true));
        Assert.Equal(T0, next.LastProbe);
    }

    [Fact]
    public void Should_not_probe_an_excluded_key()
    {
        var keys = Cooling(Keys("a"), "a", T0 + S(30));

        var (decision, next) = Acquire(keys, Request(ProbeMode.Throttled, excluded: ["a"]));

        Assert.Equal("Every key of provider \"p\" was tried.", AssertNoKey(decision).Message);
        Assert.Same(keys, next);
    }

    [Fact]
    public void Should_say_no_key_is_usable_when_every_token_expired_and_none_can_be_refreshed()
    {
        var keys = Provider(null, null, Cred("t1", CredentialTypes.Token, expiresAt: T0 - S(1)), Cred("t2", CredentialTypes.Token, expiresAt: T0));

        var (decision, next) = Acquire(keys, Request());

        Assert.Equal(new NoKeyAvailable("p", "Provider \"p\" has no usable key: every token has expired and none can be refreshed.",
            FailoverReason.Auth, null), AssertNoKey(decision));
        Assert.Same(keys, next);
    }

    // ---------------------------------------------------------------- WithOutcome

    [Fact]
    public void Should_apply_a_rate_limit_to_the_model_only()
    {
        var keys = Keys("a", "b");

        var next = keys.WithOutcome("a", Model, Failed(FailoverReason.RateLimit), T0);

        var a = next.Find("a")!;
        Assert.Equal(T0 + S(30), a.Health.ModelCooldowns["GPT-4O"]);
        Assert.Null(a.Health.CooldownUntil);
        Assert.Equal(1, a.Health.ErrorCount);
        Assert.Same(keys.Find("b"), next.Find("b"));
        Assert.Same(keys.Find("a")!.Counters, a.Counters);
        Assert.Equal("b", AssertLease(Acquire(next, Request()).Decision));
        Assert.Equal("a", AssertLease(Acquire(next, Request(model: "other")).Decision));
        Assert.Equal(KeyHealth.Healthy, keys.Find("a")!.Health); // the old state is untouched
    }

    [Fact]
    public void Should_count_a_transient_failure_below_the_threshold_without_a_cooldown()
    {
        var keys = Keys("a");

        var next = keys.WithOutcome("a", Model, Failed(FailoverReason.Timeout), T0)
            .WithOutcome("a", Model, Failed(FailoverReason.ServerError), T0 + S(1));

        var health = next.Find("a")!.Health;
        Assert.Equal(2, health.ErrorCount);
        Assert.Equal(1, health.FailureCounts["timeout"]);
        Assert.Equal(1, health.FailureCounts["server_error"]);
        Assert.Null(health.CooldownUntil);
        Assert.Empty(health.ModelCooldowns);
        Assert.Equal("a", AssertLease(Acquire(next, Request(), T0 + S(1)).Decision));

        // The third consecutive one reaches the threshold: the first step of the schedule.
        var third = next.WithOutcome("a", Model, Failed(FailoverReason.Overloaded), T0 + S(2)).Find("a")!.Health;
        Assert.Equal(T0 + S(32), third.CooldownUntil);
    }

    [Theory]
    [InlineData(FailoverReason.Format)]
    [InlineData(FailoverReason.ModelNotFound)]
    [InlineData(FailoverReason.ContextOverflow)]
    public void Should_return_the_same_state_for_a_request_error(FailoverReason reason)
    {
        var keys = Keys("a");

        Assert.Same(keys, keys.WithOutcome("a", Model, Failed(reason), T0));
    }

    [Fact]
    public void Should_recover_a_cooling_key_on_success()
    {
        var keys = Cooling(Keys("a"), "a", T0 + M(5)).WithOutcome("a", Model, Failed(FailoverReason.RateLimit), T0);

        var next = keys.WithOutcome("a", Model, Succeeded(), T0 + S(10));

        var health = next.Find("a")!.Health;
        Assert.Null(health.CooldownUntil);
        Assert.Null(health.CooldownReason);
        Assert.Empty(health.ModelCooldowns);
        Assert.Equal(0, health.ErrorCount);
        Assert.Empty(health.FailureCounts);
        Assert.Equal(T0 + S(10), health.LastUsed);
        Assert.Equal("a", AssertLease(Acquire(next, Request(), T0 + S(10)).Decision));
    }

    [Fact]
    public void Should_cool_down_pre_emptively_on_an_exhausted_success()
    {
        var keys = Keys("a", "b");

        var next = keys.WithOutcome("a", Model, Succeeded(new RateLimitHints(null, true, S(40))), T0);

        var a = next.Find("a")!.Health;
        Assert.Equal(T0 + S(40), a.ModelCooldowns[Model]);
        Assert.Null(a.CooldownUntil);
        Assert.Equal(0, a.ErrorCount);
        Assert.Equal("b", AssertLease(Acquire(next, Request()).Decision));
    }

    [Fact]
    public void Should_return_the_same_state_for_a_plain_success_on_a_healthy_key()
    {
        var keys = Keys("a");

        Assert.Same(keys, keys.WithOutcome("a", Model, Succeeded(), T0));
    }

    [Fact]
    public void Should_return_the_same_state_for_a_cancelled_attempt()
    {
        var keys = Cooling(Keys("a"), "a", T0 + M(5));

        Assert.Same(keys, keys.WithOutcome("a", Model, new AttemptOutcome.Cancelled(), T0));
    }

    [Fact]
    public void Should_return_the_same_state_for_an_outcome_of_an_unknown_key()
    {
        var keys = Keys("a");

        Assert.Same(keys, keys.WithOutcome("nope", Model, Failed(FailoverReason.RateLimit), T0));
    }

    // ---------------------------------------------------------------- WithPush / WithDown

    [Fact]
    public void Should_take_a_pushed_state_and_clear_down()
    {
        var keys = Keys("a", "b").WithDown("a", true);
        var health = KeyHealth.Healthy with { ErrorCount = 2, LastUsed = T0 - S(5) };
        var view = View("a", "cooling");

        var next = keys.WithPush(new KeyStateChanged(view, health) { LimitedUntil = T0 + S(15) });

        var a = next.Find("a")!;
        Assert.False(a.Down);
        Assert.Same(health, a.Health);
        Assert.Same(view, a.View);
        Assert.Equal(T0 + S(15), a.LimitedUntil);
        Assert.Same(keys.Find("a")!.Counters, a.Counters);
        Assert.True(keys.Find("a")!.Down); // the old state is untouched
        Assert.False(next.AllReported);   // b has not reported yet
        Assert.True(next.WithPush(new KeyStateChanged(View("b"), KeyHealth.Healthy)).AllReported);
    }

    [Fact]
    public void Should_return_the_same_state_for_a_push_of_an_unknown_key_or_an_unchanged_down_flag()
    {
        var keys = Keys("a");

        Assert.Same(keys, keys.WithPush(new KeyStateChanged(View("nope"), KeyHealth.Healthy)));
        Assert.Same(keys, keys.WithDown("a", false));
        Assert.Same(keys, keys.WithDown("nope", true));
    }

    // ---------------------------------------------------------------- the order in force

    [Fact]
    public void Should_let_the_stored_order_win_over_the_configured_one()
    {
        var keys = Provider(null, ["a"], Cred("a"), Cred("b"), Cred("c"));

        var stored = keys.WithStoredOrder(["c", "b"]);

        Assert.Equal(new[] { "a" }, keys.Order);
        Assert.Equal(new[] { "c", "b" }, stored.Order);
        Assert.Equal("c", AssertLease(Acquire(stored, Request()).Decision));
        Assert.Equal("b", AssertLease(Acquire(stored, Request(excluded: ["c"])).Decision));
        Assert.IsType<LeaseDecision.NoKey>(Acquire(stored, Request(excluded: ["c", "b"])).Decision);
    }

    [Fact]
    public void Should_go_back_to_the_configured_order_when_the_stored_one_is_cleared()
    {
        var keys = Provider(null, ["b"], Cred("a"), Cred("b")).WithStoredOrder(["a"]);

        foreach (var cleared in new[] { keys.WithStoredOrder([]), keys.WithStoredOrder(default) })
        {
            Assert.Equal(new[] { "b" }, cleared.Order);
            Assert.False(cleared.StoredOrder.IsDefault);
            Assert.Equal("b", AssertLease(Acquire(cleared, Request()).Decision));
        }
        // No configured order either: round robin.
        var none = Keys("a", "b").WithStoredOrder(["b"]).WithStoredOrder([]);
        Assert.Empty(none.Order);
        Assert.Equal("a", AssertLease(Acquire(none, Request()).Decision));
    }

    // ---------------------------------------------------------------- Add / Remove / WithCredential

    [Fact]
    public void Should_never_lease_a_removed_key()
    {
        var keys = Keys("a", "b");

        var next = keys.Remove("a");

        Assert.Null(next.Find("a"));
        Assert.Equal(new[] { "b" }, next.Entries.Select(e => e.Id));
        Assert.Equal("b", AssertLease(Acquire(next, Request()).Decision));
        Assert.Same(keys, keys.Remove("nope"));
        Assert.Equal("No API keys configured for provider \"p\".", AssertNoKey(Acquire(next.Remove("b"), Request()).Decision).Message);
    }

    [Fact]
    public void Should_add_a_healthy_key_with_the_providers_limits()
    {
        var keys = Provider(new KeyLimits(10, null), null, Cred("a"));

        var next = keys.Add(Cred("b"));

        var b = next.Find("b")!;
        Assert.Equal(KeyHealth.Healthy, b.Health);
        Assert.False(b.Down);
        Assert.Null(b.View);
        Assert.False(b.IsPlain); // the provider's rpm applies to the new key too
        Assert.Equal(new KeyLease("b", "secret-b", ActorRefs.Nobody), b.Lease);
        Assert.Equal("b", AssertToKeyActor(Acquire(next, Request(excluded: ["a"])).Decision));
        Assert.Null(keys.Find("b"));
    }

    [Fact]
    public void Should_keep_health_and_counters_across_a_credential_change()
    {
        var keys = Keys("a", "b").WithOutcome("a", Model, Failed(FailoverReason.Timeout), T0);
        var before = keys.Find("a")!;
        before.Counters.Leased(T0 - S(3));

        var next = keys.WithCredential(Cred("a", secret: "rotated-secret"));

        var after = next.Find("a")!;
        Assert.Equal("rotated-secret", after.Credential.Secret);
        Assert.Same(before.Counters, after.Counters);
        Assert.Equal(1, after.Counters.Leases);
        Assert.Equal(T0 - S(3), after.Counters.LastLeased);
        Assert.Same(before.Health, after.Health);
        Assert.Equal(new KeyLease("a", "rotated-secret", ActorRefs.Nobody), after.Lease);
        Assert.Equal("secret-a", before.Lease.Secret); // the old entry is untouched
        Assert.Same(after.Lease, ((LeaseDecision.Lease)Acquire(next, Request(preferred: "a")).Decision).Key.Lease);
    }

    [Fact]
    public void Should_return_the_same_state_for_a_credential_of_an_unknown_key()
    {
        var keys = Keys("a");

        Assert.Same(keys, keys.WithCredential(Cred("nope")));
    }
}
