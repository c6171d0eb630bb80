using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.TestKit;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Tests.Providers;

/// <summary>
/// The key actor's state machine on virtual time (TestKit's TestScheduler drives both the clock and the timers), with the
/// in-memory journal standing in for SQL: cooldown and disable schedules, expiry, success, persistence across restarts.
/// </summary>
public sealed class KeyActorSpecs() : Akka.TestKit.Xunit2.TestKit(Config, nameof(KeyActorSpecs))
{
    private static readonly Akka.Configuration.Config Config = VirtualTime.Config;

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private static readonly ApiKeyCredential Key = ApiKeyCredential.For("openai", "sk-test-key-1", "TEST");

    private (TestProbe Parent, IActorRef Key) Start(ApiKeyCredential? key = null)
    {
        var parent = CreateTestProbe();
        var actor = parent.ChildActorOf(KeyActor.Props(key ?? Key, CooldownSettings.Default));
        ExpectState(parent, "ready");
        return (parent, actor);
    }

    private static KeyStateChanged ExpectState(TestProbe parent, string state)
    {
        var changed = parent.FishForMessage<KeyStateChanged>(m => m.View.State == state, TimeSpan.FromSeconds(5));
        return changed;
    }

    private static KeyCommands.ReportOutcome Failed(FailoverReason reason, string model = "gpt", TimeSpan? retryAfter = null) =>
        new(Key.Id, model, new AttemptOutcome.Failed(reason, new RateLimitHints(retryAfter, false, null), "boom"));

    private static KeyCommands.ReportOutcome Succeeded(RateLimitHints? hints = null) =>
        new(Key.Id, "gpt", new AttemptOutcome.Succeeded(hints ?? RateLimitHints.None, null));

    [Fact]
    public void Should_cool_down_for_30_60_and_300_seconds_and_come_back_when_the_window_ends()
    {
        var (parent, key) = Start();
        var t0 = Clock.Now;

        key.Tell(Failed(FailoverReason.Overloaded)); // below the transient threshold: counted, no cooldown
        Assert.Equal("ready", parent.ExpectMsg<KeyStateChanged>().View.State);

        key.Tell(Failed(FailoverReason.RateLimit, model: null!));
        var first = ExpectState(parent, "cooling");
        Assert.Equal(t0 + TimeSpan.FromSeconds(60), first.View.Until); // errorCount 2 → second step
        Assert.Equal("rate_limit", first.View.Reason);

        Clock.Advance(TimeSpan.FromSeconds(10));
        key.Tell(Failed(FailoverReason.Auth));
        var third = ExpectState(parent, "cooling");
        Assert.Equal(Clock.Now + TimeSpan.FromMinutes(5), third.View.Until); // capped at 5 min
        Assert.Equal(3, third.View.ErrorCount);

        Clock.Advance(TimeSpan.FromMinutes(5));
        var back = ExpectState(parent, "ready");
        Assert.Null(back.View.Until);
    }

    [Fact]
    public void Should_use_the_longer_retry_after_and_never_shorten_an_active_cooldown()
    {
        var (parent, key) = Start();
        var t0 = Clock.Now;
        key.Tell(new KeyCommands.ReportOutcome(Key.Id, "gpt", new AttemptOutcome.Failed(FailoverReason.Auth, new RateLimitHints(TimeSpan.FromMinutes(10), false, null), "x")));
        Assert.Equal(t0 + TimeSpan.FromMinutes(10), ExpectState(parent, "cooling").View.Until);

        Clock.Advance(TimeSpan.FromSeconds(5));
        key.Tell(Failed(FailoverReason.Auth)); // schedule says 60 s: must not shorten the 10 min
        Assert.Equal(t0 + TimeSpan.FromMinutes(10), parent.ExpectMsg<KeyStateChanged>().View.Until);
    }

    [Fact]
    public void Should_scope_rate_limit_cooldowns_to_the_model()
    {
        var (parent, key) = Start();
        key.Tell(Failed(FailoverReason.RateLimit, model: "gpt-a"));
        var changed = ExpectState(parent, "cooling");
        Assert.NotNull(KeyHealthPolicy.BlockedUntil(changed.Health, "gpt-a", Clock.Now));
        Assert.NotNull(KeyHealthPolicy.BlockedUntil(changed.Health, "GPT-A", Clock.Now));
        Assert.Null(KeyHealthPolicy.BlockedUntil(changed.Health, "gpt-b", Clock.Now));
    }

    [Fact]
    public void Should_disable_on_billing_for_10_minutes_without_extending_inside_the_window_then_double()
    {
        var (parent, key) = Start();
        var t0 = Clock.Now;
        key.Tell(Failed(FailoverReason.Billing));
        var disabled = ExpectState(parent, "disabled");
        Assert.Equal(t0 + TimeSpan.FromMinutes(10), disabled.View.Until);
        Assert.Equal("billing", disabled.View.Reason);

        Clock.Advance(TimeSpan.FromMinutes(5));
        key.Tell(Failed(FailoverReason.Billing));
        Assert.Equal(t0 + TimeSpan.FromMinutes(10), parent.ExpectMsg<KeyStateChanged>().View.Until);

        Clock.Advance(TimeSpan.FromMinutes(5));
        ExpectState(parent, "ready");
        key.Tell(Failed(FailoverReason.Billing));
        Assert.Equal(Clock.Now + TimeSpan.FromMinutes(40), ExpectState(parent, "disabled").View.Until); // third billing failure in the window
    }

