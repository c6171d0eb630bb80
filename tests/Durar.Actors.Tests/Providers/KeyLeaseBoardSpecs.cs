using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.TestKit;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using static Durar.Actors.Tests.Providers.KeyLeaseBoardKey;
using Durar.Actors.Chat;

namespace Durar.Actors.Tests.Providers;

/// <summary>
/// The lock-free lease path on virtual time: the board must lease exactly the key the provider actor would lease for the
/// same request at the same state (checked against a twin provider without a board, in fixed scenarios and in seeded
/// random runs of leases and outcomes), decline whatever only the actors can decide, apply a noted failure before the
/// actor reads it, and batch the successes of healthy plain keys into one usage report per key per flush.
/// </summary>
public sealed class KeyLeaseBoardSpecs() : Akka.TestKit.Xunit2.TestKit(VirtualTime.Config, nameof(KeyLeaseBoardSpecs))
{
    private static readonly FailoverSettings Failover = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.Failover;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(1);

    private readonly KeyLeaseBoard _board = new();
    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private static AttemptOutcome.Failed Failure(FailoverReason reason, TimeSpan? retryAfter = null) =>
        new(reason, new RateLimitHints(retryAfter, false, null), reason.ToWireName());

    private static AttemptOutcome.Succeeded Success(TokenUsage? usage = null, decimal cost = 0m, bool exhausted = false) =>
        new(exhausted ? new RateLimitHints(null, true, TimeSpan.FromSeconds(20)) : RateLimitHints.None, usage) { Cost = cost };

    private KeyLeaseBoardTwin Twin(IReadOnlyList<KeyLeaseBoardKey> keys, IReadOnlyList<string>? order = null) =>
        KeyLeaseBoardTwin.Start(this, _board, Failover, keys, order);

    /// <summary>Leases one key per request on both twins, the clock moving on a little before each (distinct lease times).</summary>
    private List<string?> Requests(KeyLeaseBoardTwin twin, int count, string model = "m")
    {
        var names = new List<string?>();
        for (var i = 0; i < count; i++)
        {
            Clock.Advance(Step);
            names.Add(twin.Lease(model, step: $"request {i}"));
        }
        return names;
    }

    // ---- 1. The board leases what the actor would lease ----

    [Fact]
    public void Should_rotate_plain_keys_least_recently_used_first_with_ties_in_key_order_like_the_actor()
    {
        var twin = Twin([Api("a"), Api("b"), Api("c")]);
        Assert.Equal(["a", "b", "c", "a", "b", "c", "a"], Requests(twin, 7));

        // A key whose last use is newer than its last lease (its answer came late) goes after the others.
        Clock.Advance(Step);
        twin.Report("b", "m", Success(new TokenUsage(1, 1)));
        twin.Report("b", "m", Failure(FailoverReason.Format)); // not the key's fault, but its actor publishes the use
        twin.Settle();
        Assert.Equal(["c", "a", "b"], Requests(twin, 3));
        twin.AssertSameState();
        Assert.True(twin.Served >= 10);
    }

    [Fact]
    public void Should_prefer_tokens_to_api_keys_and_use_the_keyless_stand_in_only_without_a_usable_real_key()
    {
        var twin = Twin([Api("a"), Token("t", TimeSpan.FromMinutes(1)), Keyless]);
        Assert.Equal(["t", "t"], Requests(twin, 2)); // the only token, then still the token: type before recency
        Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(["a", "a"], Requests(twin, 2)); // the token expired; the stand-in stays aside while a real key is there

        var keylessOnly = KeyLeaseBoardTwin.Start(this, _board, Failover, [Keyless, Token("t2", TimeSpan.FromMinutes(3))], fast: "p2", reference: "q2");
        Assert.Equal(["t2"], Requests(keylessOnly, 1));
        Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal([KeylessName, KeylessName], Requests(keylessOnly, 2));
        Assert.Equal(0, keylessOnly.Declined);
        twin.AssertSameState();
    }

    [Fact]
    public void Should_follow_auth_order_by_key_id_and_by_source_and_never_pick_a_key_outside_it()
    {
        var twin = Twin([Api("a"), Api("b"), Api("c"), Api("d")], order: ["id:c", "a", "id:b"]);
        Assert.Equal(["c", "c", "c"], Requests(twin, 3)); // the order exactly, not round robin
        Assert.Equal("a", twin.Lease("m", excluded: ["c"]));
        Assert.Equal("b", twin.Lease("m", excluded: ["c", "a"]));
        Assert.Null(twin.Lease("m", excluded: ["c", "a", "b"])); // d is outside the order

        twin.Report("c", "m", Failure(FailoverReason.Auth)); // key-wide cooldown
        twin.Settle();
        Assert.Equal(["a", "a"], Requests(twin, 2));
        Assert.Equal(1, twin.Declined); // only the "every key tried" answer came from the actor
        twin.AssertSameState();
    }

