using System.Collections.Immutable;
using Durar.Actors.Chat;
using Durar.Actors.Sessions.Watching;

namespace Durar.Actors.Sessions;

/// <summary>
/// The subscribers of one run: each is a <see cref="LocalReply"/> (a reader on the session's own node) or an Akka.Streams
/// queue feeding a SourceRef (a reader on another node), see <see cref="SessionStreams.HandOut"/>. The run task offers every
/// event to all of them with backpressure; a subscriber whose client went away is dropped and the run goes
/// on, so the reply still lands in the transcript. Thread-safe: the actor adds subscribers, the run task offers.
/// </summary>
/// <param name="stallTimeout">
/// How long one subscriber may hold the run up by not taking an event (its buffer is full): <c>gateway.sessions.replyStallTimeout</c>.
/// A consumer on a node that crashed takes nothing until that node is removed from the cluster, if ever; the run must not
/// wait on it, since the session's next turns queue behind the run. A client that merely reads slowly keeps up well within it.
/// </param>
internal sealed class SessionFanout(TimeSpan stallTimeout)
{
    private readonly object _gate = new();
    private List<IReplySubscriber> _subscribers = [];
    private SessionEventHub? _watchers;
    private ImmutableArray<string> _runIds = [];

    /// <summary>
    /// Also shows the run's events to the session's watchers (<c>GET .../events</c>): published without waiting, so a
    /// watcher never holds the run up the way a reply's reader may (set once, before the run starts).
    /// </summary>
    public void Observe(SessionEventHub watchers, ImmutableArray<string> runIds)
    {
        _runIds = runIds;
        _watchers = watchers;
    }

    public void Add(IReplySubscriber queue)
    {
        lock (_gate) _subscribers = [.. _subscribers, queue];
    }

    /// <summary>One fanout over the subscribers of several merged turns (collect mode), with the first one's stall timeout.</summary>
    public static SessionFanout Merge(IReadOnlyList<SessionFanout> parts)
    {
        var merged = new SessionFanout(parts[0].StallTimeout);
        foreach (var part in parts)
            lock (part._gate) merged._subscribers = [.. merged._subscribers, .. part._subscribers];
        return merged;
    }

    public int Count
    {
        get { lock (_gate) return _subscribers.Count; }
    }

    /// <summary>How long one subscriber may hold the run up (see the constructor).</summary>
    public TimeSpan StallTimeout { get; } = stallTimeout;

    /// <summary>
    /// A fanout that holds every offer until <see cref="Release"/>: the run of a turn started while its user message is
    /// still being journaled (<c>SessionActor.StartEarly</c>) waits here with its first event, so neither its reader nor
    /// the session's watchers see anything of it before the message is journaled and acknowledged.
    /// </summary>
    public static SessionFanout Held(TimeSpan stallTimeout) =>
        new(stallTimeout) { _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };

    private TaskCompletionSource? _held;

    /// <summary>Lets the offers of a <see cref="Held"/> fanout through (once its subscribers and watchers are set); no-op otherwise.</summary>
    public void Release() => _held?.TrySetResult();

    public Task OfferAsync(ChatEvent e)
    {
        if (_held is { Task.IsCompleted: false } held) return OfferWhenReleasedAsync(held.Task, e);
        _watchers?.Live(e, _runIds);
        return OfferToSubscribersAsync(e);
    }

    private async Task OfferWhenReleasedAsync(Task released, ChatEvent e)
    {
        await released.ConfigureAwait(false);
        await OfferAsync(e).ConfigureAwait(false);
    }

    private async Task OfferToSubscribersAsync(ChatEvent e)
    {
        List<IReplySubscriber> current;
        lock (_gate) current = _subscribers;
        foreach (var q in current)
        {
            bool accepted;
            try
            {
                accepted = await q.OfferAsync(e, StallTimeout).ConfigureAwait(false);
            }
            catch (Exception)
            {
                accepted = false; // the consumer is gone (client disconnected): keep running for the others and the transcript
            }
            if (!accepted) Remove(q);
        }
    }

    /// <summary>
    /// Offers <paramref name="tail"/> to the subscribers and ends their replies, on the thread pool: the session actor calls
    /// this, and a <see cref="LocalReply"/>'s reader goes on where its events are written (the end of an HTTP request must
    /// not run on the actor's thread).
    /// </summary>
    public Task CompleteAsync(IEnumerable<ChatEvent> tail) => Task.Run(() => CompleteNowAsync(tail));

    private async Task CompleteNowAsync(IEnumerable<ChatEvent> tail)
    {
        // The tail (usage line, finish, error) is the reply's own: watchers get the journaled outcome instead.
        foreach (var e in tail) await OfferToSubscribersAsync(e).ConfigureAwait(false);
        List<IReplySubscriber> current;
        lock (_gate)
        {
            current = _subscribers;
            _subscribers = [];
        }
        foreach (var q in current) q.Complete();
    }

    private void Remove(IReplySubscriber q)
    {
        lock (_gate) _subscribers = _subscribers.Where(s => !ReferenceEquals(s, q)).ToList();
    }
}