    [Fact]
    public void Should_disable_on_auth_permanent_up_to_the_60_minute_cap()
    {
        var (parent, key) = Start();
        var expected = new[] { 10, 20, 40, 60, 60 };
        foreach (var minutes in expected)
        {
            key.Tell(Failed(FailoverReason.AuthPermanent));
            Assert.Equal(Clock.Now + TimeSpan.FromMinutes(minutes), ExpectState(parent, "disabled").View.Until);
            Clock.Advance(TimeSpan.FromMinutes(minutes));
            ExpectState(parent, "ready");
        }
    }

    [Fact]
    public void Should_clear_everything_on_success_while_cooling()
    {
        var (parent, key) = Start();
        key.Tell(Failed(FailoverReason.RateLimit, model: null!));
        ExpectState(parent, "cooling");
        key.Tell(Succeeded());
        var ready = ExpectState(parent, "ready");
        Assert.Equal(0, ready.View.ErrorCount);
        Assert.Empty(ready.View.FailureCounts);
    }

    [Fact]
    public void Should_reset_the_error_count_after_the_failure_window()
    {
        var (parent, key) = Start();
        key.Tell(Failed(FailoverReason.RateLimit, model: null!));
        key.Tell(Failed(FailoverReason.RateLimit, model: null!));
        Assert.Equal(2, parent.FishForMessage<KeyStateChanged>(m => m.View.ErrorCount == 2).View.ErrorCount);

        Clock.Advance(TimeSpan.FromHours(25));
        ExpectState(parent, "ready");
        key.Tell(Failed(FailoverReason.RateLimit, model: null!));
        var fresh = ExpectState(parent, "cooling");
        Assert.Equal(1, fresh.View.ErrorCount);
        Assert.Equal(Clock.Now + TimeSpan.FromSeconds(30), fresh.View.Until);
    }

    [Fact]
    public void Should_cool_down_before_a_429_when_the_headers_say_the_quota_is_spent()
    {
        var (parent, key) = Start();
        key.Tell(Succeeded(new RateLimitHints(null, true, TimeSpan.FromSeconds(20))));
        var changed = ExpectState(parent, "cooling");
        Assert.Equal(Clock.Now + TimeSpan.FromSeconds(20), changed.View.Until);
        Assert.Equal(0, changed.View.ErrorCount);
    }

    [Fact]
    public void Should_not_cool_down_for_request_errors()
    {
        var (parent, key) = Start();
        foreach (var reason in new[] { FailoverReason.Format, FailoverReason.ContextOverflow, FailoverReason.ModelNotFound })
        {
            key.Tell(Failed(reason));
            var view = parent.ExpectMsg<KeyStateChanged>().View;
            Assert.Equal("ready", view.State);
            Assert.Equal(0, view.ErrorCount);
        }
    }

    [Fact]
    public void Should_keep_a_cooldown_across_a_restart_and_clear_it_on_operator_reset()
    {
        var credential = ApiKeyCredential.For("openai", "sk-persisted", "TEST");
        var (parent, key) = Start(credential);
        key.Tell(new KeyCommands.ReportOutcome(credential.Id, "gpt", new AttemptOutcome.Failed(FailoverReason.Billing, RateLimitHints.None, "x")));
        var until = ExpectState(parent, "disabled").View.Until;

        Watch(key);
        Sys.Stop(key);
        ExpectTerminated(key);

        var parent2 = CreateTestProbe();
        var revived = parent2.ChildActorOf(KeyActor.Props(credential, CooldownSettings.Default));
        var recovered = ExpectState(parent2, "disabled");
        Assert.Equal(until, recovered.View.Until);

        revived.Tell(new ProviderCommands.ResetKey("openai", credential.Id));
        ExpectMsg<KeyResetDone>(d => d.Found && d.KeyId == credential.Id);
        ExpectState(parent2, "ready");
    }

    [Fact]
    public void Should_lease_its_key_to_the_sender()
    {
        var (_, key) = Start();
        key.Tell(new ProviderCommands.AcquireKey("openai", "gpt", []));
        var lease = ExpectMsg<KeyLease>();
        Assert.Equal(Key.Id, lease.KeyId);
        Assert.Equal("sk-test-key-1", lease.Secret);
        Assert.DoesNotContain("sk-test", lease.ToString());
    }

    [Fact]
    public void Should_snapshot_a_busy_healthy_key_whose_usage_events_count_toward_the_snapshot_interval()
    {
        var credential = ApiKeyCredential.For("openai", "sk-busy-key", "TEST");
        var settings = KeySettings.Default with { SnapshotEvery = 3 };
        var parent = CreateTestProbe();
        var key = parent.ChildActorOf(KeyActor.Props(credential, settings));
        ExpectState(parent, "ready");

        // Only successes: each flush journals one Used event and nothing else.
        for (var i = 0; i < 3; i++)
        {
            key.Tell(new KeyCommands.ReportUsage(credential.Id, 5, null, 1m, Clock.Now));
            Clock.Advance(settings.Cooldowns.LastUsedFlushInterval);
            parent.FishForMessage<KeyStateChanged>(_ => true, TimeSpan.FromSeconds(5));
        }

        var store = Persistence.Instance.Apply(Sys).SnapshotStoreFor(null);
        AwaitAssert(() =>
        {
            store.Tell(new LoadSnapshot("key-" + credential.Id, SnapshotSelectionCriteria.Latest, long.MaxValue), TestActor);
            var loaded = ExpectMsg<LoadSnapshotResult>();
            Assert.NotNull(loaded.Snapshot);
            Assert.Equal(3, loaded.Snapshot.Metadata.SequenceNr);
            Assert.Equal(3m, ((KeyHealthSnapshot)loaded.Snapshot.Snapshot).Health.CostTotal);
        }, TimeSpan.FromSeconds(5));
    }
}
