using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Tests.Providers;

/// <summary>The provider actor's key choice: round-robin, explicit order, cooling keys skipped, soonest recovery, probes.</summary>
public sealed class ProviderActorSpecs() : Akka.TestKit.Xunit2.TestKit(Hocon, nameof(ProviderActorSpecs))
{
    private static readonly Akka.Configuration.Config Hocon = VirtualTime.Config;

    private static readonly FailoverSettings Failover = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.Failover;
    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private static readonly ApiKeyCredential A = ApiKeyCredential.For("p", "secret-a", "P_API_KEY_1");
    private static readonly ApiKeyCredential B = ApiKeyCredential.For("p", "secret-b", "P_API_KEY_2");

    private IActorRef Provider(ImmutableArray<string> order = default, params ApiKeyCredential[] keys)
    {
        var definition = new ProviderDefinition { Id = "p", Name = "p", Api = "openai-completions", BaseUrl = "http://127.0.0.1:1/v1", Auth = "api-key" };
        return Sys.ActorOf(ProviderActor.Props(definition, [.. keys], order.IsDefault ? [] : order, KeySettings.Default, Failover));
    }

    private KeyLease Lease(IActorRef provider, ProbeMode probe = ProbeMode.None, params string[] excluded)
    {
        provider.Tell(new ProviderCommands.AcquireKey("p", "m", [.. excluded], probe));
        return ExpectMsg<KeyLease>();
    }

    private void RateLimit(KeyLease lease, TimeSpan? retryAfter = null)
    {
        lease.KeyActor.Tell(new KeyCommands.ReportOutcome(lease.KeyId, "m",
            new AttemptOutcome.Failed(FailoverReason.RateLimit, new RateLimitHints(retryAfter, false, null), "429")));
    }

    [Fact]
    public void Should_rotate_round_robin_across_healthy_keys()
    {
        var provider = Provider(default, A, B);
        var first = Lease(provider).KeyId;
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        var second = Lease(provider).KeyId;
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        var third = Lease(provider).KeyId;
        Assert.NotEqual(first, second);
        Assert.Equal(first, third);
    }

    [Fact]
    public void Should_skip_a_cooling_key_and_report_the_soonest_recovery_when_all_cool()
    {
        var provider = Provider(default, A, B);
        var a = Lease(provider);
        RateLimit(a);
        AwaitAssert(() => Assert.Equal(B.Id, Lease(provider).KeyId), TimeSpan.FromSeconds(15));

        var b = Lease(provider);
        RateLimit(b, TimeSpan.FromMinutes(2));
        AwaitAssert(() =>
        {
            provider.Tell(new ProviderCommands.AcquireKey("p", "m", []));
            var none = ExpectMsg<NoKeyAvailable>();
            Assert.True(none.Cooling);
            Assert.Equal(FailoverReason.RateLimit, none.Reason);
            Assert.Equal(Clock.Now + TimeSpan.FromSeconds(30), none.RetryAt); // key A recovers first
            Assert.Contains("in cooldown", none.Message);
        }, TimeSpan.FromSeconds(15));
    }

    [Fact]
    public void Should_allow_one_probe_per_interval_while_every_key_cools()
    {
        var provider = Provider(default, A);
        RateLimit(Lease(provider), TimeSpan.FromMinutes(10));
        AwaitAssert(() =>
        {
            provider.Tell(new ProviderCommands.AcquireKey("p", "m", []));
            ExpectMsg<NoKeyAvailable>();
        }, TimeSpan.FromSeconds(15));

        Assert.Equal(A.Id, Lease(provider, ProbeMode.Throttled).KeyId);
        provider.Tell(new ProviderCommands.AcquireKey("p", "m", [], ProbeMode.Throttled));
        ExpectMsg<NoKeyAvailable>(); // the probe slot is used for this interval
        Clock.Advance(Failover.ProbeInterval);
        Assert.Equal(A.Id, Lease(provider, ProbeMode.Throttled).KeyId);

        // The primary is probed only from the margin before its recovery.
        Clock.Advance(Failover.ProbeInterval);
        provider.Tell(new ProviderCommands.AcquireKey("p", "m", [], ProbeMode.PrimaryMargin));
        ExpectMsg<NoKeyAvailable>();
    }

    [Fact]
    public void Should_keep_an_explicit_order_and_never_use_keys_outside_it()
    {
        var provider = Provider(["P_API_KEY_2"], A, B);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(B.Id, Lease(provider).KeyId);
            Clock.Advance(TimeSpan.FromMilliseconds(1));
        }
        provider.Tell(new ProviderCommands.AcquireKey("p", "m", [B.Id]));
        var none = ExpectMsg<NoKeyAvailable>();
        Assert.Contains("outside auth.order", none.Message);
    }

    [Fact]
    public void Should_answer_no_keys_configured_in_the_reference_wording()
    {
        var provider = Provider(default);
        provider.Tell(new ProviderCommands.AcquireKey("p", "m", []));
        Assert.Equal("No API keys configured for provider \"p\".", ExpectMsg<NoKeyAvailable>().Message);
    }
}
