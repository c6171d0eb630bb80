using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Durar.Actors.Hosting.Logging;

/// <summary>
/// One Information line when another node joins the cluster or leaves it. Akka's own cluster lines go to Debug
/// (<see cref="AkkaLogLevels"/>): a single node's start and stop say nothing, while the operator of several nodes still
/// sees every membership change at the default level. Unreachable nodes are already Akka warnings.
/// </summary>
internal sealed class ClusterMembershipLogActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Cluster _cluster = Cluster.Get(Context.System);

    public ClusterMembershipLogActor()
    {
        Receive<ClusterEvent.MemberUp>(up =>
        {
            if (up.Member.Address != _cluster.SelfAddress) _log.Info("Cluster: node [{Address}] is up", up.Member.Address);
        });
        Receive<ClusterEvent.MemberRemoved>(removed =>
        {
            if (removed.Member.Address != _cluster.SelfAddress)
                _log.Info("Cluster: node [{Address}] left the cluster (was {PreviousStatus})", removed.Member.Address, removed.PreviousStatus);
        });
    }

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => _cluster.Unsubscribe(Self);
}
