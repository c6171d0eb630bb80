using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Durar.Actors.Chat;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions;

/// <summary>
/// The client side of a session's reply: the events of one accepted turn (<see cref="TurnAccepted.Events"/>, a stream
/// from whichever node runs the session), read until they end or until that node dies. It exists so an adapter (the
/// HTTP endpoints) only maps events to its wire: if the session's node crashes before the run ends, the stream would
/// wait forever, so the node's removal (seen by a <see cref="SessionHostWatcherActor"/> watching the session's shard
/// there) cancels <see cref="Token"/>, a pending <see cref="MoveNextAsync"/> ends with an
/// <see cref="OperationCanceledException"/>, and <see cref="Lost"/> turns true. A session that stops on a live node
/// (hand-off, passivation) ends its streams itself.
/// </summary>
/// <remarks>
/// Events already buffered are read without racing the node's death (no allocation per event). A reply from a session on
/// this node (<see cref="LocalReply"/>, the common case) is read straight from its channel: no graph materialized, no watcher
/// (a node cannot outlive itself).
/// </remarks>
public sealed class SessionReply : IAsyncEnumerator<ChatEvent>
{
    private readonly ActorSystem _system;
    private readonly CancellationTokenSource _cancel;
    private readonly TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IActorRef? _watcher;
    private readonly IAsyncEnumerator<ChatEvent> _events;
    private volatile bool _isLost;

    private SessionReply(ActorSystem system, ISourceRef<ChatEvent> events, IActorRef? host, IMaterializer materializer, CancellationToken ct)
    {
        _system = system;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (host is not null && events is not LocalReply)
        {
            var died = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _watcher = system.ActorOf(SessionHostWatcherActor.Props(host, died));
            _ = died.Task.ContinueWith(static (_, state) => ((SessionReply)state!).OnLost(), this, _cancel.Token,
                TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
        _events = events is LocalReply local
            ? local.GetAsyncEnumerator(_cancel.Token)
            : events.Source.RunAsAsyncEnumerable(materializer).GetAsyncEnumerator(_cancel.Token);
    }

    /// <summary>Starts reading the reply of <paramref name="accepted"/>; <paramref name="ct"/> is the reader's own (client gone).</summary>
    public static SessionReply Open(ActorSystem system, TurnAccepted accepted, IMaterializer materializer, CancellationToken ct) =>
        new(system, accepted.Events, accepted.Host, materializer, ct);

    /// <summary>Starts reading a session's event stream (<see cref="EventsWatched"/>), with the same watch on its node.</summary>
    public static SessionReply Open(ActorSystem system, EventsWatched watched, IMaterializer materializer, CancellationToken ct) =>
        new(system, watched.Events, watched.Host, materializer, ct);

    /// <summary>Cancelled when the reader's token is, or when the session's node died: what the writer of the reply should observe.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>True once the session's node left the cluster before the reply was complete.</summary>
    public bool Lost => _isLost;

    public ChatEvent Current => _events.Current;

    public ValueTask<bool> MoveNextAsync()
    {
        var next = _events.MoveNextAsync();
        // Only a reply watched on another node can be lost; a local one has nothing to race (no task, no WhenAny per wait).
        return next.IsCompleted || _watcher is null ? next : RaceAsync(next);
    }

    private async ValueTask<bool> RaceAsync(ValueTask<bool> next)
    {
        var pending = next.AsTask();
        if (await Task.WhenAny(pending, _lost.Task).ConfigureAwait(false) == _lost.Task)
        {
            _ = pending.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default); // observed: the stream is being torn down
            throw new OperationCanceledException("The session stopped before the reply was complete.");
        }
        return await pending.ConfigureAwait(false);
    }

    private void OnLost()
    {
        _isLost = true;
        _lost.TrySetResult();
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The reader finished in the meantime: nothing is left to cancel.
        }
    }

    /// <summary>Ends the read: cancels the stream, stops the watcher and releases both.</summary>
    public async ValueTask DisposeAsync()
    {
        await _cancel.CancelAsync().ConfigureAwait(false);
        if (_watcher is not null) _system.Stop(_watcher);
        await _events.DisposeAsync().ConfigureAwait(false);
        _cancel.Dispose();
    }
}
