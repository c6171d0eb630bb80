using System.Collections.Immutable;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;
using Durar.Api.Dashboard;
using Microsoft.Extensions.Time.Testing;

namespace Durar.Api.Tests.Dashboard;

/// <summary>
/// The dashboard's hub on its own (<see cref="DashboardFeed"/>): bounded memory, a snapshot that fits the events after it,
/// and a client that reads too slowly cut off with a reason instead of holding the request path or losing events silently.
/// </summary>
public sealed class DashboardFeedSpecs
{
    private static readonly DashboardSettings Settings = DurarSettings.Defaults.Dashboard with { RecentRequests = 3, TotalsHistory = 2, ClientBuffer = 16 };
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Should_keep_the_newest_requests_and_samples_up_to_their_limits()
    {
        var feed = new DashboardFeed(Settings, _time);
        for (var i = 0; i < 5; i++) feed.RequestCompleted(Request(feed));
        for (var i = 0; i < 3; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(10));
            feed.ProvidersRefreshed([Provider("p", Key("p:key-1", "ready"))]);
        }

        Assert.Equal([5L, 4L, 3L], feed.RecentRequests().Select(r => r.Id));
        var snapshot = feed.Subscribe().Snapshot;
        Assert.Equal([5L, 4L, 3L], snapshot.Requests.Select(r => r.Id));
        Assert.Equal([_time.GetUtcNow() - TimeSpan.FromSeconds(10), _time.GetUtcNow()], snapshot.Totals.Select(t => t.At)); // oldest first
    }

    [Fact]
    public void Should_send_every_change_after_the_snapshot_and_update_the_snapshot_for_the_next_client()
    {
        var feed = new DashboardFeed(Settings, _time);
        feed.ProvidersRefreshed([Provider("p", Key("p:key-1", "ready"), Key("p:key-2", "ready"))]);
        using var first = feed.Subscribe();

        feed.KeyChanged("p", Key("p:key-2", "cooling"));
        var request = Request(feed);
        feed.RequestCompleted(request);

        Assert.True(first.Events.TryRead(out var e1));
        Assert.Equal("cooling", Assert.IsType<FeedEvent.Key>(e1).View.State);
        Assert.True(first.Events.TryRead(out var e2));
        Assert.Same(request, Assert.IsType<FeedEvent.Request>(e2).Record);
        Assert.False(first.Events.TryRead(out _));

        using var second = feed.Subscribe();
        Assert.Equal(["ready", "cooling"], second.Snapshot.Providers.Single().Keys.Select(k => k.State));
        Assert.Same(request, Assert.Single(second.Snapshot.Requests));

        // A key added since the last refresh: the next refresh sends the whole list, then the sample.
        feed.ProvidersRefreshed([Provider("p", Key("p:key-1", "ready"), Key("p:key-2", "cooling"), Key("p:key-3", "ready"))]);
        Assert.True(second.Events.TryRead(out var list));
        Assert.Equal(3, Assert.IsType<FeedEvent.Providers>(list).List.Single().Keys.Length);
        Assert.True(second.Events.TryRead(out var totals));
        Assert.IsType<FeedEvent.Totals>(totals);
    }

    [Fact]
    public async Task Should_cut_off_a_client_that_falls_behind_and_keep_serving_the_others()
    {
        var feed = new DashboardFeed(Settings, _time);
        var slow = feed.Subscribe();
        for (var i = 0; i < Settings.ClientBuffer; i++) feed.RequestCompleted(Request(feed));
        Assert.Equal(1, feed.Clients);
        using var fresh = feed.Subscribe();

        feed.RequestCompleted(Request(feed)); // one more than the slow client's queue holds

        Assert.Equal(1, feed.Clients);
        for (var i = 0; i < Settings.ClientBuffer; i++) Assert.True(slow.Events.TryRead(out _)); // what it had is still delivered...
        await Assert.ThrowsAsync<DashboardLaggingException>(async () => await slow.Events.WaitToReadAsync()); // ...then the reason
        Assert.True(fresh.Events.TryRead(out var e));
        Assert.Equal(Settings.ClientBuffer + 1, Assert.IsType<FeedEvent.Request>(e).Record.Id);
        slow.Dispose();
    }

    [Fact]
    public void Should_record_nothing_when_recent_requests_is_zero()
    {
        var feed = new DashboardFeed(Settings with { RecentRequests = 0 }, _time);
        using var client = feed.Subscribe();

        Assert.False(feed.RecordsRequests);
        feed.RequestCompleted(Request(feed));

        Assert.Empty(feed.RecentRequests());
        Assert.False(client.Events.TryRead(out _));
    }

    private static RequestRecord Request(DashboardFeed feed) =>
        new(feed.NextRequestId(), DateTimeOffset.UnixEpoch, false, "p/m", "p/m", "p:key-1", 200, "ok", null, null, TimeSpan.FromMilliseconds(5), null,
            null, 0m, []);

    private static ProviderStateView Provider(string id, params KeyStateView[] keys) => new(id, "openai-completions", null, [.. keys]);

    private static KeyStateView Key(string id, string state) =>
        new(id, "…abcd", "env", state, null, null, 0, ImmutableDictionary<string, int>.Empty, null, 0, 0);
}
