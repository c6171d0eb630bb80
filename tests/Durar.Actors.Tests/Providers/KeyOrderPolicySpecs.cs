using System.Collections.Immutable;
using Akka.Actor;
using Durar.Actors.Catalog;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Tests.Providers;

/// <summary>
/// <see cref="KeyOrderPolicy.Pick"/>, the one key-order and lease function (reference items 26–31): the pinned key first when
/// it can serve; an explicit order exactly (keys outside it never picked, the soonest blocked entry reported, ties to the
/// earlier entry); otherwise round robin (oauth, token, api_key, each least recently used first, ties to the earlier key);
/// excluded keys, expired credentials without OAuth, the keyless stand-in next to a usable real key, spent minute budgets
/// and model-scoped cooldowns. Every case runs at a fixed virtual instant (<see cref="T0"/> plus offsets); nothing sleeps.
/// </summary>
public sealed class KeyOrderPolicySpecs
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private const string Model = "gpt-4o";

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    private static ApiKeyCredential Cred(string id, string type = CredentialTypes.ApiKey, DateTimeOffset? expiresAt = null, bool oauth = false) =>
        new(id, "p", "secret-" + id, "env:" + id.ToUpperInvariant()) // source: "env:A" for key "a"
        {
            Type = type,
            ExpiresAt = expiresAt,
            OAuth = oauth ? new OAuthGrant("refresh-" + id, "https://auth.example/token", null) : null,
        };

    private static KeyEntry Entry(ApiKeyCredential credential) => KeyEntry.New(credential, KeyLimits.None, ActorRefs.Nobody);

    private static KeyEntry Entry(string id, string type = CredentialTypes.ApiKey) => Entry(Cred(id, type));

    /// <summary>An entry last leased at <paramref name="at"/> (its counters advanced as the provider actor does).</summary>
    private static KeyEntry Leased(KeyEntry entry, DateTimeOffset at)
    {
        entry.Counters.Leased(at);
        return entry;
    }

    private static KeyEntry Cooling(KeyEntry entry, DateTimeOffset until, FailoverReason reason = FailoverReason.RateLimit) =>
        entry.WithHealth(KeyHealth.Healthy with { CooldownUntil = until, CooldownReason = reason });

    private static KeyEntry Disabled(KeyEntry entry, DateTimeOffset until) =>
        entry.WithHealth(KeyHealth.Healthy with { DisabledUntil = until, DisabledReason = FailoverReason.Billing });

    private static KeyEntry ModelCooling(KeyEntry entry, string model, DateTimeOffset until) =>
        entry.WithHealth(KeyHealth.Healthy with { ModelCooldowns = KeyHealth.Healthy.ModelCooldowns.SetItem(model, until) });

    private static KeyStateView View(KeyEntry entry) =>
        new(entry.Id, entry.Credential.Masked, entry.Credential.Source, "ready", null, null, 0, ImmutableDictionary<string, int>.Empty, null, 0, 0);

    /// <summary>An entry whose key actor pushed a spent minute budget until <paramref name="until"/>.</summary>
    private static KeyEntry Limited(KeyEntry entry, DateTimeOffset until) => entry.WithPush(View(entry), entry.Health, until);

    private static KeyPick Pick(IEnumerable<KeyEntry> keys, string[]? order = null, string? model = Model, string[]? excluded = null,
        string? preferred = null, DateTimeOffset? now = null) =>
        KeyOrderPolicy.Pick([.. keys], order is null ? [] : [.. order], model, [.. excluded ?? []], preferred, now ?? T0);

    private static void AssertChosen(string expected, KeyPick pick)
    {
        Assert.True(pick.Chosen is not null, $"expected {expected}, got no key (soonest {pick.Soonest?.Id} at {pick.SoonestAt})");
        Assert.Equal(expected, pick.Chosen!.Id);
        Assert.Null(pick.Soonest);
        Assert.Null(pick.SoonestAt);
    }

    private static void AssertNone(KeyPick pick, string? soonest, DateTimeOffset? soonestAt)
    {
        Assert.Null(pick.Chosen);
        Assert.Equal(0, pick.Seen);
        Assert.Equal(soonest, pick.Soonest?.Id);
        Assert.Equal(soonestAt, pick.SoonestAt);
    }

    // ---------------------------------------------------------------- the pinned key (item 31)

    [Fact]
    public void Should_pick_the_pinned_key_first_when_it_can_serve()
    {
        var a = Entry("a");                          // never leased: round robin's choice
        var b = Leased(Entry("b"), T0 - S(1));       // the most recently used key
        var c = Entry("c", CredentialTypes.OAuth);   // the best type rank

        AssertChosen("c", Pick([a, b, c]));
        AssertChosen("b", Pick([a, b, c], preferred: "b"));
    }

    [Fact]
    public void Should_pick_the_pinned_key_even_outside_the_explicit_order()
    {
        var keys = new[] { Entry("a"), Entry("b") };

        AssertChosen("a", Pick(keys, order: ["a"]));
        AssertChosen("b", Pick(keys, order: ["a"], preferred: "b"));
    }

    [Fact]
    public void Should_pick_a_pinned_token_past_its_expiry_for_its_key_actor_to_decide()
    {
        // Round robin skips it; pinned, the pick returns it and the lease path sends it to its actor (ProviderKeysSpecs).
        var expired = Entry(Cred("t", CredentialTypes.Token, expiresAt: T0 - S(1)));
        var keys = new[] { expired, Entry("a") };

        AssertChosen("a", Pick(keys));
        AssertChosen("t", Pick(keys, preferred: "t"));
    }

    [Fact]
    public void Should_give_an_excluded_pinned_key_its_usual_place()
    {
        var a = Leased(Entry("a"), T0 - S(10));
        var b = Entry("b");   // never leased: it would win round robin on its own

        AssertChosen("a", Pick([a, b], preferred: "b", excluded: ["b"]));
        AssertNone(Pick([a, b], preferred: "b", excluded: ["a", "b"]), null, null);
    }

    [Fact]
    public void Should_give_a_blocked_pinned_key_its_usual_place()
    {
        var a = Entry("a");
        var b = Cooling(Entry("b"), T0 + S(30));
        var c = Cooling(Entry("c"), T0 + S(60));

        AssertChosen("a", Pick([a, b, c], preferred: "b"));
        // Nothing can serve: the pinned key competes for "soonest" like any other (here it recovers last).
        AssertNone(Pick([c, b], preferred: "c"), "b", T0 + S(30));
        AssertNone(Pick([b, c], order: ["c", "b"], preferred: "c"), "b", T0 + S(30));
    }

    [Theory]
    [InlineData("cooldown")]
    [InlineData("disabled")]
    [InlineData("model")]
    [InlineData("minute")]
    public void Should_not_pin_a_key_that_cannot_serve_the_model_now(string block)
    {
        var b = Entry("b");
        b = block switch
        {
            "cooldown" => Cooling(b, T0 + S(30)),
            "disabled" => Disabled(b, T0 + S(30)),
            "model" => ModelCooling(b, Model, T0 + S(30)),
            _ => Limited(b, T0 + S(30)),
        };
        var a = Leased(Entry("a"), T0 - S(5));

        AssertChosen("a", Pick([a, b], preferred: "b"));
    }

    [Fact]
    public void Should_ignore_a_pin_that_names_no_key()
    {
        AssertChosen("a", Pick([Entry("a"), Entry("b")], preferred: "nope"));
        AssertChosen("b", Pick([Entry("a"), Entry("b")], order: ["b"], preferred: "nope"));
    }

    // ---------------------------------------------------------------- explicit order (items 26–28)

    [Fact]
    public void Should_follow_the_explicit_order_exactly()
    {
        var a = Entry("a", CredentialTypes.OAuth); // round robin would take the oauth key, never leased
        var b = Leased(Entry("b"), T0 - S(1));
        var c = Leased(Entry("c"), T0 - S(2));

        AssertChosen("a", Pick([a, b, c]));
        AssertChosen("b", Pick([a, b, c], order: ["b", "c", "a"]));
        AssertChosen("c", Pick([a, b, c], order: ["c", "b"]));
    }

    [Fact]
    public void Should_match_an_order_entry_by_key_id_or_by_source()
    {
        var keys = new[] { Entry("a"), Entry("b"), Entry("c") };

        AssertChosen("c", Pick(keys, order: ["env:C", "a"]));
        AssertChosen("b", Pick(keys, order: ["nope", "env:B", "a"]));
        AssertChosen("a", Pick(keys, order: ["ENV:C", "a"])); // entries match case-sensitively
    }

    [Fact]
    public void Should_never_pick_a_key_outside_the_explicit_order()
    {
        var a = Entry("a");
        var b = Cooling(Entry("b"), T0 + S(30));

        AssertNone(Pick([a, b], order: ["b"]), "b", T0 + S(30));
        AssertNone(Pick([a, b], order: ["b"], excluded: ["b"]), null, null);
        AssertNone(Pick([a, b], order: ["nope"]), null, null);
    }

    [Fact]
    public void Should_pick_the_first_order_entry_that_can_serve()
    {
        var a = Cooling(Entry("a"), T0 + S(30));
        var b = Entry("b");
        var c = ModelCooling(Entry("c"), Model, T0 + S(30));
        var d = Entry("d");

        AssertChosen("d", Pick([a, b, c, d], order: ["a", "b", "c", "d"], excluded: ["b"]));
        AssertChosen("b", Pick([a, b, c, d], order: ["a", "c", "b", "d"]));
    }

    [Fact]
    public void Should_report_the_soonest_of_the_orders_blocked_keys()
    {
        var a = Cooling(Entry("a"), T0 + S(90));
        var b = Disabled(Entry("b"), T0 + S(30));
        var c = ModelCooling(Entry("c"), Model, T0 + S(60));
        var d = Cooling(Entry("d"), T0 + S(10)); // recovers first, but excluded (already tried)
        var e = Cooling(Entry("e"), T0 + S(5));  // recovers first, but outside the order

        AssertNone(Pick([a, b, c, d, e], order: ["a", "b", "c", "d"], excluded: ["d"]), "b", T0 + S(30));
    }

    [Fact]
    public void Should_give_a_soonest_tie_to_the_earlier_order_entry()
    {
        var a = Cooling(Entry("a"), T0 + S(30));
        var b = Cooling(Entry("b"), T0 + S(30));
        var c = Cooling(Entry("c"), T0 + S(30));

        AssertNone(Pick([a, b, c], order: ["c", "a", "b"]), "c", T0 + S(30));
        AssertNone(Pick([a, b, c], order: ["b", "c"]), "b", T0 + S(30));
    }

    [Fact]
    public void Should_skip_an_expired_credential_in_the_explicit_order()
    {
        var t = Entry(Cred("t", CredentialTypes.Token, expiresAt: T0));   // expires exactly now: expired
        var o = Entry(Cred("o", CredentialTypes.OAuth, expiresAt: T0 - S(60), oauth: true)); // refreshable
        var a = Entry("a");

        AssertChosen("a", Pick([t, a], order: ["t", "a"]));
        AssertNone(Pick([t, a], order: ["t"]), null, null);
        AssertChosen("o", Pick([t, o, a], order: ["t", "o", "a"]));
    }

    // ---------------------------------------------------------------- round robin (item 29)

    [Fact]
    public void Should_prefer_oauth_then_token_then_api_key()
    {
        var api = Entry("api");                                                       // never leased
        var token = Leased(Entry("token", CredentialTypes.Token), T0 - S(1));
        var oauth = Leased(Entry(Cred("oauth", CredentialTypes.OAuth, oauth: true)), T0); // leased just now

        AssertChosen("oauth", Pick([api, token, oauth]));
        AssertChosen("token", Pick([api, token, oauth], excluded: ["oauth"]));
        AssertChosen("api", Pick([api, token, oauth], excluded: ["oauth", "token"]));
    }

    [Fact]
    public void Should_treat_an_unknown_credential_type_as_an_api_key()
    {
        // Same rank as an api key: the least recently used of the two wins, not the odd one.
        var odd = Leased(Entry("odd", "bearer"), T0 - S(1));
        var api = Leased(Entry("api"), T0 - S(10));

        AssertChosen("api", Pick([odd, api]));
        Assert.Equal(2, KeyOrderPolicy.TypeRank("bearer"));
        Assert.Equal(2, KeyOrderPolicy.TypeRank(CredentialTypes.ApiKey));
        Assert.Equal(1, KeyOrderPolicy.TypeRank(CredentialTypes.Token));
        Assert.Equal(0, KeyOrderPolicy.TypeRank(CredentialTypes.OAuth));
    }

    [Fact]
    public void Should_pick_the_least_recently_leased_key_of_a_type()
    {
        var a = Leased(Entry("a"), T0 - S(10));
        var b = Leased(Entry("b"), T0 - S(30));
        var c = Leased(Entry("c"), T0 - S(20));

        AssertChosen("b", Pick([a, b, c]));
    }

    [Fact]
    public void Should_count_the_later_of_last_lease_and_last_use()
    {
        // a was leased long ago on this node, but another node used it 5 s ago (its key actor pushed LastUsed).
        var a = Leased(Entry("a"), T0 - S(50)).WithHealth(KeyHealth.Healthy with { LastUsed = T0 - S(5) });
        var b = Leased(Entry("b"), T0 - S(20));
        // c was used long ago, and leased here later than b.
        var c = Leased(Entry("c"), T0 - S(10)).WithHealth(KeyHealth.Healthy with { LastUsed = T0 - S(60) });

        AssertChosen("b", Pick([a, b, c]));
        AssertChosen("c", Pick([a, b, c], excluded: ["b"]));
        // Never leased here, but used by another node: LastUsed alone counts.
        var d = Entry("d").WithHealth(KeyHealth.Healthy with { LastUsed = T0 - S(15) });
        AssertChosen("b", Pick([a, d, b]));
        AssertChosen("d", Pick([a, d, c]));
    }

    [Fact]
    public void Should_give_a_round_robin_tie_to_the_earlier_key()
    {
        AssertChosen("a", Pick([Entry("a"), Entry("b")]));
        AssertChosen("b", Pick([Entry("b"), Entry("a")]));
        AssertChosen("b", Pick([Leased(Entry("b"), T0 - S(3)), Leased(Entry("a"), T0 - S(3))]));
    }

    [Fact]
    public void Should_rotate_over_the_keys_as_they_are_leased()
    {
        KeyEntry[] keys = [Entry("a"), Entry("b"), Entry("c")];
        var picked = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var now = T0 + S(i);
            var pick = Pick(keys, now: now);
            picked.Add(pick.Chosen!.Id);
            pick.Chosen.Counters.Leased(now);
        }

        Assert.Equal(new[] { "a", "b", "c", "a", "b", "c", "a" }, picked);
        Assert.Equal(new long[] { 3, 2, 2 }, keys.Select(k => k.Counters.Leases));
    }

    [Fact]
    public void Should_skip_excluded_keys()
    {
        var keys = new[] { Entry("a"), Entry("b"), Entry("c") };

        AssertChosen("b", Pick(keys, excluded: ["a"]));
        AssertChosen("c", Pick(keys, excluded: ["a", "b"]));
        AssertNone(Pick(keys, excluded: ["a", "b", "c"]), null, null);
        // An excluded blocked key is not reported as the soonest either.
        AssertNone(Pick([Cooling(Entry("a"), T0 + S(5)), Cooling(Entry("b"), T0 + S(50))], excluded: ["a"]), "b", T0 + S(50));
    }

    [Fact]
    public void Should_skip_an_expired_credential_without_oauth()
    {
        var expired = Entry(Cred("t", CredentialTypes.Token, expiresAt: T0));                        // expires exactly now
        var live = Entry(Cred("u", CredentialTypes.Token, expiresAt: T0 + S(1)));
        var refreshable = Entry(Cred("o", CredentialTypes.OAuth, expiresAt: T0 - S(60), oauth: true)); // its actor refreshes it
        var a = Entry("a");

        AssertChosen("o", Pick([expired, live, refreshable, a]));
        AssertChosen("u", Pick([expired, live, refreshable, a], excluded: ["o"]));
        AssertChosen("a", Pick([expired, live, refreshable, a], excluded: ["o", "u"]));
        AssertNone(Pick([expired, a], excluded: ["a"]), null, null);
        // An expired key is not reported as the soonest even when it is also cooling.
        AssertNone(Pick([Cooling(expired, T0 + S(5)), Cooling(a, T0 + S(50))]), "a", T0 + S(50));
    }

    // ---------------------------------------------------------------- the keyless stand-in (item 20)

    [Fact]
    public void Should_use_the_keyless_stand_in_while_no_usable_real_key_exists()
    {
        var keyless = Entry(ApiKeyCredential.Keyless("p"));
        var expired = Entry(Cred("t", CredentialTypes.Token, expiresAt: T0 - S(1)));

        AssertChosen("p:none", Pick([keyless]));
        AssertChosen("p:none", Pick([expired, keyless]));
        AssertChosen("p:none", Pick([keyless], order: ["p:none"]));
    }

    [Fact]
    public void Should_step_the_keyless_stand_in_aside_once_a_usable_real_key_exists()
    {
        var keyless = Entry(ApiKeyCredential.Keyless("p"));        // never leased
        var real = Leased(Entry("a"), T0 - S(1));

        AssertChosen("a", Pick([keyless, real]));
        AssertChosen("a", Pick([keyless, real], order: ["p:none", "a"]));
        // Usable means "its credential works", not "free now": the stand-in does not cover for a tried or cooling real key.
        AssertNone(Pick([keyless, real], excluded: ["a"]), null, null);
        AssertNone(Pick([keyless, Cooling(real, T0 + S(30))]), "a", T0 + S(30));
    }

    [Fact]
    public void Should_not_pin_the_keyless_stand_in_once_a_usable_real_key_exists()
    {
        // A session pinned while the provider had no key (an auto pin) moves to the real key once there is one.
        var keyless = Entry(ApiKeyCredential.Keyless("p"));
        var real = Leased(Entry("a"), T0 - S(1));

        AssertChosen("p:none", Pick([keyless], preferred: "p:none"));
        AssertChosen("a", Pick([keyless, real], preferred: "p:none"));
    }

    // ---------------------------------------------------------------- what blocks a key

    [Fact]
    public void Should_block_a_key_whose_minute_budget_is_spent()
    {
        var a = Limited(Entry("a"), T0 + S(20));
        var b = Leased(Entry("b"), T0 - S(1));

        AssertChosen("b", Pick([a, b]));
        AssertNone(Pick([a, b], excluded: ["b"]), "a", T0 + S(20));
        // The budget has room again once its end has passed (exactly at the end included).
        AssertChosen("a", Pick([a, b], now: T0 + S(20)));
    }

    [Fact]
    public void Should_block_until_the_later_of_health_and_minute_budget()
    {
        var limitedLater = Limited(Cooling(Entry("a"), T0 + S(10)), T0 + S(40));
        var coolingLater = Limited(Cooling(Entry("b"), T0 + S(50)), T0 + S(5));

        Assert.Equal(T0 + S(40), limitedLater.BlockedUntil(Model, T0));
        Assert.Equal(T0 + S(50), coolingLater.BlockedUntil(Model, T0));
        AssertNone(Pick([coolingLater, limitedLater]), "a", T0 + S(40));
    }

    [Fact]
    public void Should_block_a_cooling_or_disabled_key_for_every_model()
    {
        var cooling = Cooling(Entry("a"), T0 + S(30));
        var disabled = Disabled(Entry("b"), T0 + S(60));

        foreach (var model in new[] { Model, "other", null })
            AssertNone(Pick([disabled, cooling], model: model), "a", T0 + S(30));
        AssertChosen("a", Pick([disabled, cooling], now: T0 + S(30)));
        AssertChosen("b", Pick([disabled, cooling], excluded: ["a"], now: T0 + S(60)));
    }

    [Theory]
    [InlineData("gpt-4o", false)]
    [InlineData("GPT-4O", false)]   // model ids compare case-insensitively
    [InlineData("gpt-4o-mini", true)]
    [InlineData("other", true)]
    [InlineData(null, true)]        // no model: key-wide state only
    public void Should_block_a_model_scoped_cooldown_only_for_that_model(string? model, bool servesA)
    {
        var a = ModelCooling(Entry("a"), "Gpt-4o", T0 + S(30));   // never leased: first whenever it may serve
        var b = Leased(Entry("b"), T0 - S(1));

        AssertChosen(servesA ? "a" : "b", Pick([a, b], model: model));
        AssertChosen(servesA ? "a" : "b", Pick([a, b], order: ["a", "b"], model: model));
    }

    [Fact]
    public void Should_report_the_soonest_blocked_key_by_recovery_then_type_then_least_recent_use()
    {
        var a = Cooling(Entry("a"), T0 + S(60));
        var b = Leased(Cooling(Entry("b"), T0 + S(30)), T0 - S(1));
        var c = Leased(Cooling(Entry("c"), T0 + S(30)), T0 - S(9));
        var t = Leased(Cooling(Entry("t", CredentialTypes.Token), T0 + S(30)), T0);
        var early = Cooling(Entry("early"), T0 + S(20));

        AssertNone(Pick([a, b, c, t, early]), "early", T0 + S(20));
        AssertNone(Pick([a, b, c, t]), "t", T0 + S(30));           // same recovery: the better type rank
        AssertNone(Pick([a, b, c]), "c", T0 + S(30));              // same rank: the least recently used
        AssertNone(Pick([a, Leased(Cooling(Entry("x"), T0 + S(30)), T0), Leased(Cooling(Entry("y"), T0 + S(30)), T0)]), "x", T0 + S(30));
    }

    // ---------------------------------------------------------------- Seen (the board's compare-and-swap)

    [Fact]
    public void Should_return_the_chosen_keys_last_lease_ticks_as_read()
    {
        var a = Leased(Entry("a"), T0 - S(10));
        var b = Leased(Entry("b"), T0 - S(20));
        var fresh = Entry("fresh");

        var rr = Pick([a, b]);
        Assert.Equal("b", rr.Chosen!.Id);
        Assert.Equal((T0 - S(20)).UtcTicks, rr.Seen);

        var pinned = Pick([a, b], preferred: "a");
        Assert.Equal((T0 - S(10)).UtcTicks, pinned.Seen);

        var ordered = Pick([a, b], order: ["a"]);
        Assert.Equal((T0 - S(10)).UtcTicks, ordered.Seen);

        Assert.Equal(0, Pick([fresh, a]).Seen);

        // The value read, not the value now: a lease after the pick makes the board's compare-and-swap fail.
        Assert.True(a.Counters.TryLease(pinned.Seen, T0.UtcTicks));
        Assert.False(a.Counters.TryLease(pinned.Seen, T0.UtcTicks));
        Assert.Equal(T0.UtcTicks, Pick([a, b], preferred: "a").Seen);
    }

    [Fact]
    public void Should_read_last_use_but_return_only_the_last_lease_as_seen()
    {
        var a = Leased(Entry("a"), T0 - S(30)).WithHealth(KeyHealth.Healthy with { LastUsed = T0 - S(1) });

        Assert.Equal((T0 - S(30)).UtcTicks, Pick([a]).Seen);
    }
}
