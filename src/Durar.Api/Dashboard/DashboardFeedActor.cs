using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Durar.Actors;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;

namespace Durar.Api.Dashboard;

/// <summary>
/// Feeds the node's <see cref="DashboardFeed"/> from the actors, without polling them per change: it subscribes to the
/// provider actors' key-state publications on this node's event stream (<see cref="KeyStateObserved"/>) and to cluster
/// membership events, and once per <c>gateway.dashboard.totalsInterval</c> asks the provider registry for every provider's
/// state (a Tell and its reply: the registry gathers the providers' answers) for the spend and token totals. One per node.
/// </summary>
public sealed class DashboardFeedActor : ReceiveActor, IWithTimers
{
    private const string SampleTimer = "totals-sample";

    private readonly DashboardFeed _feed;
    private readonly IActorRef _providers;
    private readonly TimeSpan _interval;
    private readonly Cluster? _cluster;

    public ITimerScheduler Timers { get; set; } = null!;

    public DashboardFeedActor(DashboardFeed feed, IActorRef providers, TimeSpan interval)
    {
        _feed = feed;
        _providers = providers;
        _interval = interval;
        _cluster = ShardedKeys.IsClustered(Context.System) ? Cluster.Get(Context.System) : null;

        Receive<KeyStateObserved>(observed => _feed.KeyChanged(observed.ProviderId, observed.View));
        Receive<Sample>(_ =>
        {
            _providers.Tell(new ProviderCommands.GetAllProviderStates());
            if (_cluster is not null) _feed.ClusterChanged(ClusterView.Of(_cluster)); // membership read again, in case an event raced its state
        });
        Receive<ProviderStates>(states => _feed.ProvidersRefreshed(states.Providers));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => _feed.ClusterChanged(ClusterView.Of(_cluster!)));
        Receive<ClusterEvent.CurrentClusterState>(_ => _feed.ClusterChanged(ClusterView.Of(_cluster!)));
    }

    public static Props Props(DashboardFeed feed, IActorRef providers, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new DashboardFeedActor(feed, providers, interval));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(KeyStateObserved));
        _cluster?.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.LeaderChanged));
        Self.Tell(Sample.Instance); // the first sample at once: a client that connects early sees the keys
        Timers.StartPeriodicTimer(SampleTimer, Sample.Instance, _interval);
    }

    protected override void PostStop()
    {
        Context.System.EventStream.Unsubscribe(Self);
        _cluster?.Unsubscribe(Self);
        base.PostStop();
    }

    private sealed class Sample : INoSerializationVerificationNeeded, Akka.Event.IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static readonly Sample Instance = new();
        private Sample() { }
    }
}

/// <summary>Starts the dashboard's feed actor with the gateway's actor system (after the provider registry).</summary>
public static class DashboardFeedHosting
{
    public static AkkaConfigurationBuilder WithDurarDashboard(this AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, registry, resolver) =>
        {
            var settings = resolver.GetService<DurarSettings>().Dashboard;
            if (!settings.Enabled) return;
            system.ActorOf(DashboardFeedActor.Props(resolver.GetService<DashboardFeed>(), registry.Get<ProvidersRegistryKey>(), settings.TotalsInterval),
                ActorNames.DashboardFeed);
        });
}