    [Fact]
    public void Should_skip_a_cooling_key_and_serve_it_again_once_it_recovers_like_the_actor()
    {
        var twin = Twin([Api("a"), Api("b")]);
        Assert.Equal(["a"], Requests(twin, 1));
        twin.Report("a", "m", Failure(FailoverReason.Auth)); // 30 s key-wide
        twin.Settle();
        Assert.Equal(["b", "b", "b"], Requests(twin, 3));
        Assert.Equal("b", twin.Lease("other-model"));

        Clock.Advance(TimeSpan.FromSeconds(30));
        twin.Settle();
        Assert.Equal(["a", "b", "a"], Requests(twin, 3));
        twin.AssertSameState();
    }

    [Fact]
    public void Should_skip_a_key_only_for_the_model_it_hit_a_rate_limit_on()
    {
        var twin = Twin([Api("a"), Api("b")]);
        Assert.Equal(["a"], Requests(twin, 1, "m1"));
        twin.Report("a", "m1", Failure(FailoverReason.RateLimit));
        twin.Settle();
        Assert.Equal(["b"], Requests(twin, 1, "m1"));
        Assert.Equal(["a"], Requests(twin, 1, "m2")); // a is least recently used and free for m2
        Assert.Equal(["b", "b"], Requests(twin, 2, "M1")); // model ids compare case-insensitively
        Assert.Equal(["a"], Requests(twin, 1, "m2"));
        twin.AssertSameState();
    }

    [Fact]
    public void Should_skip_a_disabled_key_until_its_window_ends()
    {
        var twin = Twin([Api("a"), Api("b")]);
        Assert.Equal(["a"], Requests(twin, 1));
        twin.Report("a", "m", Failure(FailoverReason.Billing)); // disabled for 10 min
        twin.Settle();
        Assert.Equal(["b", "b"], Requests(twin, 2));
        Clock.Advance(TimeSpan.FromMinutes(9));
        twin.Settle();
        Assert.Equal(["b"], Requests(twin, 1));
        Clock.Advance(TimeSpan.FromMinutes(1));
        twin.Settle();
        Assert.Equal(["a"], Requests(twin, 1));
        twin.AssertSameState();
    }

    [Fact]
    public void Should_skip_keys_the_request_already_tried()
    {
        var twin = Twin([Api("a"), Api("b"), Api("c")]);
        Assert.Equal("b", twin.Lease("m", excluded: ["a"]));
        Clock.Advance(Step);
        Assert.Equal("c", twin.Lease("m", excluded: ["a", "b"]));
        Clock.Advance(Step);
        Assert.Null(twin.Lease("m", excluded: ["a", "b", "c"]));
        Clock.Advance(Step);
        Assert.Equal("a", twin.Lease("m", excluded: ["c"]));
        twin.AssertSameState();
    }

    [Fact]
    public void Should_put_a_pinned_key_first_when_it_can_serve_even_outside_auth_order()
    {
        var twin = Twin([Api("a"), Api("b"), Api("c")], order: ["a", "b"]);
        Clock.Advance(Step);
        Assert.Equal("c", twin.Lease("m", preferred: "c")); // pinned, outside the order
        Clock.Advance(Step);
        Assert.Equal("c", twin.Lease("m", preferred: "c")); // pinned beats the order and recency
        Clock.Advance(Step);
        Assert.Equal("a", twin.Lease("m", excluded: ["c"], preferred: "c")); // tried already: the order again

        twin.Report("c", "m", Failure(FailoverReason.RateLimit));
        twin.Settle();
        Assert.Equal("a", twin.Lease("m", preferred: "c")); // pinned but cooling for m: the order
        Clock.Advance(Step);
        Assert.Equal("c", twin.Lease("m2", preferred: "c")); // free for m2
        Assert.Equal(0, twin.Declined);
        twin.AssertSameState();
    }

    [Fact]
    public void Should_leave_a_pinned_token_that_expired_to_the_actor()
    {
        var twin = Twin([Api("a"), Api("b"), Token("t", TimeSpan.FromMinutes(1))]);
        Assert.Equal("t", twin.Lease("m", preferred: "t"));
        Clock.Advance(TimeSpan.FromMinutes(2));
        twin.Settle();
        var declined = twin.Declined;
        // The actor picks the pinned key, its key actor finds the token expired and sends the lease back for another key.
        Assert.Equal("a", twin.Lease("m", preferred: "t"));
        Assert.Equal(declined + 1, twin.Declined);
        Clock.Advance(Step);
        Assert.Equal("b", twin.Lease("m", excluded: ["a"], preferred: "t"));
        Assert.Equal(declined + 2, twin.Declined);
        Clock.Advance(Step);
        Assert.Equal("a", twin.Lease("m", excluded: ["t"], preferred: "t")); // not pinned any more: the board serves
        Assert.Equal(declined + 2, twin.Declined);
        twin.AssertSameState();
    }

