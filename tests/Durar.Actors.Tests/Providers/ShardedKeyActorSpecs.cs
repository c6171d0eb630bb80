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
/// A key actor as a cluster-wide entity: providers of every node attach to it and hear each change; one started by a
/// message before anyone attached (a node that does not know the credential) waits for the first attach.
/// </summary>
public sealed class ShardedKeyActorSpecs() : Akka.TestKit.Xunit2.TestKit(VirtualTime.Config, nameof(ShardedKeyActorSpecs))
{
    private static readonly ApiKeyCredential Key = ApiKeyCredential.For("p", "secret-a", "P_API_KEY_1");

    private static KeyCommands.ReportOutcome RateLimited => new(Key.Id, "m",
        new AttemptOutcome.Failed(FailoverReason.RateLimit, RateLimitHints.None, "429"));

    [Fact]
    public void Should_push_every_change_to_every_attached_provider_until_it_detaches()
    {
        var key = Sys.ActorOf(KeyActor.ShardedProps(Key.Id, new KeyDirectory.Entry(Key, null, KeyLimits.None), KeySettings.Default, null));
        var nodeA = CreateTestProbe();
        var nodeB = CreateTestProbe();
        key.Tell(new KeyCommands.Attach(nodeA.Ref, Key, null, KeyLimits.None));
        key.Tell(new KeyCommands.Attach(nodeB.Ref, Key, null, KeyLimits.None));
        Assert.Equal("ready", nodeA.FishForMessage<KeyStateChanged>(_ => true).View.State); // the current state on attach
        Assert.Equal("ready", nodeB.FishForMessage<KeyStateChanged>(_ => true).View.State);

        key.Tell(RateLimited);
        Assert.Equal("cooling", nodeA.FishForMessage<KeyStateChanged>(m => m.View.State == "cooling").View.State);
        Assert.Equal("cooling", nodeB.FishForMessage<KeyStateChanged>(m => m.View.State == "cooling").View.State);

        key.Tell(new KeyCommands.Detach(nodeB.Ref));
        key.Tell(new ProviderCommands.ResetKey("p", Key.Id), TestActor);
        ExpectMsg<KeyResetDone>();
        Assert.Equal("ready", nodeA.FishForMessage<KeyStateChanged>(m => m.View.State == "ready").View.State);
        nodeB.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Should_hold_messages_until_a_provider_attaches_with_the_credential_when_the_node_does_not_know_it()
    {
        var key = Sys.ActorOf(KeyActor.ShardedProps(Key.Id, null, KeySettings.Default, null));
        key.Tell(RateLimited); // e.g. an outcome report that reached the entity first after it moved
        key.Tell(new ProviderCommands.AcquireKey("p", "m", []) { Via = TestActor, Handle = TestActor }, TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        var provider = CreateTestProbe();
        key.Tell(new KeyCommands.Attach(provider.Ref, Key, null, KeyLimits.None));
        // The held report is applied (the key cools) and the held lease is answered with the credential from the attach
        // (whether a cooling key may serve is the provider's choice, made before it forwarded the lease).
        Assert.Equal("cooling", provider.FishForMessage<KeyStateChanged>(m => m.View.State == "cooling").View.State);
        var lease = ExpectMsg<KeyLease>();
        Assert.Equal("secret-a", lease.Secret);
    }

    [Fact]
    public void Should_write_pending_bookkeeping_and_stop_on_hand_off()
    {
        var entry = new KeyDirectory.Entry(Key, null, KeyLimits.None);
        var key = Sys.ActorOf(KeyActor.ShardedProps(Key.Id, entry, KeySettings.Default, null));
        var provider = CreateTestProbe();
        key.Tell(new KeyCommands.Attach(provider.Ref, Key, null, KeyLimits.None));
        provider.FishForMessage<KeyStateChanged>(_ => true);
        key.Tell(new KeyCommands.ReportOutcome(Key.Id, "m", new AttemptOutcome.Succeeded(RateLimitHints.None, new Chat.TokenUsage(40, 2))));
        Watch(key);
        key.Tell(KeyCommands.Stop.Instance);
        ExpectTerminated(key);

        // The next incarnation (on whichever node) reads the usage back from the journal.
        var again = Sys.ActorOf(KeyActor.ShardedProps(Key.Id, entry, KeySettings.Default, null));
        again.Tell(new KeyCommands.Attach(provider.Ref, Key, null, KeyLimits.None));
        var state = provider.FishForMessage<KeyStateChanged>(_ => true);
        Assert.Equal(42, state.View.Usage.Total);
    }
}
