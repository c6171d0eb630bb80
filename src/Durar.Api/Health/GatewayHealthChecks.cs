using Akka.Actor;
using Akka.Cluster;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Sessions;
using Durar.Api.Extensions;
using Durar.Persistence;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Durar.Api.Health;

/// <summary>Live: the actor system runs (it is terminated only when the node is beyond recovery).</summary>
internal sealed class ActorSystemHealthCheck(ActorSystem system) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(system.WhenTerminated.IsCompleted
            ? HealthCheckResult.Unhealthy($"actor system {system.Name} is terminated")
            : HealthCheckResult.Healthy($"actor system {system.Name} running for {system.Uptime.TotalSeconds:0} s"));
}

/// <summary>
/// Ready: the journal's database answers (<see cref="JournalProbe"/>); without it no key state or session can be written.
/// While session turns fail fast after a failed journal write (<see cref="JournalHealth"/>), the check says so even when the
/// probe itself answers again (degraded: turns resume with the next one after the retry window).
/// </summary>
internal sealed class JournalHealthCheck(PersistenceOptions persistence, GatewaySettings gateway, ActorSystem system) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(gateway.AskTimeout);
        try
        {
            var probed = await JournalProbe.ProbeAsync(persistence, timeout.Token);
            return JournalHealth.For(system).IsDown(DateTimeOffset.UtcNow, out var retryAfter)
                ? HealthCheckResult.Degraded($"{probed}; a session write failed moments ago: session turns answer 503 journal_unavailable " +
                                             $"for {retryAfter.TotalSeconds:0.#} s more, then try the journal again")
                : HealthCheckResult.Healthy(probed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"the journal ({persistence.Provider}) did not answer within {gateway.AskTimeout.TotalSeconds:0.#} s (gateway.askTimeout)");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"the journal ({persistence.Provider}) is unreachable: {e.Message}");
        }
    }
}

/// <summary>
/// Ready, informational (always healthy: a full node still serves its sessions and evicts idle ones): the session actors
/// resident on this node against <c>gateway.sessions.maxResident</c>, and how many were evicted or refused since start.
/// </summary>
internal sealed class SessionsHealthCheck(ActorSystem system, GatewaySettings gateway) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var sweeper = SessionIdleSweeper.Of(system);
        var (resident, evicted, refused) = (SessionIdleSweeper.Resident(system), sweeper?.Evicted ?? 0, sweeper?.Refused ?? 0);
        var max = gateway.Sessions.MaxResident;
        var data = new Dictionary<string, object>
        {
            ["resident"] = resident,
            ["maxResident"] = max,
            ["evicted"] = (int)Math.Min(evicted, int.MaxValue),
            ["refused"] = (int)Math.Min(refused, int.MaxValue),
        };
        return Task.FromResult(HealthCheckResult.Healthy(
            $"{resident} of {max} sessions resident (gateway.sessions.maxResident); {evicted} evicted, {refused} refused as busy since start", data));
    }
}

/// <summary>Ready: this node is a cluster member that is Up (sessions and keys are sharded over the members that are).</summary>
internal sealed class ClusterMemberHealthCheck(ActorSystem system) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!ShardedKeys.IsClustered(system)) return Task.FromResult(HealthCheckResult.Healthy("not clustered"));
        var cluster = Cluster.Get(system);
        var self = cluster.SelfMember;
        var state = cluster.State;
        var data = new Dictionary<string, object>
        {
            ["address"] = self.Address.ToString(),
            ["status"] = self.Status.ToString(),
            ["members"] = state.Members.Count,
            ["unreachable"] = state.Unreachable.Count,
        };
        return Task.FromResult(self.Status is MemberStatus.Up or MemberStatus.WeaklyUp
            ? HealthCheckResult.Healthy($"member {self.Address} is {self.Status}", data)
            : HealthCheckResult.Unhealthy($"member {self.Address} is {self.Status}, not Up", data: data));
    }
}

/// <summary>
/// Ready: the provider registry serves (it has loaded the providers and their keys, and the auth-profile store when one
/// is used); the lease board opens at that moment and closes if the registry stops.
/// </summary>
internal sealed class ProvidersHealthCheck(KeyLeaseBoard board) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!board.IsOpen) return Task.FromResult(HealthCheckResult.Unhealthy("the provider registry is not serving yet (loading providers and auth profiles)"));
        var providers = 0;
        var keys = 0;
        foreach (var (published, _) in board.PublishedKeys())
        {
            if (published.Entries.IsEmpty) continue;
            providers++;
            keys += published.Entries.Length;
        }
        return Task.FromResult(HealthCheckResult.Healthy($"{providers} provider(s) with {keys} key(s)",
            new Dictionary<string, object> { ["providersWithKeys"] = providers, ["keys"] = keys }));
    }
}

/// <summary>Ready: the node is not draining (after SIGTERM it finishes what it has and takes nothing new).</summary>
internal sealed class DrainHealthCheck(GatewayDrain drain) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(drain.IsDraining
            ? HealthCheckResult.Unhealthy($"{GatewayDrain.ShuttingDownCode}: draining {drain.InFlight} request(s) before leaving the cluster")
            : HealthCheckResult.Healthy("accepting requests"));
}