    /// <summary>
    /// Seeded random runs: requests overlap (a key's answer may come after other leases), outcomes of every kind arrive in
    /// any order, the clock jumps across cooldowns, disables and token expiries. Each step starts at a quiescent point.
    /// </summary>
    [Theory]
    [InlineData("plain", 11)]
    [InlineData("plain", 12)]
    [InlineData("order", 21)]
    [InlineData("order", 22)]
    [InlineData("oauth", 31)]
    [InlineData("keyless", 41)]
    public void Should_lease_what_the_actor_leases_through_a_random_run_of_leases_and_outcomes(string config, int seed)
    {
        KeyLeaseBoardKey[] keys = config switch
        {
            "plain" or "order" => [Api("k1"), Api("k2"), Token("t1", TimeSpan.FromMinutes(12)), Api("k3")],
            "oauth" => [Api("k1"), OAuthProfile("o1", TimeSpan.FromMinutes(8)), Token("t1", TimeSpan.FromMinutes(4)), Api("k2")],
            _ => [Keyless, Token("t1", TimeSpan.FromMinutes(4)), Token("t2", TimeSpan.FromMinutes(9))],
        };
        string[]? order = config == "order" ? ["id:t1", "k1", "id:k2"] : null;
        var twin = Twin(keys, order);
        var rng = new Random(seed);
        string[] models = ["m1", "m2"];
        var inFlight = new List<(string Key, string Model, ImmutableHashSet<string> Tried, string? Pinned)>();
        var leases = 0;
        for (var step = 0; step < 100; step++)
        {
            // Settled before the clock moves too: a key actor stamps a report with the time it reads it.
            twin.Settle();
            Clock.Advance(RandomPause(rng));
            twin.Settle();
            if (inFlight.Count == 0 || (inFlight.Count < 4 && rng.Next(2) == 0))
            {
                var model = models[rng.Next(models.Length)];
                var pinned = rng.Next(5) == 0 ? twin.Names[rng.Next(twin.Names.Length)] : null;
                var tried = rng.Next(7) == 0 ? ImmutableHashSet.Create(twin.Names[rng.Next(twin.Names.Length)]) : ImmutableHashSet<string>.Empty;
                if (twin.Lease(model, tried, pinned, $"seed {seed} step {step}") is { } key)
                {
                    inFlight.Add((key, model, tried, pinned));
                    leases++;
                }
                continue;
            }
            var done = inFlight[rng.Next(inFlight.Count)];
            inFlight.Remove(done);
            var outcome = RandomOutcome(rng);
            twin.Report(done.Key, done.Model, outcome);
            // A failed attempt is retried at once on another key of the same request, as the runner rotates on a rate limit.
            if (outcome is AttemptOutcome.Failed && rng.Next(3) > 0)
            {
                var tried = done.Tried.Add(done.Key);
                if (twin.Lease(done.Model, tried, done.Pinned, $"seed {seed} step {step} (retry)") is { } next)
                {
                    inFlight.Add((next, done.Model, tried, done.Pinned));
                    leases++;
                }
            }
        }
        twin.Settle();
        twin.AssertSameState();
        Assert.True(leases >= 20, $"only {leases} leases in the run");
        // The oauth key ranks first, so there the actors serve most leases; elsewhere the board serves most.
        Assert.True(twin.Served >= (config == "oauth" ? 3 : leases / 2), $"the board served only {twin.Served} of {twin.Served + twin.Declined} leases");
    }

    private static TimeSpan RandomPause(Random rng) => rng.Next(100) switch
    {
        < 60 => TimeSpan.FromMilliseconds(1 + rng.Next(2000)),
        < 85 => TimeSpan.FromSeconds(2 + rng.Next(38)),
        < 97 => TimeSpan.FromSeconds(40 + rng.Next(160)),
        _ => TimeSpan.FromMinutes(5 + rng.Next(10)),
    };

    private static AttemptOutcome RandomOutcome(Random rng)
    {
        var roll = rng.Next(100);
        TimeSpan? hint = rng.Next(3) == 0 ? TimeSpan.FromSeconds(5 + rng.Next(115)) : null;
        return roll switch
        {
            < 40 => Success(new TokenUsage(1 + rng.Next(500), 1 + rng.Next(200)), rng.Next(100) / 1000m),
            < 45 => Success(new TokenUsage(10, 10), exhausted: true),
            < 50 => new AttemptOutcome.Cancelled(),
            < 70 => Failure(FailoverReason.RateLimit, hint),
            < 76 => Failure(FailoverReason.Overloaded),
            < 82 => Failure(FailoverReason.ServerError, hint),
            < 86 => Failure(FailoverReason.Timeout),
            < 91 => Failure(FailoverReason.Auth),
            < 94 => Failure(FailoverReason.Billing),
            < 96 => Failure(FailoverReason.AuthPermanent),
            _ => Failure(FailoverReason.Format),
        };
    }

    // ---- 2. What the board leaves to the actors ----

    private static ApiKeyCredential Key(string name, string providerId = "p") => ApiKeyCredential.For(providerId, "secret-" + name, name);

    private IActorRef Provider(ImmutableArray<ApiKeyCredential> keys, KeyLimits? limits = null, CooldownSettings? cooldowns = null,
        ShardedKeys? sharded = null, string id = "p", bool awaitActive = true)
    {
        var definition = new ProviderDefinition
        {
            Id = id, Name = id, Api = "openai-completions", BaseUrl = "http://127.0.0.1:1/v1", Auth = "api-key", Limits = limits ?? KeyLimits.None,
        };
        var provider = Sys.ActorOf(ProviderActor.Props(definition, keys, [], KeySettings.Default with { Cooldowns = cooldowns ?? CooldownSettings.Default }, Failover, hosting: sharded, board: _board),
            ActorNames.Provider(id));
        if (awaitActive) State(provider, id);
        _board.Open();
        return provider;
    }

