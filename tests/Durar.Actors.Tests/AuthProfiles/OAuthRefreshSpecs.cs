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
/// The single writer of an OAuth profile's access token: its key actor refreshes once however many leases wait, stashes them
/// meanwhile, leases the new token to all of them and writes it back to the owner; a failed refresh sends the waiting leases
/// to another key. Runs on virtual time (TestScheduler) with a scripted token client.
/// </summary>
public sealed class OAuthRefreshSpecs() : Akka.TestKit.Xunit2.TestKit(Hocon, nameof(OAuthRefreshSpecs))
{
    private static readonly Akka.Configuration.Config Hocon = VirtualTime.Config;

    private static readonly OAuthGrant Grant = new("refresh-old-0001", "https://auth.example.com/oauth/token", "client-1");

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private ApiKeyCredential OAuth(TimeSpan expiresIn, string access = "access-old-0001") =>
        new("openai:default", "openai", access, "auth-profile") { Type = CredentialTypes.OAuth, ExpiresAt = Clock.Now + expiresIn, OAuth = Grant };

    private (TestProbe Parent, TestProbe Owner, IActorRef Key) Start(ApiKeyCredential credential, IOAuthTokenClient tokens)
    {
        var parent = CreateTestProbe();
        var owner = CreateTestProbe();
        var key = parent.ChildActorOf(KeyActor.Props(credential, KeySettings.Default, tokens, owner));
        parent.FishForMessage<KeyStateChanged>(m => m.View.State == "ready");
        return (parent, owner, key);
    }

    private static ProviderCommands.AcquireKey Acquire() => new("openai", "gpt", []);

    [Fact]
    public void Should_refresh_once_for_ten_concurrent_leases_and_lease_the_new_token_to_all_of_them()
    {
        var tokens = new ScriptedTokenClient();
        var (parent, owner, key) = Start(OAuth(TimeSpan.FromMinutes(-1)), tokens);

        for (var i = 0; i < 10; i++) key.Tell(Acquire());

        AwaitCondition(() => tokens.Calls == 1);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // every lease waits for the refresh
        Assert.Equal(Grant, tokens.Grants.Single());

        tokens.Complete(new OAuthTokens("access-new-0002", "refresh-new-0002", TimeSpan.FromHours(1)));

        var leases = Enumerable.Range(0, 10).Select(_ => ExpectMsg<KeyLease>()).ToList();
        Assert.All(leases, lease => Assert.Equal("access-new-0002", lease.Secret));
        Assert.Equal(1, tokens.Calls);
        var written = owner.ExpectMsg<CredentialRefreshed>();
        Assert.Equal(("openai:default", "access-new-0002", "refresh-new-0002"), (written.KeyId, written.AccessToken, written.RefreshToken));
        Assert.Equal(Clock.Now + TimeSpan.FromHours(1), written.ExpiresAt);
        Assert.DoesNotContain("access-new", written.ToString());
        var changed = parent.FishForMessage<KeyCredentialChanged>(_ => true);
        Assert.Equal("refresh-new-0002", changed.Credential.OAuth!.RefreshToken);

        // The new token is good for an hour: the next lease does not refresh.
        key.Tell(Acquire());
        Assert.Equal("access-new-0002", ExpectMsg<KeyLease>().Secret);
        Assert.Equal(1, tokens.Calls);
    }

    [Fact]
    public void Should_refresh_within_a_minute_of_expiry_and_not_before()
    {
        var tokens = new ScriptedTokenClient();
        var (_, owner, key) = Start(OAuth(TimeSpan.FromMinutes(5)), tokens);

        key.Tell(Acquire());
        Assert.Equal("access-old-0001", ExpectMsg<KeyLease>().Secret);
        Assert.Equal(0, tokens.Calls);

        Clock.Advance(TimeSpan.FromMinutes(4) + TimeSpan.FromSeconds(1)); // 59 s left
        key.Tell(Acquire());
        AwaitCondition(() => tokens.Calls == 1);
        tokens.Complete(new OAuthTokens("access-new-0003", null, null));

        Assert.Equal("access-new-0003", ExpectMsg<KeyLease>().Secret);
        var written = owner.ExpectMsg<CredentialRefreshed>();
        Assert.Equal("refresh-old-0001", written.RefreshToken); // the endpoint kept the refresh token
        Assert.Equal(Clock.Now + TimeSpan.FromHours(1), written.ExpiresAt); // expires_in omitted: one hour assumed
    }

