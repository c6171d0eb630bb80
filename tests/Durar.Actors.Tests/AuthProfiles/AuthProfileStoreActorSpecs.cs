using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.TestKit;
using Durar.Actors.AuthProfiles;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Tests.AuthProfiles;

/// <summary>
/// The auth-profile store on the in-memory journal with the real Data Protection protector (key ring in a temp folder) and a
/// probe standing in for the provider registry: events, encryption at the event level, recovery, eligibility, orders.
/// </summary>
public sealed class AuthProfileStoreActorSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Akka.Configuration.Config Hocon = InMemoryPersistence.Config;

    private static readonly IReadOnlySet<string> Known = ImmutableHashSet.Create(StringComparer.Ordinal, "openai", "anthropic");

    private readonly string _dataDir = Directory.CreateTempSubdirectory("durar-profiles-").FullName;
    private readonly DataProtectionSecretProtector _protector;
    private readonly TestProbe _providers;

    public AuthProfileStoreActorSpecs() : base(Hocon, nameof(AuthProfileStoreActorSpecs))
    {
        _protector = DataProtectionSecretProtector.ForDataDirectory(_dataDir);
        _providers = CreateTestProbe();
    }

    private IActorRef Start(ImmutableDictionary<string, AuthProfileSettings>? config = null)
    {
        var store = Sys.ActorOf(AuthProfileStoreActor.Props(_protector, _providers, Known, config ?? ImmutableDictionary<string, AuthProfileSettings>.Empty));
        _providers.FishForMessage(m => m is ProviderCommands.CredentialsLoaded);
        return store;
    }

    private IActorRef Restart(IActorRef store)
    {
        Watch(store);
        Sys.Stop(store);
        ExpectTerminated(store);
        return Sys.ActorOf(AuthProfileStoreActor.Props(_protector, _providers, Known, ImmutableDictionary<string, AuthProfileSettings>.Empty));
    }

    private AuthProfileSaved Upsert(IActorRef store, AuthProfileInput input)
    {
        store.Tell(new AuthProfileCommands.UpsertProfile(input));
        return ExpectMsg<AuthProfileSaved>();
    }

    /// <summary>Every event of the store as the journal holds it (read back by a second persistent actor with the same id).</summary>
    private IReadOnlyList<IAuthProfileEvent> JournalEvents()
    {
        var reader = CreateTestProbe();
        Sys.ActorOf(Props.Create(() => new JournalReader(reader)));
        var events = new List<IAuthProfileEvent>();
        while (reader.ExpectMsg<object>() is IAuthProfileEvent e) events.Add(e);
        return events;
    }

    [Fact]
    public void Should_persist_a_profile_with_its_secret_encrypted_and_serve_it_under_its_profile_id()
    {
        const string secret = "sk-live-profile-secret-1234";
        var store = Start();

        var saved = Upsert(store, new AuthProfileInput("openai", "api_key", Key: secret));

        Assert.True(saved.Created);
        Assert.Equal("openai:default", saved.Profile.Id);
        Assert.Equal("…1234", saved.Profile.Key);
        Assert.True(saved.Profile.Eligible);
        var served = _providers.ExpectMsg<ProviderCommands.UpsertCredential>();
        Assert.Equal(("openai", "openai:default", secret, CredentialTypes.ApiKey), (served.ProviderId, served.Credential.Id, served.Credential.Secret, served.Credential.Type));

        var upserted = Assert.IsType<AuthProfileEvents.ProfileUpserted>(Assert.Single(JournalEvents()));
        Assert.NotNull(upserted.Profile.ProtectedKey);
        Assert.DoesNotContain(secret, upserted.Profile.ProtectedKey);
        Assert.DoesNotContain("1234", upserted.Profile.ProtectedKey);
        Assert.Equal(secret, _protector.Unprotect(upserted.Profile.ProtectedKey!, SecretBinding.Of("openai:default", "key")));
    }

    [Fact]
    public void Should_encrypt_every_secret_of_token_and_oauth_profiles()
    {
        var store = Start();
        var expires = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds();
        Upsert(store, new AuthProfileInput("anthropic", "token", Token: "tok-secret-aaaa", Expires: expires));
        Upsert(store, new AuthProfileInput("openai", "oauth", Email: "ops@example.com", Access: "acc-secret-bbbb", Refresh: "ref-secret-cccc",
            Expires: expires, TokenUrl: "https://auth.example.com/oauth/token", ClientId: "client-1"));

        var events = JournalEvents().Cast<AuthProfileEvents.ProfileUpserted>().ToList();
        var token = events.Single(e => e.Profile.Type == "token").Profile;
        var oauth = events.Single(e => e.Profile.Type == "oauth").Profile;
        Assert.Equal("tok-secret-aaaa", _protector.Unprotect(token.ProtectedToken!, SecretBinding.Of(token.Id, "token")));
        Assert.Equal(expires, token.Expires);
        Assert.Equal("openai:ops@example.com", oauth.Id);
        Assert.Equal("acc-secret-bbbb", _protector.Unprotect(oauth.ProtectedAccess!, SecretBinding.Of(oauth.Id, "access")));
        Assert.Equal("ref-secret-cccc", _protector.Unprotect(oauth.ProtectedRefresh!, SecretBinding.Of(oauth.Id, "refresh")));
        Assert.Equal(("https://auth.example.com/oauth/token", "client-1"), (oauth.TokenUrl, oauth.ClientId));
        foreach (var e in events)
        {
            var text = e.Profile.ToString() + string.Join("|", e.Profile.ProtectedToken, e.Profile.ProtectedAccess, e.Profile.ProtectedRefresh);
            Assert.DoesNotContain("secret", text);
        }
    }

    [Fact]
    public void Should_recover_profiles_and_push_them_again_after_a_restart()
    {
        var store = Start();
        Upsert(store, new AuthProfileInput("openai", "api_key", Key: "sk-recovered-5678"));
        _providers.ExpectMsg<ProviderCommands.UpsertCredential>();

        var revived = Restart(store);

        var served = _providers.ExpectMsg<ProviderCommands.UpsertCredential>();
        Assert.Equal(("openai:default", "sk-recovered-5678"), (served.Credential.Id, served.Credential.Secret));
        _providers.ExpectMsg<ProviderCommands.CredentialsLoaded>();
        revived.Tell(AuthProfileCommands.ListProfiles.Instance);
        var list = ExpectMsg<AuthProfileList>();
        Assert.Equal("…5678", Assert.Single(list.Profiles).Key);
    }

    [Fact]
    public void Should_replace_a_profile_with_the_same_id_keeping_its_creation_time()
    {
        var store = Start();
        var first = Upsert(store, new AuthProfileInput("openai", "api_key", Key: "sk-first-1111"));
        var second = Upsert(store, new AuthProfileInput("openai", "api_key", Key: "sk-second-2222"));

        Assert.False(second.Created);
        Assert.Equal(first.Profile.CreatedAt, second.Profile.CreatedAt);
        Assert.Equal("…2222", second.Profile.Key);
        Assert.Equal(["sk-first-1111", "sk-second-2222"],
            _providers.ReceiveN(2).Cast<ProviderCommands.UpsertCredential>().Select(u => u.Credential.Secret));
    }

    [Fact]
    public void Should_remove_a_profile_and_take_it_away_from_its_provider()
    {
        var store = Start();
        Upsert(store, new AuthProfileInput("openai", "api_key", Key: "sk-remove-3333"));
        _providers.ExpectMsg<ProviderCommands.UpsertCredential>();

        store.Tell(new AuthProfileCommands.RemoveProfile("openai:default"));
        Assert.True(ExpectMsg<AuthProfileDeleted>().Found);
        Assert.Equal(new ProviderCommands.RemoveCredential("openai", "openai:default"), _providers.ExpectMsg<ProviderCommands.RemoveCredential>());

        store.Tell(new AuthProfileCommands.RemoveProfile("openai:default"));
        Assert.False(ExpectMsg<AuthProfileDeleted>().Found);
        Assert.IsType<AuthProfileEvents.ProfileRemoved>(JournalEvents()[^1]);
        Assert.Equal(2, JournalEvents().Count); // the unknown id wrote nothing

        Restart(store);
        _providers.ExpectMsg<ProviderCommands.CredentialsLoaded>(); // nothing served after the restart
    }

    [Fact]
    public void Should_store_an_order_push_it_and_push_it_again_after_a_restart()
    {
        var store = Start();

        store.Tell(new AuthProfileCommands.SetOrder("OpenAI", ["openai:default", "OPENAI_API_KEY"]));
        var saved = ExpectMsg<AuthProfileOrderSaved>();
        Assert.Equal("openai", saved.Provider);
        var pushed = _providers.ExpectMsg<ProviderCommands.SetOrder>();
        Assert.Equal<string>(["openai:default", "OPENAI_API_KEY"], pushed.Order);
        Assert.IsType<AuthProfileEvents.OrderSet>(Assert.Single(JournalEvents()));

        store = Restart(store);
        Assert.Equal<string>(["openai:default", "OPENAI_API_KEY"], _providers.ExpectMsg<ProviderCommands.SetOrder>().Order);
        _providers.ExpectMsg<ProviderCommands.CredentialsLoaded>();

        store.Tell(new AuthProfileCommands.SetOrder("openai", []));
        ExpectMsg<AuthProfileOrderSaved>();
        Assert.Empty(_providers.ExpectMsg<ProviderCommands.SetOrder>().Order);
        store.Tell(AuthProfileCommands.ListProfiles.Instance);
        Assert.Empty(ExpectMsg<AuthProfileList>().Orders);
    }

    [Fact]
    public void Should_reject_invalid_commands_without_persisting()
    {
        var store = Start();

        store.Tell(new AuthProfileCommands.UpsertProfile(new AuthProfileInput("openai", "api_key", Id: "openai:mine", Key: "sk-1")));
        Assert.Equal("id", ExpectMsg<AuthProfileRejected>().Param);
        store.Tell(new AuthProfileCommands.SetOrder("unknown", ["x"]));
        Assert.Equal("provider", ExpectMsg<AuthProfileRejected>().Param);

        Assert.Empty(JournalEvents());
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Should_keep_but_not_serve_an_expired_or_invalid_token_profile()
    {
        var store = Start();

        var expired = Upsert(store, new AuthProfileInput("openai", "token", Token: "tok-expired-4444",
            Expires: DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds()));
        Assert.Equal((false, AuthProfileRules.Expired), (expired.Profile.Eligible, expired.Profile.Reason));
        _providers.ExpectMsg<ProviderCommands.RemoveCredential>();

        var invalid = Upsert(store, new AuthProfileInput("anthropic", "token", Token: "tok-invalid-5555", Expires: 0));
        Assert.Equal((false, AuthProfileRules.InvalidExpires), (invalid.Profile.Eligible, invalid.Profile.Reason));
        _providers.ExpectMsg<ProviderCommands.RemoveCredential>();

        store.Tell(AuthProfileCommands.ListProfiles.Instance);
        Assert.Equal(2, ExpectMsg<AuthProfileList>().Profiles.Count(p => !p.Eligible));
    }

    [Fact]
    public void Should_not_serve_a_profile_whose_config_mode_differs()
    {
        var config = ImmutableDictionary<string, AuthProfileSettings>.Empty
            .Add("openai:default", new AuthProfileSettings("openai:default", "openai", "oauth", null));
        var store = Start(config);

        var saved = Upsert(store, new AuthProfileInput("openai", "api_key", Key: "sk-mode-6666"));

        Assert.Equal(AuthProfileRules.IneligibleProfile, saved.Profile.Reason);
        _providers.ExpectMsg<ProviderCommands.RemoveCredential>();
    }

    [Fact]
    public void Should_write_refreshed_oauth_tokens_back_encrypted()
    {
        var store = Start();
        Upsert(store, new AuthProfileInput("openai", "oauth", Access: "acc-old-7777", Refresh: "ref-old-8888",
            Expires: DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), TokenUrl: "https://auth.example.com/token"));
        _providers.ExpectMsg<ProviderCommands.UpsertCredential>(); // expired but refreshable: served

        var expires = DateTimeOffset.UtcNow.AddHours(1);
        store.Tell(new CredentialRefreshed("openai", "openai:default", "acc-new-9999", "ref-new-0000", expires));
        store.Tell(AuthProfileCommands.ListProfiles.Instance);
        var view = Assert.Single(ExpectMsg<AuthProfileList>().Profiles);

        Assert.Equal(("…9999", "…0000", expires.ToUnixTimeMilliseconds()), (view.Access, view.Refresh, view.Expires));
        var refreshed = Assert.IsType<AuthProfileEvents.OAuthRefreshed>(JournalEvents()[^1]);
        Assert.Equal("acc-new-9999", _protector.Unprotect(refreshed.ProtectedAccess, SecretBinding.Of("openai:default", "access")));
        Assert.Equal("ref-new-0000", _protector.Unprotect(refreshed.ProtectedRefresh, SecretBinding.Of("openai:default", "refresh")));
        Assert.DoesNotContain("9999", refreshed.ProtectedAccess);
        // The key actor already serves the new token: the store does not push it back.
        _providers.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        Restart(store);
        var served = _providers.ExpectMsg<ProviderCommands.UpsertCredential>().Credential;
        Assert.Equal(("acc-new-9999", "ref-new-0000"), (served.Secret, served.OAuth!.RefreshToken));
        Assert.Equal(expires.ToUnixTimeMilliseconds(), served.ExpiresAt!.Value.ToUnixTimeMilliseconds());
    }

    [Fact]
    public void Should_not_serve_profiles_whose_key_ring_is_gone()
    {
        var store = Start();
        Upsert(store, new AuthProfileInput("openai", "api_key", Key: "sk-lost-ring-1212"));
        _providers.ExpectMsg<ProviderCommands.UpsertCredential>();
        Watch(store);
        Sys.Stop(store);
        ExpectTerminated(store);

        // Another key ring cannot decrypt what this one encrypted.
        var otherDir = Directory.CreateTempSubdirectory("durar-profiles-other-").FullName;
        try
        {
            var stranger = DataProtectionSecretProtector.ForDataDirectory(otherDir);
            var revived = Sys.ActorOf(AuthProfileStoreActor.Props(stranger, _providers, Known, ImmutableDictionary<string, AuthProfileSettings>.Empty));
            _providers.ExpectMsg<ProviderCommands.RemoveCredential>();
            _providers.ExpectMsg<ProviderCommands.CredentialsLoaded>();
            revived.Tell(AuthProfileCommands.ListProfiles.Instance);
            var view = Assert.Single(ExpectMsg<AuthProfileList>().Profiles);
            Assert.Equal((false, AuthProfileRules.MissingCredential, "(unreadable)"), (view.Eligible, view.Reason, view.Key));
        }
        finally
        {
            Directory.Delete(otherDir, recursive: true);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Replays the store's journal and sends each event, then a string, to <c>target</c>.</summary>
    private sealed class JournalReader : ReceivePersistentActor
    {
        public JournalReader(IActorRef target)
        {
            Recover<IAuthProfileEvent>(e => target.Tell(e));
            Recover<RecoveryCompleted>(_ =>
            {
                target.Tell("done");
                Context.Stop(Self);
            });
        }

        public override string PersistenceId => AuthProfileStoreActor.StorePersistenceId;
    }
}