    /// <summary>The actor at a path, once it exists (a parent creates its children when it starts, after ActorOf returned).</summary>
    private IActorRef Resolve(ActorPath path)
    {
        IActorRef? found = null;
        AwaitAssert(() =>
        {
            Sys.ActorSelection(path).Tell(new Identify(path), TestActor);
            found = ExpectMsg<ActorIdentity>(Patience).Subject;
            Assert.NotNull(found);
        }, Patience);
        return found!;
    }

    private ProviderStateView State(IActorRef provider, string id = "p")
    {
        provider.Tell(new ProviderCommands.GetProviderState(id));
        return ExpectMsg<ProviderStateView>(Patience);
    }

    private LeaseResult Acquire(IActorRef provider, string model = "m", ImmutableHashSet<string>? excluded = null, string? preferred = null)
    {
        provider.Tell(new ProviderCommands.AcquireKey("p", model, excluded ?? []) { PreferredKeyId = preferred });
        return ExpectMsg<LeaseResult>(Patience);
    }

    [Fact]
    public void Should_follow_credentials_orders_and_resets_changed_at_runtime()
    {
        var a = Key("a");
        var provider = Provider([a]);
        var profile = new ApiKeyCredential("p:default", "p", "sk-profile", "auth-profile") { Type = CredentialTypes.Token };

        provider.Tell(new ProviderCommands.UpsertCredential("p", profile));
        State(provider);
        Assert.Equal(profile.Id, _board.TryLease("p", "m", [], null)?.KeyId); // a token ranks before an api key

        provider.Tell(new ProviderCommands.SetOrder("p", [a.Id])); // the store's order wins over auth.order
        State(provider);
        Assert.Equal(a.Id, _board.TryLease("p", "m", [], null)?.KeyId);
        Assert.Equal(a.Id, _board.TryLease("p", "m", [], null)?.KeyId); // the order exactly, not round robin
        Assert.Null(_board.TryLease("p", "m", [a.Id], null)); // the profile is outside the stored order

        provider.Tell(new ProviderCommands.SetOrder("p", []));
        provider.Tell(new ProviderCommands.RemoveCredential("p", profile.Id));
        State(provider);
        Assert.Equal(a.Id, _board.TryLease("p", "m", [], null)?.KeyId);
        Assert.Null(_board.TryLease("p", "m", [a.Id], null));

        provider.Tell(new KeyCommands.ReportOutcome(a.Id, "m", Failure(FailoverReason.Billing)));
        State(provider);
        Assert.Null(_board.TryLease("p", "m", [], null));
        provider.Tell(new ProviderCommands.ResetKey("p", a.Id));
        Assert.True(ExpectMsg<KeyResetDone>(Patience).Found);
        Assert.Equal(a.Id, _board.TryLease("p", "m", [], null)?.KeyId); // answered once the view has the reset
    }

    [Fact]
    public void Should_decline_while_a_stamped_key_change_is_on_its_way_to_the_provider()
    {
        var a = Key("a");
        var b = Key("b");
        var provider = Provider([a, b]);
        var c = Key("c", "p2");
        Provider([c], id: "p2");
        Assert.Equal(a.Id, _board.TryLease("p", "m", [], null)?.KeyId);

        var change = _board.Stamp(new ProviderCommands.SetOrder("p", [b.Id])); // stamped by its sender, not delivered yet
        Assert.Null(_board.TryLease("p", "m", [], null)); // the view predates it: the actor answers, behind the change
        Assert.Equal(c.Id, _board.TryLease("p2", "m", [], null)?.KeyId); // other providers are not held
        var query = new ProviderCommands.GetProviderState("p");
        Assert.Same(query, _board.Stamp(query)); // only key-set changes are stamped
        Assert.Null(_board.TryLease("p", "m", [], null));

        provider.Tell(change);
        State(provider);
        Assert.Equal(b.Id, _board.TryLease("p", "m", [], null)?.KeyId);
        Assert.Equal(b.Id, _board.TryLease("p", "m", [], null)?.KeyId); // the stored order exactly
    }

    [Fact]
    public void Should_leave_an_oauth_pick_to_the_actor_and_serve_a_plain_key_itself()
    {
        var oauth = KeyLeaseBoardKey.OAuthProfile("o", TimeSpan.FromHours(1)).For("p", Clock.Now);
        var a = Key("a");
        var provider = Provider([a, oauth]);

        Assert.Null(_board.TryLease("p", "m", [], null)); // oauth ranks first: its actor owns the token
        Assert.Null(_board.TryLease("p", "m", [], oauth.Id));
        var lease = Assert.IsType<KeyLease>(Acquire(provider));
        Assert.Equal((oauth.Id, oauth.Secret, provider), (lease.KeyId, lease.Secret, lease.KeyActor));

        Assert.Equal(a.Id, _board.TryLease("p", "m", [oauth.Id], null)?.KeyId); // tried already: the plain key is next
        Assert.Equal(a.Id, _board.TryLease("p", "m", [], a.Id)?.KeyId); // pinned plain key
    }