    [Fact]
    public void Should_send_waiting_leases_to_another_key_and_disable_the_key_when_the_grant_is_refused()
    {
        var tokens = new ScriptedTokenClient();
        var (parent, owner, key) = Start(OAuth(TimeSpan.FromMinutes(-1)), tokens);

        key.Tell(Acquire());
        key.Tell(Acquire());
        AwaitCondition(() => tokens.Calls == 1);
        tokens.Fail(new OAuthRefreshException("token endpoint answered 400 (invalid_grant)", permanent: true));

        parent.FishForMessage<KeyStateChanged>(m => m.View.State == "disabled");
        var redirected = new[] { parent.FishForMessage<ProviderCommands.AcquireKey>(_ => true), parent.FishForMessage<ProviderCommands.AcquireKey>(_ => true) };
        Assert.All(redirected, a => Assert.Contains("openai:default", a.Excluded));
        Assert.Equal(TestActor, parent.LastSender); // still answered to the original requester
        owner.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        Assert.Equal(1, tokens.Calls);
    }

    [Fact]
    public void Should_serve_a_refresh_only_profile_after_its_first_refresh()
    {
        var tokens = new ScriptedTokenClient();
        var credential = new ApiKeyCredential("openai:default", "openai", null, "auth-profile")
            { Type = CredentialTypes.OAuth, ExpiresAt = DateTimeOffset.MinValue, OAuth = Grant };
        var (_, _, key) = Start(credential, tokens);

        key.Tell(Acquire());
        AwaitCondition(() => tokens.Calls == 1);
        tokens.Complete(new OAuthTokens("access-first-0004", null, TimeSpan.FromMinutes(30)));

        Assert.Equal("access-first-0004", ExpectMsg<KeyLease>().Secret);
    }

    [Fact]
    public void Should_never_lease_an_expired_token_without_a_refresh_token()
    {
        var credential = new ApiKeyCredential("openai:default", "openai", "tok-0005", "auth-profile")
            { Type = CredentialTypes.Token, ExpiresAt = Clock.Now + TimeSpan.FromSeconds(10) };
        var (parent, _, key) = Start(credential, new ScriptedTokenClient());

        key.Tell(Acquire());
        Assert.Equal("tok-0005", ExpectMsg<KeyLease>().Secret);

        Clock.Advance(TimeSpan.FromSeconds(10));
        key.Tell(Acquire());
        Assert.Contains("openai:default", parent.FishForMessage<ProviderCommands.AcquireKey>(_ => true).Excluded);
        ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void Should_refresh_once_through_the_provider_and_order_oauth_before_api_keys()
    {
        var tokens = new ScriptedTokenClient();
        var definition = new ProviderDefinition { Id = "openai", Name = "openai", Api = "openai-completions", BaseUrl = "http://127.0.0.1:1/v1", Auth = "api-key" };
        var envKey = ApiKeyCredential.For("openai", "sk-env-key", "OPENAI_API_KEY");
        var failover = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Gateway.Failover;
        var provider = Sys.ActorOf(ProviderActor.Props(definition, [envKey], [], KeySettings.Default, failover, tokens));
        var owner = CreateTestProbe();

        provider.Tell(new ProviderCommands.UpsertCredential("openai", OAuth(TimeSpan.FromMinutes(-1))), owner);
        for (var i = 0; i < 10; i++) provider.Tell(Acquire());
        AwaitCondition(() => tokens.Calls == 1);
        tokens.Complete(new OAuthTokens("access-new-0006", "refresh-new-0006", TimeSpan.FromHours(1)));

        var leases = Enumerable.Range(0, 10).Select(_ => ExpectMsg<KeyLease>()).ToList();
        Assert.All(leases, l => Assert.Equal(("openai:default", "access-new-0006"), (l.KeyId, l.Secret)));
        Assert.Equal("access-new-0006", owner.ExpectMsg<CredentialRefreshed>().AccessToken);
        Assert.Equal(1, tokens.Calls);
    }

    /// <summary>A token client whose one pending call the spec completes or fails; counts calls.</summary>
    private sealed class ScriptedTokenClient : IOAuthTokenClient
    {
        private readonly Lock _gate = new();
        private readonly List<OAuthGrant> _grants = [];
        private TaskCompletionSource<OAuthTokens> _pending = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Calls
        {
            get
            {
                lock (_gate) return _grants.Count;
            }
        }

        public IReadOnlyList<OAuthGrant> Grants
        {
            get
            {
                lock (_gate) return _grants.ToArray();
            }
        }

        public Task<OAuthTokens> RefreshAsync(OAuthGrant grant, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                _grants.Add(grant);
                return _pending.Task;
            }
        }

        public void Complete(OAuthTokens tokens) => Next().SetResult(tokens);

        public void Fail(Exception e) => Next().SetException(e);

        private TaskCompletionSource<OAuthTokens> Next()
        {
            lock (_gate)
            {
                var current = _pending;
                _pending = new TaskCompletionSource<OAuthTokens>(TaskCreationOptions.RunContinuationsAsynchronously);
                return current;
            }
        }
    }
}
