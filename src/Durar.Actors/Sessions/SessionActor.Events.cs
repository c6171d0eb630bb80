using Akka.Actor;
using Durar.Actors.Sessions.Messages;
using Durar.Actors.Sessions.Watching;

namespace Durar.Actors.Sessions;

/// <summary>
/// The session's event stream (issue 18, <c>GET /v1/sessions/{key}/events</c>): watchers subscribe here, every journaled
/// fact is published with its sequence number as it is applied, and the running turn's live events through its
/// <see cref="SessionFanout"/>. The bookkeeping is <see cref="SessionEventHub"/>; this part of the actor only wires it, so
/// the turn protocol in <c>SessionActor.cs</c> changes in a few marked lines.
/// </summary>
internal sealed partial class SessionActor
{
    /// <summary>Created at the first watcher or run, and let go when a run ends with nobody watching (an idle session keeps a
    /// null: the hub holds nothing but its watchers, and 64 bytes in each of a node's idle sessions add up).</summary>
    private SessionEventHub? _events;

    private SessionEventHub Events => _events ??= new SessionEventHub(_services.Settings.Gateway.SessionEvents.WatcherBuffer);

    private void OnWatch()
    {
        var replyTo = Sender;
        var from = LastSequenceNr;
        var host = Context.Parent;
        Events.Add(Context.System).PipeTo(replyTo, success: r => new EventsWatched(_key, from, r) { Host = host },
            failure: e => new TurnRejected(_key, 500, "Could not open the event stream: " + e.Message, "stream_error"));
    }

    /// <summary>Publishes a journaled fact to the watchers (called as each event is applied, so <c>LastSequenceNr</c> is its own).</summary>
    private void Published(ISessionEvent e) => _events?.Journaled(LastSequenceNr, e);

    /// <summary>A run ended: with nobody watching, the hub goes (the next run or watcher makes a new one; the ended run's
    /// fanout may still publish its tail to the old one, which has no watchers).</summary>
    private void RunUnwatched()
    {
        if (_events is { HasWatchers: false }) _events = null;
    }

    /// <summary>Points the run's reply fanout at the watchers, so they see its live events.</summary>
    private void WatchRun(SessionRun run) => run.Fanout.Observe(Events, [.. run.RunIds]);
}