    [Fact]
    public void Should_leave_keys_with_an_rpm_limit_to_their_actor_but_serve_keys_with_only_a_tpm_limit()
    {
        var rpm = Provider([Key("a")], limits: new KeyLimits(100, null));
        Assert.Null(_board.TryLease("p", "m", [], null));
        Assert.IsType<KeyLease>(Acquire(rpm)); // the actor serves it (its key actor counts the minute)

        Provider([Key("b", "p2")], limits: new KeyLimits(null, 100_000), id: "p2");
        Assert.Equal(Key("b", "p2").Id, _board.TryLease("p2", "m", [], null)?.KeyId);
        Assert.Null(_board.TryLease("p", "m", [], null));
    }

    [Fact]
    public void Should_decline_when_the_provider_has_no_keys()
    {
        var provider = Provider([]);
        Assert.Null(_board.TryLease("p", "m", [], null));
        Assert.Equal("No API keys configured for provider \"p\".", Assert.IsType<NoKeyAvailable>(Acquire(provider)).Message);
    }

    [Fact]
    public void Should_decline_when_every_key_is_cooling_and_the_actor_answers_with_the_soonest_recovery()
    {
        var a = Key("a");
        var b = Key("b");
        var provider = Provider([a, b]);
        var t0 = Clock.Now;
        provider.Tell(new KeyCommands.ReportOutcome(a.Id, "m", Failure(FailoverReason.Auth)));
        provider.Tell(new KeyCommands.ReportOutcome(b.Id, "m", Failure(FailoverReason.Auth, TimeSpan.FromMinutes(2))));
        State(provider);
        Assert.Null(_board.TryLease("p", "m", [], null));
        var none = Assert.IsType<NoKeyAvailable>(Acquire(provider));
        Assert.True(none.Cooling);
        Assert.Equal(t0 + TimeSpan.FromSeconds(30), none.RetryAt);

        Clock.Advance(TimeSpan.FromSeconds(30));
        AwaitAssert(() => Assert.Equal(a.Id, _board.TryLease("p", "m", [b.Id], null)?.KeyId), Patience);
    }

    [Fact]
    public void Should_decline_a_key_whose_actor_is_down_and_serve_it_again_once_the_actor_is_restarted()
    {
        var a = Key("a");
        var b = Key("b");
        var provider = Provider([a, b]);
        // The key actor itself, under the backoff supervisor that is the key's handle (which stays).
        var keyActor = Resolve(provider.Path / ActorNames.Key(a.Id) / ActorNames.Key(a.Id));
        Watch(keyActor);
        Sys.Stop(keyActor);
        ExpectTerminated(keyActor);

        // Only a can be picked; a lease taken before the provider saw the stop is harmless to the check.
        AwaitAssert(() => Assert.Null(_board.TryLease("p", "m", [b.Id], null)), Patience);
        Assert.Equal(a.Id, Assert.IsType<KeyLease>(Acquire(provider, excluded: [b.Id])).KeyId); // the actor still serves a plain key

        // Its supervisor starts it again after auth.keys.restartBackoff.minBackoff, stretched by up to randomFactor. The
        // clock moves on at every try: on a loaded machine the supervisor may arm its restart timer only after a first
        // advance (the provider saw the stop first), and a timer armed after the clock moved waits for the next move.
        var backoff = KeySettings.Default.RestartBackoff;
        AwaitAssert(() =>
        {
            Clock.Advance(backoff.MinBackoff * (1 + backoff.RandomFactor));
            Assert.Equal(a.Id, _board.TryLease("p", "m", [b.Id], null)?.KeyId);
        }, Patience);
    }

    [Fact]
    public void Should_decline_while_the_provider_waits_for_its_keys_health_and_serve_once_it_is_known()
    {
        // Sharded keys whose entities (a probe) have not answered yet: the provider is still recovering their health.
        var region = CreateTestProbe();
        var a = Key("a");
        var provider = Provider([a], sharded: new ShardedKeys(region.Ref, new KeyDirectory(), TimeSpan.FromHours(1)), awaitActive: false);
        var attach = (KeyCommands.Attach)region.ExpectMsg<ShardingEnvelope>(Patience).Message;
        Assert.Null(_board.TryLease("p", "m", [], null));
        provider.Tell(new ProviderCommands.AcquireKey("p", "m", []));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // the actor holds leases too
        Assert.Null(_board.TryLease("p", "m", [], null));

        attach.Provider.Tell(new KeyStateChanged(ReadyView(a), KeyHealth.Healthy), region.Ref);
        Assert.Equal(a.Id, ExpectMsg<KeyLease>(Patience).KeyId);
        Assert.Equal(a.Id, _board.TryLease("p", "m", [], null)?.KeyId);
    }

    private static KeyStateView ReadyView(ApiKeyCredential key) =>
        new(key.Id, key.Masked, key.Source, "ready", null, null, 0, ImmutableDictionary<string, int>.Empty, null, 0, 0);

