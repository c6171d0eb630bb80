using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Configuration;
using Akka.TestKit;
using Durar.Actors.AuthProfiles;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Tests.AuthProfiles;

/// <summary>
/// The store as a cluster's single writer (no registry of its own): nodes' subscribers get the whole credential set on
/// subscription and after every change, only when they lack it, and hand their registry only the differences.
/// </summary>
public sealed class AuthProfileSubscriptionSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Akka.Configuration.Config Hocon = InMemoryPersistence.Config;

    private static readonly IReadOnlySet<string> Known = ImmutableHashSet.Create(StringComparer.Ordinal, "openai", "anthropic");
    private static readonly AesGcmSecretProtector Protector = new(Enumerable.Range(7, 32).Select(i => (byte)i).ToArray());

    public AuthProfileSubscriptionSpecs() : base(Hocon, nameof(AuthProfileSubscriptionSpecs))
    {
    }

    private IActorRef StartStore() =>
        Sys.ActorOf(AuthProfileStoreActor.Props(Protector, null, Known, ImmutableDictionary<string, AuthProfileSettings>.Empty));

    private static AuthProfileSaved Upsert(TestKitBase kit, IActorRef store, AuthProfileInput input)
    {
        store.Tell(new AuthProfileCommands.UpsertProfile(input), kit.TestActor);
        return kit.ExpectMsg<AuthProfileSaved>();
    }

    [Fact]
    public void Should_send_the_whole_set_on_subscription_and_after_every_change_to_every_subscriber()
    {
        var store = StartStore();
        Upsert(this, store, new AuthProfileInput("openai", "api_key", Key: "sk-before-1111"));
        var first = CreateTestProbe();
        var second = CreateTestProbe();

        store.Tell(new AuthProfileSubscription.Subscribe(first, null));
        store.Tell(new AuthProfileSubscription.Subscribe(second, null));
        var initial = first.ExpectMsg<AuthProfileCredentials>();
        second.ExpectMsg<AuthProfileCredentials>();

        Assert.Equal("sk-before-1111", Assert.Single(initial.Credentials).Secret);
        var saved = Upsert(this, store, new AuthProfileInput("anthropic", "token", Token: "tok-after-2222"));
        var changed = first.ExpectMsg<AuthProfileCredentials>();
        Assert.Same(changed, second.ExpectMsg<AuthProfileCredentials>());
        Assert.Equal(saved.Revision, changed.Revision);
        Assert.Equal(initial.Revision.Incarnation, changed.Revision.Incarnation);
        Assert.True(changed.Revision.Revision > initial.Revision.Revision);
        Assert.Equal(["anthropic:default", "openai:default"], changed.Credentials.Select(c => c.Id).Order(StringComparer.Ordinal));

        store.Tell(new AuthProfileCommands.SetOrder("openai", ["openai:default"]));
        ExpectMsg<AuthProfileOrderSaved>();
        Assert.Equal<string>(["openai:default"], first.ExpectMsg<AuthProfileCredentials>().Orders["openai"]);
        store.Tell(new AuthProfileCommands.RemoveProfile("anthropic:default"));
        ExpectMsg<AuthProfileDeleted>();
        Assert.Equal("openai:default", Assert.Single(first.ExpectMsg<AuthProfileCredentials>().Credentials).Id);
        // ToString never shows a secret.
        Assert.DoesNotContain("sk-before-1111", changed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Should_answer_a_repeated_subscription_only_when_the_subscriber_lacks_the_current_revision()
    {
        var store = StartStore();
        var subscriber = CreateTestProbe();
        store.Tell(new AuthProfileSubscription.Subscribe(subscriber, null));
        var set = subscriber.ExpectMsg<AuthProfileCredentials>();

        store.Tell(new AuthProfileSubscription.Subscribe(subscriber, set.Revision));
        subscriber.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        store.Tell(new AuthProfileSubscription.Subscribe(subscriber, set.Revision with { Revision = set.Revision.Revision - 1 }));
        Assert.Equal(set.Revision, subscriber.ExpectMsg<AuthProfileCredentials>().Revision);
        store.Tell(new AuthProfileSubscription.Subscribe(subscriber, new AuthProfileRevision("another-run", set.Revision.Revision)));
        subscriber.ExpectMsg<AuthProfileCredentials>();
        // Subscribing twice does not mean two copies of every change.
        Upsert(this, store, new AuthProfileInput("openai", "api_key", Key: "sk-once-3333"));
        subscriber.ExpectMsg<AuthProfileCredentials>();
        subscriber.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Should_forget_a_subscriber_that_stopped()
    {
        var store = StartStore();
        var gone = CreateTestProbe();
        var stays = CreateTestProbe();
        store.Tell(new AuthProfileSubscription.Subscribe(gone, null));
        store.Tell(new AuthProfileSubscription.Subscribe(stays, null));
        gone.ExpectMsg<AuthProfileCredentials>();
        stays.ExpectMsg<AuthProfileCredentials>();
        var deadLetters = CreateTestProbe();
        Sys.EventStream.Subscribe(deadLetters, typeof(DeadLetter));
        Watch(gone);
        Sys.Stop(gone);
        ExpectTerminated(gone);
        // One round trip: the store's Terminated (queued when it handled the death notice) is now ahead of the next command.
        store.Tell(AuthProfileCommands.ListProfiles.Instance);
        ExpectMsg<AuthProfileList>();

        Upsert(this, store, new AuthProfileInput("openai", "api_key", Key: "sk-after-stop-4444"));

        stays.ExpectMsg<AuthProfileCredentials>();
        deadLetters.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Should_hand_the_registry_only_the_differences_then_open_it_once()
    {
        var store = StartStore();
        Upsert(this, store, new AuthProfileInput("openai", "api_key", Key: "sk-first-5555"));
        store.Tell(new AuthProfileCommands.SetOrder("openai", ["openai:default", "OPENAI_API_KEY"]));
        ExpectMsg<AuthProfileOrderSaved>();
        var registry = CreateTestProbe();

        var subscriber = Sys.ActorOf(AuthProfileSubscriberActor.Props(store, registry, TimeSpan.FromMilliseconds(100)));

        var upsert = registry.ExpectMsg<ProviderCommands.UpsertCredential>();
        Assert.Equal(("openai", "openai:default", "sk-first-5555"), (upsert.ProviderId, upsert.Credential.Id, upsert.Credential.Secret));
        Assert.Equal(store, registry.LastSender); // the owner of the credential: OAuth write-backs go to the store (its proxy)
        Assert.Equal<string>(["openai:default", "OPENAI_API_KEY"], registry.ExpectMsg<ProviderCommands.SetOrder>().Order);
        registry.ExpectMsg<ProviderCommands.CredentialsLoaded>();
        // Re-subscribing every 100 ms changes nothing while the store does not change.
        registry.ExpectNoMsg(TimeSpan.FromMilliseconds(500));

        var saved = Upsert(this, store, new AuthProfileInput("anthropic", "api_key", Key: "sk-second-6666"));
        Assert.Equal("anthropic:default", registry.ExpectMsg<ProviderCommands.UpsertCredential>().Credential.Id);
        subscriber.Tell(new AwaitAuthProfileRevision(saved.Revision!));
        Assert.True(ExpectMsg<AuthProfileRevisionApplied>().Applied);

        store.Tell(new AuthProfileCommands.RemoveProfile("openai:default"));
        ExpectMsg<AuthProfileDeleted>();
        Assert.Equal(new ProviderCommands.RemoveCredential("openai", "openai:default"), registry.ExpectMsg<ProviderCommands.RemoveCredential>());
        store.Tell(new AuthProfileCommands.SetOrder("openai", []));
        ExpectMsg<AuthProfileOrderSaved>();
        Assert.Empty(registry.ExpectMsg<ProviderCommands.SetOrder>().Order);
        registry.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Should_catch_up_with_a_store_that_restarted_without_knowing_its_subscribers()
    {
        var store = StartStore();
        Upsert(this, store, new AuthProfileInput("openai", "api_key", Key: "sk-kept-7777"));
        var registry = CreateTestProbe();
        var forwarder = Sys.ActorOf(Props.Create(() => new Forwarder()));
        forwarder.Tell(store);
        Sys.ActorOf(AuthProfileSubscriberActor.Props(forwarder, registry, TimeSpan.FromMilliseconds(200)));
        registry.ExpectMsg<ProviderCommands.UpsertCredential>();
        registry.ExpectMsg<ProviderCommands.CredentialsLoaded>();

        // The store stops (its node left); a new one recovers the journal and knows no subscriber.
        Watch(store);
        Sys.Stop(store);
        ExpectTerminated(store);
        var next = StartStore();
        forwarder.Tell(next);
        var saved = Upsert(this, next, new AuthProfileInput("anthropic", "api_key", Key: "sk-new-run-8888"));

        // Within a re-subscription interval the node has the change made on the new store, and nothing repeated.
        var added = registry.ExpectMsg<ProviderCommands.UpsertCredential>(TimeSpan.FromSeconds(3));
        Assert.Equal("anthropic:default", added.Credential.Id);
        Assert.Equal(forwarder, registry.LastSender);
        Assert.NotNull(saved.Revision);
        registry.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public void Should_answer_a_wait_as_not_applied_when_the_revision_never_arrives()
    {
        var silentStore = CreateTestProbe();
        var registry = CreateTestProbe();
        var subscriber = Sys.ActorOf(AuthProfileSubscriberActor.Props(silentStore, registry, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(300)));
        silentStore.ExpectMsg<AuthProfileSubscription.Subscribe>();
        var wanted = new AuthProfileRevision("run-1", 3);

        subscriber.Tell(new AwaitAuthProfileRevision(wanted));

        // The wait asks the store for the set outright, then gives up after its limit.
        Assert.Null(silentStore.ExpectMsg<AuthProfileSubscription.Subscribe>().Known);
        var answer = ExpectMsg<AuthProfileRevisionApplied>(TimeSpan.FromSeconds(2));
        Assert.Equal((wanted, false), (answer.Revision, answer.Applied));
        registry.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Should_never_show_a_secret_in_the_text_of_a_message_that_crosses_nodes()
    {
        var oauth = new ApiKeyCredential("openai:ops@example.com", "openai", "access-secret-aaaa1", "auth-profile")
        {
            Type = "oauth",
            OAuth = new OAuthGrant("refresh-secret-bbbb2", "https://127.0.0.1/token", "client"),
        };
        object[] messages =
        [
            new AuthProfileCredentials(new AuthProfileRevision("run", 1), [oauth],
                ImmutableSortedDictionary<string, ImmutableArray<string>>.Empty),
            new AuthProfileCommands.UpsertProfile(new AuthProfileInput("openai", "oauth", "ops@example.com", Key: "key-secret-cccc3",
                Token: "token-secret-dddd4", Access: "access-secret-aaaa1", Refresh: "refresh-secret-bbbb2")),
            new ProviderCommands.UpsertCredential("openai", oauth),
            new CredentialRefreshed("openai", oauth.Id, "access-secret-aaaa1", "refresh-secret-bbbb2", DateTimeOffset.UnixEpoch),
        ];

        foreach (var text in messages.Select(m => m.ToString()!))
            Assert.DoesNotMatch("secret-(aaaa1|bbbb2|cccc3|dddd4)", text);
    }

    /// <summary>Stands in for the cluster singleton proxy: forwards to whichever store it was last told about.</summary>
    private sealed class Forwarder : ReceiveActor
    {
        private IActorRef _target = ActorRefs.Nobody;

        public Forwarder()
        {
            Receive<IActorRef>(target => _target = target);
            ReceiveAny(message => _target.Forward(message));
        }
    }
}
