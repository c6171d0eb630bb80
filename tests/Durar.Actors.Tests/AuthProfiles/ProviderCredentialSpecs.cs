using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Tests.AuthProfiles;

/// <summary>
/// How a provider serves auth profiles: credentials added, updated and removed at runtime, the stored order winning over
/// <c>auth.order</c>, oauth and token keys before api keys, expired tokens skipped. Virtual time.
/// </summary>
public sealed class ProviderCredentialSpecs() : Akka.TestKit.Xunit2.TestKit(Hocon, nameof(ProviderCredentialSpecs))
{
    private static readonly Akka.Configuration.Config Hocon = VirtualTime.Config;

    private static readonly FailoverSettings Failover = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.Failover;
    private static readonly ApiKeyCredential EnvKey = ApiKeyCredential.For("p", "sk-env", "P_API_KEY");

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private IActorRef Provider(ImmutableArray<string> configOrder = default, params ApiKeyCredential[] keys)
    {
        var definition = new ProviderDefinition { Id = "p", Name = "p", Api = "openai-completions", BaseUrl = "http://127.0.0.1:1/v1", Auth = "api-key" };
        return Sys.ActorOf(ProviderActor.Props(definition, [.. keys], configOrder.IsDefault ? [] : configOrder, KeySettings.Default, Failover));
    }

    private static ApiKeyCredential Profile(string type, string secret, DateTimeOffset? expires = null, string id = "p:default") =>
        new(id, "p", secret, "auth-profile") { Type = type, ExpiresAt = expires };

    private string? LeaseSecret(IActorRef provider)
    {
        provider.Tell(new ProviderCommands.AcquireKey("p", "m", []));
        var answer = ExpectMsg<LeaseResult>();
        Clock.Advance(TimeSpan.FromMilliseconds(1)); // distinct last-used times for round-robin
        return (answer as KeyLease)?.Secret;
    }

    [Fact]
    public void Should_serve_a_credential_added_at_runtime_and_stop_when_it_is_removed()
    {
        var provider = Provider();
        provider.Tell(new ProviderCommands.AcquireKey("p", "m", []));
        Assert.Contains("No API keys", ExpectMsg<NoKeyAvailable>().Message);

        provider.Tell(new ProviderCommands.UpsertCredential("p", Profile(CredentialTypes.ApiKey, "sk-profile")));
        Assert.Equal("sk-profile", LeaseSecret(provider));

        provider.Tell(new ProviderCommands.UpsertCredential("p", Profile(CredentialTypes.ApiKey, "sk-profile-rotated")));
        Assert.Equal("sk-profile-rotated", LeaseSecret(provider));

        provider.Tell(new ProviderCommands.RemoveCredential("p", "p:default"));
        provider.Tell(new ProviderCommands.AcquireKey("p", "m", []));
        Assert.IsType<NoKeyAvailable>(ExpectMsg<LeaseResult>());

        // Re-adding the same id right away waits for the old key actor to stop (same name and persistence id).
        provider.Tell(new ProviderCommands.UpsertCredential("p", Profile(CredentialTypes.ApiKey, "sk-profile-back")));
        AwaitAssert(() => Assert.Equal("sk-profile-back", LeaseSecret(provider)));
    }

    [Fact]
    public void Should_use_a_profile_instead_of_the_keyless_stand_in_of_an_optional_key_provider()
    {
        var provider = Provider(default, ApiKeyCredential.Keyless("p"));
        Assert.Null(LeaseSecret(provider));

        provider.Tell(new ProviderCommands.UpsertCredential("p", Profile(CredentialTypes.ApiKey, "sk-profile")));
        AwaitAssert(() => Assert.Equal("sk-profile", LeaseSecret(provider)));
        Assert.Equal("sk-profile", LeaseSecret(provider)); // no round-robin with "no key"

        provider.Tell(new ProviderCommands.RemoveCredential("p", "p:default"));
        Assert.Null(LeaseSecret(provider));
    }

    [Fact]
    public void Should_prefer_oauth_then_token_then_api_keys_without_an_explicit_order()
    {
        var provider = Provider(default, EnvKey);
        provider.Tell(new ProviderCommands.UpsertCredential("p", Profile(CredentialTypes.Token, "tok", id: "p:token@example.com")));
        provider.Tell(new ProviderCommands.UpsertCredential("p", Profile(CredentialTypes.OAuth, "acc", Clock.Now.AddHours(1), "p:oauth@example.com")));

        AwaitAssert(() => Assert.Equal("acc", LeaseSecret(provider)));
        Assert.Equal("acc", LeaseSecret(provider)); // type first, round-robin only within a type
    }

    [Fact]
    public void Should_skip_an_expired_token()
    {
        var provider = Provider(default, EnvKey);
        provider.Tell(new ProviderCommands.UpsertCredential("p", Profile(CredentialTypes.Token, "tok", Clock.Now.AddSeconds(30))));
        AwaitAssert(() => Assert.Equal("tok", LeaseSecret(provider)));

        Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal("sk-env", LeaseSecret(provider));
    }

    [Fact]
    public void Should_let_the_stored_order_win_over_auth_order_until_it_is_cleared()
    {
        var provider = Provider(["p:default"], EnvKey);
        provider.Tell(new ProviderCommands.UpsertCredential("p", Profile(CredentialTypes.ApiKey, "sk-profile")));
        AwaitAssert(() => Assert.Equal("sk-profile", LeaseSecret(provider)));
        Assert.Equal("sk-profile", LeaseSecret(provider)); // auth.order lists only the profile

        provider.Tell(new ProviderCommands.SetOrder("p", ["P_API_KEY"]));
        Assert.Equal("sk-env", LeaseSecret(provider));
        Assert.Equal("sk-env", LeaseSecret(provider)); // keys left out of the stored order are never tried

        provider.Tell(new ProviderCommands.SetOrder("p", []));
        Assert.Equal("sk-profile", LeaseSecret(provider)); // back to auth.order
    }
}
