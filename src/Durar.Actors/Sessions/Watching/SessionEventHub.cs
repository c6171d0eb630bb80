using System.Collections.Immutable;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Durar.Actors.Chat;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions.Watching;

/// <summary>
/// The watchers of one session's event stream (<c>GET /v1/sessions/{key}/events</c>). Each watcher is its own bounded
/// Akka.Streams queue feeding a SourceRef (so a watcher on any node reads it): publishing never waits, and a watcher whose
/// queue is full fails with <see cref="BufferOverflowException"/>, which its stream turns into a final
/// <see cref="SessionWatchEvents.Dropped"/> event. So a slow watcher is cut and never slows the run or the other watchers,
/// and nothing is buffered without bound. Thread-safe: the actor publishes journaled facts, the run task its deltas; one
/// lock keeps every watcher's order the same.
/// </summary>
internal sealed class SessionEventHub(int buffer)
{
    private readonly object _gate = new();
    private ImmutableArray<ISourceQueueWithComplete<ChatEvent>> _watchers = [];

    /// <summary>True while at least one watcher is connected (the session is then not passivated).</summary>
    public bool HasWatchers => !_watchers.IsEmpty;

    /// <summary>Adds a watcher: its queue from now on, and the SourceRef it is read through (pipe the task to the asker).</summary>
    public Task<ISourceRef<ChatEvent>> Add(ActorSystem system)
    {
        var dropped = new SessionWatchEvent(0, SessionWatchEvents.Dropped,
            $$"""{"reason":"slow_watcher","buffer":{{buffer}}}""");
        var ((queue, ended), sourceRef) = Source.Queue<ChatEvent>(buffer, OverflowStrategy.Fail)
            .WatchTermination(Keep.Both)
            // The overflow fails the queue and drops what it held: the watcher gets the final event right after what it read.
            .Recover(e => e is BufferOverflowException ? Akka.Util.Option<ChatEvent>.Create(dropped) : Akka.Util.Option<ChatEvent>.None)
            .ToMaterialized(StreamRefs.SourceRef<ChatEvent>(), Keep.Both)
            .Run(SessionStreams.For(system));
        lock (_gate) _watchers = _watchers.Add(queue);
        ended.ContinueWith(static (_, state) => ((Removal)state!).Run(), new Removal(this, queue), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return sourceRef;
    }

    /// <summary>A journaled fact, numbered by its journal sequence number.</summary>
    public void Journaled(long sequenceNr, ISessionEvent e)
    {
        if (_watchers.IsEmpty) return;
        if (SessionEventFeed.Of(sequenceNr, e) is { } watched) Publish(watched);
    }

    /// <summary>A live event of the running turn (<paramref name="runIds"/>); deltas are not journaled as events, so they are not replayed.</summary>
    public void Live(ChatEvent e, ImmutableArray<string> runIds)
    {
        if (_watchers.IsEmpty) return;
        if (SessionEventFeed.Live(e, runIds) is { } watched) Publish(watched);
    }

    /// <summary>Ends every watcher with <paramref name="final"/> (the session stops).</summary>
    public void Close(SessionWatchEvent final)
    {
        ImmutableArray<ISourceQueueWithComplete<ChatEvent>> all;
        lock (_gate)
        {
            all = _watchers;
            _watchers = [];
        }
        foreach (var q in all)
        {
            Observe(q.OfferAsync(final));
            q.Complete();
        }
    }

    private void Publish(SessionWatchEvent e)
    {
        lock (_gate)
            foreach (var q in _watchers)
                Observe(q.OfferAsync(e)); // never awaited: a full queue fails that watcher instead of waiting for it
    }

    /// <summary>An offer to a watcher that overflowed or went away fails; its removal follows from its termination.</summary>
    private static void Observe(Task<IQueueOfferResult> offer)
    {
        if (offer.IsCompleted) _ = offer.Exception;
        else offer.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void Remove(ISourceQueueWithComplete<ChatEvent> queue)
    {
        lock (_gate) _watchers = _watchers.Remove(queue);
    }

    private sealed record Removal(SessionEventHub Hub, ISourceQueueWithComplete<ChatEvent> Queue)
    {
        public void Run() => Hub.Remove(Queue);
    }
}
