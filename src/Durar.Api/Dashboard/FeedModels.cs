using System.Collections.Immutable;
using Akka.Cluster;
using Durar.Actors.Chat;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Routing;

namespace Durar.Api.Dashboard;

/// <summary>
/// One completed request as the dashboard lists it: what was asked, what answered, how it ended, how long it took, and every
/// attempt on the way (the failures carry their reason, status and when they ended; the answering attempt is
/// <see cref="Model"/> with <see cref="KeyId"/>).
/// </summary>
/// <param name="Id">Sequence number on this node (newer requests have larger ids).</param>
/// <param name="At">When the request arrived.</param>
/// <param name="RequestedModel">The model the client asked for (a ref, an alias or <c>durar</c>).</param>
/// <param name="Model">The model that answered; null when none did.</param>
/// <param name="KeyId">The key that answered; null when none did.</param>
/// <param name="Status">The HTTP status the client got.</param>
/// <param name="Outcome"><c>ok</c>, <c>error</c> (no answer), <c>stream_error</c> (the upstream failed after output) or <c>cancelled</c> (the client went away).</param>
/// <param name="Code">The error code when the request failed.</param>
/// <param name="Error">The error message when the request failed.</param>
/// <param name="Duration">From arrival to the last byte (or the error).</param>
/// <param name="FirstOutput">Streams: from arrival until the answer was committed (the first output); null otherwise.</param>
/// <param name="Failures">The attempts that failed, in order.</param>
public sealed record RequestRecord(
    long Id,
    DateTimeOffset At,
    bool Stream,
    string RequestedModel,
    string? Model,
    string? KeyId,
    int Status,
    string Outcome,
    string? Code,
    string? Error,
    TimeSpan Duration,
    TimeSpan? FirstOutput,
    TokenUsage? Usage,
    decimal Cost,
    ImmutableArray<AttemptRecord> Failures);

/// <summary>Spend and tokens of one key at one sample.</summary>
public sealed record KeyTotals(string KeyId, long Requests, TokenUsage Usage, decimal Cost);

/// <summary>Spend and tokens of one provider (the sum of its keys) at one sample.</summary>
public sealed record ProviderTotals(string ProviderId, long Requests, TokenUsage Usage, decimal Cost, ImmutableArray<KeyTotals> Keys);

/// <summary>The totals of every provider with keys at one moment; the chart draws a history of these.</summary>
public sealed record TotalsSample(DateTimeOffset At, ImmutableArray<ProviderTotals> Providers)
{
    public static TotalsSample Of(DateTimeOffset at, IEnumerable<ProviderStateView> providers) => new(at, [
        .. providers.Where(p => !p.Keys.IsEmpty).Select(p =>
        {
            ImmutableArray<KeyTotals> keys = [.. p.Keys.Select(k => new KeyTotals(k.KeyId, k.Requests, k.Usage, k.Cost))];
            return new ProviderTotals(p.ProviderId, keys.Sum(k => k.Requests), keys.Aggregate(TokenUsage.Zero, (sum, k) => sum.Add(k.Usage)),
                keys.Sum(k => k.Cost), keys);
        }),
    ]);
}

/// <summary>One cluster member as the dashboard shows it.</summary>
public sealed record MemberView(string Address, string Status, ImmutableArray<string> Roles, bool Reachable);

/// <summary>The cluster as this node sees it.</summary>
public sealed record ClusterView(string Self, string? Leader, ImmutableArray<MemberView> Members)
{
    public static ClusterView Of(Cluster cluster)
    {
        var state = cluster.State;
        return new ClusterView(cluster.SelfAddress.ToString(), state.Leader?.ToString(), [
            .. state.Members.OrderBy(m => m.Address.ToString(), StringComparer.Ordinal).Select(m => new MemberView(m.Address.ToString(),
                m.Status.ToString().ToLowerInvariant(), [.. m.Roles.Order(StringComparer.Ordinal)], !state.Unreachable.Contains(m))),
        ]);
    }
}

/// <summary>What a dashboard client receives after its snapshot, one SSE event each (<see cref="DashboardJson"/> names them).</summary>
public abstract record FeedEvent
{
    /// <summary>A key's state changed (pushed by its key actor).</summary>
    public sealed record Key(string ProviderId, KeyStateView View, DateTimeOffset At) : FeedEvent;

    /// <summary>A request completed on this node.</summary>
    public sealed record Request(RequestRecord Record) : FeedEvent;

    /// <summary>A totals sample (also the stream's heartbeat).</summary>
    public sealed record Totals(TotalsSample Sample) : FeedEvent;

    /// <summary>The set of providers or keys changed (a key added or removed): the whole list again.</summary>
    public sealed record Providers(ImmutableArray<ProviderStateView> List, DateTimeOffset At) : FeedEvent;

    /// <summary>Cluster membership or reachability changed.</summary>
    public sealed record Cluster(ClusterView View) : FeedEvent;
}

/// <summary>Everything a dashboard client needs to draw the page at once, taken atomically with its subscription.</summary>
public sealed record FeedSnapshot(
    DateTimeOffset At,
    ImmutableArray<ProviderStateView> Providers,
    ImmutableArray<RequestRecord> Requests,
    ImmutableArray<TotalsSample> Totals,
    ClusterView? Cluster,
    int RecentRequestsCapacity);
