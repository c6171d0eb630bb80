using System.Collections.Immutable;
using System.Threading.Channels;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;

namespace Durar.Api.Dashboard;

/// <summary>
/// The node's live picture for the operator dashboard, and the hub of its event stream. It keeps what a new client needs to
/// draw the page at once (every provider and key as last pushed, the recent requests with their attempts, the totals
/// history, the cluster) and fans every change out to the connected clients, each through its own bounded queue. It exists
/// so the dashboard is pushed, not polled: key changes arrive from the provider actors (through
/// <see cref="DashboardFeedActor"/>), completed requests from the chat endpoint, totals from the actor's periodic sample.
/// </summary>
/// <remarks>
/// One lock guards the state and the subscriber list, so a snapshot and the events after it never miss or repeat a change.
/// The request path takes it once per request only while <c>gateway.dashboard.recentRequests</c> is above 0, and allocates
/// an event for the stream only when a client is connected. A client whose queue is full (it reads too slowly) is cut off
/// with <see cref="DashboardLaggingException"/>; it reconnects and gets a fresh snapshot, so nothing is silently lost.
/// </remarks>
public sealed class DashboardFeed
{
    private readonly Lock _gate = new();
    private readonly RequestRecord?[] _requests;
    private readonly TotalsSample?[] _totals;
    private readonly int _clientBuffer;
    private readonly TimeProvider _time;
    private int _requestNext, _requestCount, _totalsNext, _totalsCount;
    private long _ids;
    private ImmutableArray<ProviderStateView> _providers = [];
    private ClusterView? _cluster;
    private ImmutableArray<Subscriber> _subscribers = [];

    public DashboardFeed(DashboardSettings settings, TimeProvider time)
    {
        _requests = new RequestRecord?[settings.RecentRequests];
        _totals = new TotalsSample?[settings.TotalsHistory];
        _clientBuffer = settings.ClientBuffer;
        _time = time;
    }

    /// <summary>Completed requests are kept (<c>gateway.dashboard.recentRequests</c> above 0).</summary>
    public bool RecordsRequests => _requests.Length > 0;

    /// <summary>Clients connected to the event stream right now.</summary>
    public int Clients
    {
        get { lock (_gate) return _subscribers.Length; }
    }

    /// <summary>The id of the next recorded request (increasing on this node).</summary>
    public long NextRequestId() => Interlocked.Increment(ref _ids);

    /// <summary>The recent requests, newest first.</summary>
    public ImmutableArray<RequestRecord> RecentRequests()
    {
        lock (_gate) return Recent();
    }

    /// <summary>Keeps a completed request (the oldest one goes when the ring is full) and sends it to the clients.</summary>
    public void RequestCompleted(RequestRecord record)
    {
        if (_requests.Length == 0) return;
        lock (_gate)
        {
            _requests[_requestNext] = record;
            _requestNext = (_requestNext + 1) % _requests.Length;
            _requestCount = Math.Min(_requestCount + 1, _requests.Length);
            if (!_subscribers.IsEmpty) Broadcast(new FeedEvent.Request(record));
        }
    }

    /// <summary>A key's actor pushed a new state (<see cref="KeyStateObserved"/>).</summary>
    public void KeyChanged(string providerId, KeyStateView view)
    {
        lock (_gate)
        {
            // A key the last full refresh did not list yet (just added) is not kept here: the next refresh brings the whole list.
            for (var p = 0; p < _providers.Length; p++)
            {
                var provider = _providers[p];
                if (provider.ProviderId != providerId) continue;
                for (var k = 0; k < provider.Keys.Length; k++)
                    if (provider.Keys[k].KeyId == view.KeyId)
                        _providers = _providers.SetItem(p, provider with { Keys = provider.Keys.SetItem(k, view) });
                break;
            }
            if (!_subscribers.IsEmpty) Broadcast(new FeedEvent.Key(providerId, view, _time.GetUtcNow()));
        }
    }

    /// <summary>
    /// Every provider's state as the registry answered it (each totals interval): the totals sample is kept and sent, and when
    /// keys were added or removed since the last one the clients get the whole list again.
    /// </summary>
    public void ProvidersRefreshed(ImmutableArray<ProviderStateView> providers)
    {
        var now = _time.GetUtcNow();
        var sample = TotalsSample.Of(now, providers);
        lock (_gate)
        {
            var changed = !SameKeys(_providers, providers);
            _providers = providers;
            _totals[_totalsNext] = sample;
            _totalsNext = (_totalsNext + 1) % _totals.Length;
            _totalsCount = Math.Min(_totalsCount + 1, _totals.Length);
            if (_subscribers.IsEmpty) return;
            if (changed) Broadcast(new FeedEvent.Providers(providers, now));
            Broadcast(new FeedEvent.Totals(sample));
        }
    }

