using Akka.Cluster;

namespace Durar.Actors.Telemetry;

/// <summary>
/// The <c>durar.cluster.members</c> gauge as a pure function of a cluster state snapshot: members per status, every
/// status a member can be in while listed (zeros included), with Akka's status names in snake case (<c>weakly_up</c>).
/// </summary>
internal static class ClusterCounts
{
    private static readonly (MemberStatus Status, string Name)[] Statuses =
    [
        (MemberStatus.Joining, "joining"), (MemberStatus.WeaklyUp, "weakly_up"), (MemberStatus.Up, "up"),
        (MemberStatus.Leaving, "leaving"), (MemberStatus.Exiting, "exiting"), (MemberStatus.Down, "down"),
        (MemberStatus.Removed, "removed"),
    ];

    public static IEnumerable<(string Status, int Count)> ByStatus(ClusterEvent.CurrentClusterState state)
    {
        foreach (var (status, name) in Statuses)
            yield return (name, state.Members.Count(m => m.Status == status));
    }
}