    [Fact]
    public void Should_stay_closed_while_the_registry_waits_for_the_auth_profile_store()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText(
            """models { mode = replace, providers { p { baseUrl = "http://127.0.0.1:9/v1", apiKey = "sk-registry", models = [{ id = "m" }] } } }"""));
        var registry = Sys.ActorOf(ProviderRegistryActor.Props(new ProviderCatalog(settings), new KeySources(_ => null, () => []), settings,
            awaitProfiles: true, board: _board));
        var provider = Resolve(registry.Path / ActorNames.Provider("p"));
        State(provider); // the provider serves (and has published its keys) ...
        Assert.False(_board.IsOpen); // ... but the board stays closed until the store has pushed its profiles
        Assert.Null(_board.TryLease("p", "m", [], null));

        registry.Tell(ProviderCommands.CredentialsLoaded.Instance);
        AwaitCondition(() => _board.IsOpen, Patience);
        Assert.Equal(ApiKeyCredential.For("p", "sk-registry", "models.providers.p.apiKey").Id, _board.TryLease("p", "m", [], null)?.KeyId);
    }

    [Fact]
    public void Should_decline_once_the_provider_stopped()
    {
        var provider = Provider([Key("a")]);
        Assert.NotNull(_board.TryLease("p", "m", [], null));
        Watch(provider);
        Sys.Stop(provider);
        ExpectTerminated(provider);
        Assert.Null(_board.TryLease("p", "m", [], null));
    }

    // ---- 3. A noted failure applies at once ----

    [Fact]
    public void Should_skip_a_key_right_after_its_429_is_noted_before_the_provider_hears_of_it()
    {
        var a = Key("a");
        var b = Key("b");
        var provider = Provider([a, b]);
        Assert.Equal(a.Id, _board.TryLease("p", "m", [], a.Id)?.KeyId);

        // The provider actor is not told at all: only the board knows.
        _board.NoteFailure(provider, "p", a.Id, "m", Failure(FailoverReason.RateLimit));
        Assert.Equal(b.Id, _board.TryLease("p", "m", [], a.Id)?.KeyId);
        Assert.Equal(a.Id, _board.TryLease("p", "m2", [], a.Id)?.KeyId); // the 429 was for m only
        Assert.Equal(a.Id, Assert.IsType<KeyLease>(Acquire(provider, preferred: a.Id)).KeyId); // the actor has not read any report
        Assert.Equal(b.Id, _board.TryLease("p", "m", [], a.Id)?.KeyId); // a lease at the actor does not republish

        // A failure that is the request's fault, or a report to another provider actor, changes nothing.
        _board.NoteFailure(provider, "p", b.Id, "m", Failure(FailoverReason.Format));
        _board.NoteFailure(TestActor, "p", b.Id, "m", Failure(FailoverReason.RateLimit));
        Assert.Equal(b.Id, _board.TryLease("p", "m", [], b.Id)?.KeyId);

        // Both keys limited for m: the board has no key and leaves the answer to the actor.
        _board.NoteFailure(provider, "p", b.Id, "m", Failure(FailoverReason.RateLimit));
        Assert.Null(_board.TryLease("p", "m", [], null));
    }

    // ---- 5. Successes of healthy plain keys are batched ----

    [Fact]
    public void Should_absorb_only_successes_that_change_nothing_but_bookkeeping()
    {
        var a = Key("a");
        var b = Key("b");
        var c = Key("c");
        var provider = Provider([a, b, c]);
        var ok = Success(new TokenUsage(10, 5), 0.01m);

        Assert.True(_board.TryAbsorbSuccess(provider, "p", a.Id, ok));
        Assert.False(_board.TryAbsorbSuccess(provider, "p", a.Id, Success(new TokenUsage(10, 5), exhausted: true))); // a quota to record
        Assert.False(_board.TryAbsorbSuccess(TestActor, "p", a.Id, ok)); // leased from another provider actor
        Assert.False(_board.TryAbsorbSuccess(provider, "p", "p:key-unknown", ok));
        Assert.False(_board.TryAbsorbSuccess(provider, "nope", a.Id, ok));

        _board.NoteFailure(provider, "p", b.Id, "m", Failure(FailoverReason.Overloaded)); // counted, below the cooldown threshold
        Assert.False(_board.TryAbsorbSuccess(provider, "p", b.Id, ok)); // its success must clear the error count
        _board.NoteFailure(provider, "p", c.Id, "m", Failure(FailoverReason.RateLimit)); // a model cooldown
        Assert.False(_board.TryAbsorbSuccess(provider, "p", c.Id, ok));
        Assert.True(_board.TryAbsorbSuccess(provider, "p", a.Id, ok));

        var oauth = KeyLeaseBoardKey.OAuthProfile("o", TimeSpan.FromHours(1)).For("po", Clock.Now);
        var withOAuth = Provider([oauth], id: "po");
        Assert.False(_board.TryAbsorbSuccess(withOAuth, "po", oauth.Id, ok));

        var tpm = Key("t", "pt");
        var limited = Provider([tpm], limits: new KeyLimits(null, 1000), id: "pt");
        Assert.False(_board.TryAbsorbSuccess(limited, "pt", tpm.Id, ok)); // the key actor counts every answer's tokens
    }

    [Fact]
    public void Should_send_one_usage_report_per_key_per_flush_with_the_batched_requests_tokens_and_cost()
    {
        // The key entities are a probe (sharded keys), so every message the provider sends them is seen.
        var region = CreateTestProbe();
        var a = Key("a");
        var b = Key("b");
        var provider = Provider([a, b], sharded: new ShardedKeys(region.Ref, new KeyDirectory(), TimeSpan.FromHours(1)), awaitActive: false);
        for (var i = 0; i < 2; i++)
        {
            var attach = (KeyCommands.Attach)region.ExpectMsg<ShardingEnvelope>(Patience).Message;
            attach.Provider.Tell(new KeyStateChanged(ReadyView(attach.Credential), KeyHealth.Healthy), region.Ref);
        }
        State(provider);

        var t0 = Clock.Now;
        Assert.True(_board.TryAbsorbSuccess(provider, "p", a.Id, Success(new TokenUsage(100, 10), 0.10m)));
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(_board.TryAbsorbSuccess(provider, "p", b.Id, Success(new TokenUsage(7, 3), 0.02m)));
        Assert.True(_board.TryAbsorbSuccess(provider, "p", a.Id, Success(null)));
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(_board.TryAbsorbSuccess(provider, "p", a.Id, Success(new TokenUsage(20, 2, CacheRead: 5), 0.05m)));
        State(provider); // the provider has read that a batch is pending
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // nothing before the flush interval

        Clock.Advance(KeySettings.Default.UsageFlushInterval);
        var reports = new[] { region.ExpectMsg<KeyCommands.ReportUsage>(Patience), region.ExpectMsg<KeyCommands.ReportUsage>(Patience) }
            .ToDictionary(r => r.KeyId);
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // one per key
        Assert.Equal(new KeyCommands.ReportUsage(a.Id, 3, new TokenUsage(120, 12, CacheRead: 5), 0.15m, t0 + TimeSpan.FromMilliseconds(200)), reports[a.Id]);
        Assert.Equal(new KeyCommands.ReportUsage(b.Id, 1, new TokenUsage(7, 3), 0.02m, t0 + TimeSpan.FromMilliseconds(100)), reports[b.Id]);

        // The next batch starts empty and goes out with the next flush.
        Assert.True(_board.TryAbsorbSuccess(provider, "p", b.Id, Success(new TokenUsage(1, 1), 0.001m)));
        State(provider);
        Clock.Advance(KeySettings.Default.UsageFlushInterval);
        Assert.Equal(new KeyCommands.ReportUsage(b.Id, 1, new TokenUsage(1, 1), 0.001m, Clock.Now - KeySettings.Default.UsageFlushInterval),
            region.ExpectMsg<KeyCommands.ReportUsage>(Patience));
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Should_bring_batched_successes_into_the_key_totals_after_the_key_actor_flushes()
    {
        var cooldowns = CooldownSettings.Default with { LastUsedFlushInterval = TimeSpan.FromSeconds(5) };
        var a = Key("a");
        var b = Key("b");
        var provider = Provider([a, b], cooldowns: cooldowns);
        var served = new List<string>();
        foreach (var (usage, cost) in new[] { (new TokenUsage(100, 10), 0.25m), (new TokenUsage(50, 5), 0.10m), (new TokenUsage(1, 1), 0m) })
        {
            Clock.Advance(Step);
            var lease = _board.TryLease("p", "m", [], null)!;
            served.Add(lease.KeyId);
            Assert.True(_board.TryAbsorbSuccess(lease.KeyActor, "p", lease.KeyId, Success(usage, cost)));
        }
        Assert.Equal([a.Id, b.Id, a.Id], served);
        State(provider);
        Clock.Advance(KeySettings.Default.UsageFlushInterval); // the provider sends the batches to the key actors
        State(provider);
        Clock.Advance(cooldowns.LastUsedFlushInterval); // the key actors write them and publish their totals

        AwaitAssert(() =>
        {
            var keys = State(provider).Keys.ToDictionary(k => k.KeyId);
            Assert.Equal((new TokenUsage(101, 11), 0.25m, 2L, "ready"), (keys[a.Id].Usage, keys[a.Id].Cost, keys[a.Id].Requests, keys[a.Id].State));
            Assert.Equal((new TokenUsage(50, 5), 0.10m, 1L, "ready"), (keys[b.Id].Usage, keys[b.Id].Cost, keys[b.Id].Requests, keys[b.Id].State));
        }, Patience);

        // The key actors' own request counts (the provider's view shows its lease counts instead).
        Assert.Equal(2, KeyActorView(provider, a).Requests);
        Assert.Equal(1, KeyActorView(provider, b).Requests);
    }

    /// <summary>The key actor's own view, read by attaching a probe (answered at once with the current state).</summary>
    private KeyStateView KeyActorView(IActorRef provider, ApiKeyCredential key)
    {
        var keyActor = Resolve(provider.Path / ActorNames.Key(key.Id));
        var probe = CreateTestProbe();
        keyActor.Tell(new KeyCommands.Attach(probe.Ref, key, null, KeyLimits.None));
        var view = probe.ExpectMsg<KeyStateChanged>(Patience).View;
        keyActor.Tell(new KeyCommands.Detach(probe.Ref));
        return view;
    }

    // ---- 6. The key actor takes usage batches in every state ----

    private static void AssertHealth(KeyHealth health, DateTimeOffset? cooldownUntil, DateTimeOffset? disabledUntil, int errors, DateTimeOffset? lastUsed)
    {
        Assert.Equal((cooldownUntil, disabledUntil, errors, lastUsed), (health.CooldownUntil, health.DisabledUntil, health.ErrorCount, health.LastUsed));
        Assert.Empty(health.ModelCooldowns);
    }

    [Fact]
    public void Should_count_usage_batches_in_every_state_of_the_key_actor_without_changing_its_health()
    {
        var cooldowns = CooldownSettings.Default with { LastUsedFlushInterval = TimeSpan.FromSeconds(5) };
        var key = Key("k");
        var parent = CreateTestProbe();
        var actor = parent.ChildActorOf(KeyActor.Props(key, cooldowns));
        parent.FishForMessage<KeyStateChanged>(m => m.View.State == "ready", Patience);
        var t0 = Clock.Now;

        // Ready: bookkeeping only, written and published with the next flush.
        actor.Tell(new KeyCommands.ReportUsage(key.Id, 3, new TokenUsage(30, 3), 0.3m, t0));
        Clock.Advance(cooldowns.LastUsedFlushInterval);
        var ready = parent.FishForMessage<KeyStateChanged>(m => m.View.Requests == 3, Patience);
        Assert.Equal("ready", ready.View.State);
        Assert.Equal((new TokenUsage(30, 3), 0.3m), (ready.View.Usage, ready.View.Cost));
        AssertHealth(ready.Health, null, null, 0, t0);
        Assert.Equal((new TokenUsage(30, 3), 0.3m), (ready.Health.UsageTotal, ready.Health.CostTotal));

        // Cooling: a batch is not a success that proves the key works again.
        actor.Tell(new KeyCommands.ReportOutcome(key.Id, "m", Failure(FailoverReason.Auth)));
        var cooling = parent.FishForMessage<KeyStateChanged>(m => m.View.State == "cooling", Patience);
        actor.Tell(new KeyCommands.ReportUsage(key.Id, 2, new TokenUsage(20, 2), 0.2m, Clock.Now));
        Clock.Advance(cooldowns.LastUsedFlushInterval);
        var stillCooling = parent.FishForMessage<KeyStateChanged>(m => m.View.Requests == 6, Patience); // 3 + the failure + 2
        Assert.Equal(("cooling", cooling.View.Until, 1), (stillCooling.View.State, stillCooling.View.Until, stillCooling.View.ErrorCount));
        AssertHealth(stillCooling.Health, cooling.Health.CooldownUntil, null, 1, cooling.Health.LastUsed);
        Assert.Equal(cooling.Health.FailureCounts, stillCooling.Health.FailureCounts);
        Assert.Equal((new TokenUsage(50, 5), 0.5m), (stillCooling.View.Usage, stillCooling.View.Cost));

        // Disabled: the same.
        actor.Tell(new KeyCommands.ReportOutcome(key.Id, "m", Failure(FailoverReason.Billing)));
        var disabled = parent.FishForMessage<KeyStateChanged>(m => m.View.State == "disabled", Patience);
        actor.Tell(new KeyCommands.ReportUsage(key.Id, 4, new TokenUsage(40, 4), 0.4m, Clock.Now));
        Clock.Advance(cooldowns.LastUsedFlushInterval);
        var stillDisabled = parent.FishForMessage<KeyStateChanged>(m => m.View.Requests == 11, Patience);
        Assert.Equal(("disabled", disabled.View.Until), (stillDisabled.View.State, stillDisabled.View.Until));
        AssertHealth(stillDisabled.Health, disabled.Health.CooldownUntil, disabled.Health.DisabledUntil, 2, disabled.Health.LastUsed);
        Assert.Equal(disabled.Health.FailureCounts, stillDisabled.Health.FailureCounts);
        Assert.Equal(disabled.Health.DisabledReason, stillDisabled.Health.DisabledReason);
        Assert.Equal((new TokenUsage(90, 9), 0.9m), (stillDisabled.View.Usage, stillDisabled.View.Cost));

        // The totals were written: a restarted key actor reads them back.
        Watch(actor);
        Sys.Stop(actor);
        ExpectTerminated(actor);
        var parent2 = CreateTestProbe();
        parent2.ChildActorOf(KeyActor.Props(key, cooldowns));
        var recovered = parent2.FishForMessage<KeyStateChanged>(_ => true, Patience);
        Assert.Equal(("disabled", new TokenUsage(90, 9), 0.9m), (recovered.View.State, recovered.View.Usage, recovered.View.Cost));
    }
}