    /// <summary>The cluster's membership as this node sees it now; sent to the clients when it differs from the last one.</summary>
    public void ClusterChanged(ClusterView view)
    {
        lock (_gate)
        {
            if (_cluster is not null && SameCluster(_cluster, view)) return;
            _cluster = view;
            if (!_subscribers.IsEmpty) Broadcast(new FeedEvent.Cluster(view));
        }
    }

    /// <summary>Connects a client: the state now, and every change after it through <see cref="FeedSubscription.Events"/>.</summary>
    public FeedSubscription Subscribe()
    {
        var channel = Channel.CreateBounded<FeedEvent>(new BoundedChannelOptions(_clientBuffer)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the client is then cut off, never blocked on
        });
        var subscriber = new Subscriber(channel);
        lock (_gate)
        {
            var snapshot = new FeedSnapshot(_time.GetUtcNow(), _providers, Recent(), Totals(), _cluster, _requests.Length);
            _subscribers = _subscribers.Add(subscriber);
            return new FeedSubscription(this, subscriber, snapshot);
        }
    }

    internal void Unsubscribe(Subscriber subscriber)
    {
        lock (_gate) _subscribers = _subscribers.Remove(subscriber);
        subscriber.Channel.Writer.TryComplete();
    }

    private void Broadcast(FeedEvent e)
    {
        foreach (var s in _subscribers)
        {
            if (s.Channel.Writer.TryWrite(e)) continue;
            s.Channel.Writer.TryComplete(new DashboardLaggingException(_clientBuffer));
            _subscribers = _subscribers.Remove(s);
        }
    }

    private ImmutableArray<RequestRecord> Recent()
    {
        var list = ImmutableArray.CreateBuilder<RequestRecord>(_requestCount);
        for (var i = 1; i <= _requestCount; i++) list.Add(_requests[(_requestNext - i + _requests.Length) % _requests.Length]!);
        return list.MoveToImmutable();
    }

    private ImmutableArray<TotalsSample> Totals()
    {
        var list = ImmutableArray.CreateBuilder<TotalsSample>(_totalsCount);
        for (var i = _totalsCount; i >= 1; i--) list.Add(_totals[(_totalsNext - i + _totals.Length) % _totals.Length]!);
        return list.MoveToImmutable();
    }

    private static bool SameKeys(ImmutableArray<ProviderStateView> a, ImmutableArray<ProviderStateView> b) =>
        a.Length == b.Length && a.Zip(b).All(p => p.Item1.ProviderId == p.Item2.ProviderId
            && p.Item1.Keys.Select(k => k.KeyId).SequenceEqual(p.Item2.Keys.Select(k => k.KeyId), StringComparer.Ordinal));

    private static bool SameCluster(ClusterView a, ClusterView b) =>
        a.Self == b.Self && a.Leader == b.Leader && a.Members.Length == b.Members.Length
        && a.Members.Zip(b.Members).All(m => m.Item1.Address == m.Item2.Address && m.Item1.Status == m.Item2.Status
            && m.Item1.Reachable == m.Item2.Reachable && m.Item1.Roles.SequenceEqual(m.Item2.Roles));

    internal sealed class Subscriber(Channel<FeedEvent> channel)
    {
        public Channel<FeedEvent> Channel { get; } = channel;
    }
}

/// <summary>One connected dashboard client: its snapshot and its queue of events. Dispose when the client goes.</summary>
public sealed class FeedSubscription : IDisposable
{
    private readonly DashboardFeed _feed;
    private readonly DashboardFeed.Subscriber _subscriber;

    internal FeedSubscription(DashboardFeed feed, DashboardFeed.Subscriber subscriber, FeedSnapshot snapshot)
    {
        _feed = feed;
        _subscriber = subscriber;
        Snapshot = snapshot;
    }

    public FeedSnapshot Snapshot { get; }

    /// <summary>The changes after the snapshot; completes with <see cref="DashboardLaggingException"/> when the client fell behind.</summary>
    public ChannelReader<FeedEvent> Events => _subscriber.Channel.Reader;

    public void Dispose() => _feed.Unsubscribe(_subscriber);
}

/// <summary>A dashboard client read so slowly that its queue filled up; it was cut off and should reconnect.</summary>
public sealed class DashboardLaggingException(int buffer)
    : Exception($"This dashboard client fell more than {buffer} events behind (gateway.dashboard.clientBuffer); reconnect for a fresh snapshot.");
