using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Chat;

namespace Durar.Actors.Tests.Providers;

/// <summary>
/// Per-key <c>rpm</c>/<c>tpm</c> limits held by the key actor (the single counter of its minute window), and the provider's
/// local view taking a failure into account before the key actor answers.
/// </summary>
public sealed class KeyLimitSpecs() : Akka.TestKit.Xunit2.TestKit(VirtualTime.Config, nameof(KeyLimitSpecs))
{
    private static readonly FailoverSettings Failover = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.Failover;
    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private static readonly ApiKeyCredential A = ApiKeyCredential.For("p", "secret-a", "P_API_KEY_1");
    private static readonly ApiKeyCredential B = ApiKeyCredential.For("p", "secret-b", "P_API_KEY_2");

    private IActorRef Provider(KeyLimits limits, params ApiKeyCredential[] keys)
    {
        var definition = new ProviderDefinition
        {
            Id = "p", Name = "p", Api = "openai-completions", BaseUrl = "http://127.0.0.1:1/v1", Auth = "api-key", Limits = limits,
        };
        return Sys.ActorOf(ProviderActor.Props(definition, [.. keys], [], KeySettings.Default, Failover));
    }

    private LeaseResult Acquire(IActorRef provider)
    {
        provider.Tell(new ProviderCommands.AcquireKey("p", "m", []));
        return ExpectMsg<LeaseResult>();
    }

    [Fact]
    public void Should_admit_rpm_requests_per_minute_then_answer_with_the_window_end_and_admit_again_after_it()
    {
        var provider = Provider(new KeyLimits(3, null), A);
        var t0 = Clock.Now;
        for (var i = 0; i < 3; i++)
        {
            Assert.IsType<KeyLease>(Acquire(provider));
            Clock.Advance(TimeSpan.FromSeconds(1));
        }

        var none = Assert.IsType<NoKeyAvailable>(Acquire(provider));
        Assert.Equal(FailoverReason.RateLimit, none.Reason);
        Assert.Equal(t0 + TimeSpan.FromMinutes(1), none.RetryAt); // the oldest of the three leaves the window first

        Clock.Advance(t0 + TimeSpan.FromMinutes(1) - Clock.Now);
        Assert.IsType<KeyLease>(Acquire(provider));
        Assert.IsType<NoKeyAvailable>(Acquire(provider)); // the second and third are still in the window
    }

    [Fact]
    public void Should_move_to_the_next_key_when_the_first_spends_its_minute()
    {
        var provider = Provider(new KeyLimits(2, null), A, B);
        var served = Enumerable.Range(0, 4).Select(_ => ((KeyLease)Acquire(provider)).KeyId).ToList();
        Assert.Equal(2, served.Count(k => k == A.Id));
        Assert.Equal(2, served.Count(k => k == B.Id));
        Assert.IsType<NoKeyAvailable>(Acquire(provider));

        provider.Tell(new ProviderCommands.GetProviderState("p"));
        var view = ExpectMsg<ProviderStateView>();
        Assert.All(view.Keys, k => Assert.Equal("limited", k.State));
    }

    [Fact]
    public void Should_stop_leasing_a_key_once_its_answers_spend_the_tpm_and_lease_it_again_when_they_leave_the_window()
    {
        var provider = Provider(new KeyLimits(null, 1000), A);
        var t0 = Clock.Now;
        var first = (KeyLease)Acquire(provider);
        first.KeyActor.Tell(new KeyCommands.ReportOutcome(first.KeyId, "m", new AttemptOutcome.Succeeded(RateLimitHints.None, new TokenUsage(300, 300))));
        var second = (KeyLease)Acquire(provider); // at most 600 of 1000 spent: still admitted
        second.KeyActor.Tell(new KeyCommands.ReportOutcome(second.KeyId, "m", new AttemptOutcome.Succeeded(RateLimitHints.None, new TokenUsage(200, 200))));

        AwaitAssert(() =>
        {
            var none = Assert.IsType<NoKeyAvailable>(Acquire(provider));
            Assert.Equal(t0 + TimeSpan.FromMinutes(1), none.RetryAt); // 1000 spent: under the limit once the answers leave the window
        }, TimeSpan.FromSeconds(5));

        Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.IsType<KeyLease>(Acquire(provider));
    }

    [Fact]
    public void Should_skip_a_key_on_the_very_next_lease_after_its_429_is_reported()
    {
        var provider = Provider(KeyLimits.None, A, B);
        // No waiting in between: the report and the next lease are queued back to back, as with two requests in a row.
        for (var round = 0; round < 20; round++)
        {
            var lease = (KeyLease)Acquire(provider);
            lease.KeyActor.Tell(new KeyCommands.ReportOutcome(lease.KeyId, "m",
                new AttemptOutcome.Failed(FailoverReason.RateLimit, RateLimitHints.None, "429")));
            provider.Tell(new ProviderCommands.AcquireKey("p", "m", []));
            var next = ExpectMsg<LeaseResult>();
            if (next is KeyLease other) Assert.NotEqual(lease.KeyId, other.KeyId);
            else Assert.True(((NoKeyAvailable)next).Cooling);
            provider.Tell(new ProviderCommands.ResetKey("p", A.Id));
            ExpectMsg<KeyResetDone>();
            provider.Tell(new ProviderCommands.ResetKey("p", B.Id));
            ExpectMsg<KeyResetDone>();
            AwaitAssert(() =>
            {
                provider.Tell(new ProviderCommands.GetProviderState("p"));
                Assert.All(ExpectMsg<ProviderStateView>().Keys, k => Assert.Equal("ready", k.State));
            }, TimeSpan.FromSeconds(3));
        }
    }
}
