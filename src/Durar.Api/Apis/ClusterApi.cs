using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Durar.Actors.Configuration;
using Durar.Actors.Sessions;

namespace Durar.Api.Apis;

/// <summary>
/// <c>GET /v1/admin/cluster</c>: this node, its view of the journal (unavailable while session turns fail fast after a
/// failed write or recovery), the leader, every member with roles and status, unreachable members, and the session shards
/// and entities each node holds.
/// </summary>
public static class ClusterApi
{
    public static IEndpointRouteBuilder MapCluster(this IEndpointRouteBuilder app)
    {
        app.MapAdminGroup().MapGet("/cluster", async (HttpContext context, ActorSystem system, IRequiredActor<SessionRegionKey> region, GatewaySettings gateway) =>
        {
            var cluster = Cluster.Get(system);
            var state = cluster.State;
            ClusterShardingStats? stats = null;
            try
            {
                stats = await region.ActorRef.Ask<ClusterShardingStats>(new GetClusterShardingStats(gateway.AskTimeout), gateway.AskTimeout * 2,
                    context.RequestAborted);
            }
            catch (AskTimeoutException)
            {
                // Shard stats are best effort: the membership view is still worth answering with.
            }
            await JsonAnswer.WriteAsync(context.Response, w =>
            {
                w.WriteStartObject();
                w.WriteString("self", cluster.SelfAddress.ToString());
                // This node's view of the journal: down after a failed session write or recovery, for journalRetryAfter (issue 13).
                w.WriteStartObject("journal");
                var down = JournalHealth.For(system).IsDown(DateTimeOffset.UtcNow, out var retryAfter);
                w.WriteString("status", down ? "unavailable" : "available");
                if (down) w.WriteNumber("retryAfterSeconds", Math.Ceiling(retryAfter.TotalSeconds));
                w.WriteEndObject();
                if (state.Leader is { } leader) w.WriteString("leader", leader.ToString()); else w.WriteNull("leader");
                w.WriteStartArray("members");
                foreach (var m in state.Members.OrderBy(m => m.Address.ToString(), StringComparer.Ordinal))
                {
                    w.WriteStartObject();
                    w.WriteString("address", m.Address.ToString());
                    w.WriteString("status", m.Status.ToString().ToLowerInvariant());
                    w.WriteStartArray("roles");
                    foreach (var role in m.Roles.Order(StringComparer.Ordinal)) w.WriteStringValue(role);
                    w.WriteEndArray();
                    w.WriteBoolean("reachable", !state.Unreachable.Contains(m));
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteStartArray("unreachable");
                foreach (var m in state.Unreachable) w.WriteStringValue(m.Address.ToString());
                w.WriteEndArray();
                w.WriteStartObject("shards");
                if (stats is not null)
                    foreach (var (address, regionStats) in stats.Regions.OrderBy(r => r.Key.ToString(), StringComparer.Ordinal))
                    {
                        w.WriteStartObject(address.ToString());
                        w.WriteNumber("shards", regionStats.Stats.Count);
                        w.WriteNumber("sessions", regionStats.Stats.Values.Sum());
                        w.WriteEndObject();
                    }
                w.WriteEndObject();
                w.WriteEndObject();
            });
        });
        return app;
    }
}
