using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;
using Durar.Actors.Chat;

namespace Durar.Actors.Sessions;

/// <summary>
/// One subscriber of a run's reply (<see cref="SessionFanout"/>): an Akka.Streams queue feeding a SourceRef for a reader on
/// another node, or a <see cref="LocalReply"/> for a reader on the session's own node.
/// </summary>
internal interface IReplySubscriber
{
    /// <summary>
    /// Hands the reader <paramref name="e"/>, waiting while its buffer is full for at most <paramref name="stallTimeout"/>
    /// (then the reply fails with a <see cref="TimeoutException"/>). False when the reader is gone or stalled: drop it.
    /// </summary>
    ValueTask<bool> OfferAsync(ChatEvent e, TimeSpan stallTimeout);

    /// <summary>The reply is complete: the reader takes what is buffered, then the end.</summary>
    void Complete();
}

/// <summary>A subscriber on another node: the queue of a materialized <c>Source.Queue</c> whose SourceRef it reads.</summary>
internal sealed class QueueSubscriber(ISourceQueueWithComplete<ChatEvent> queue) : IReplySubscriber
{
    public async ValueTask<bool> OfferAsync(ChatEvent e, TimeSpan stallTimeout)
    {
        try
        {
            // WaitAsync drops its timer as soon as the offer completes (a Task.Delay would stay scheduled for the
            // whole stall timeout after every event that had to wait, i.e. for seconds after the session went idle).
            return await queue.OfferAsync(e).WaitAsync(stallTimeout).ConfigureAwait(false) is QueueOfferResult.Enqueued;
        }
        catch (TimeoutException)
        {
            queue.Fail(LocalReply.Stalled(stallTimeout));
            return false;
        }
        catch (Exception)
        {
            return false; // the consumer is gone (client disconnected)
        }
    }

    public void Complete() => queue.Complete();
}

/// <summary>
/// The reply of one turn for a reader on the session's own node (the HTTP request landed on the node hosting the shard,
/// and always in the embedded hosting): a bounded channel the run writes into and the reader takes from, with no stream
/// materialized and no SourceRef. Same semantics as the remote path: <c>gateway.sessions.replyBuffer</c> events deep, the
/// run waits while it is full for at most <c>replyStallTimeout</c> (then the reader gets a <see cref="TimeoutException"/>
/// after what was buffered), and a reader that leaves (<see cref="DisposeReader"/>) makes the run drop it.
/// </summary>
/// <remarks>
/// It is an <see cref="ISourceRef{TOut}"/> so <c>TurnAccepted.Events</c> keeps its type: a reader that wants a stream gets
/// one (<see cref="Source"/>), <see cref="SessionReply"/> reads the channel directly. It must never cross nodes, and it does
/// not: the session hands it out only to a local <c>Sender</c>, <c>serialize-messages</c> is off, and the wire serializer
/// refuses it (<see cref="ToSurrogate"/> throws too).
/// </remarks>
internal sealed class LocalReply : ISourceRef<ChatEvent>, IReplySubscriber, IAsyncEnumerable<ChatEvent>
{
    private readonly Channel<ChatEvent> _channel;

    public LocalReply(int buffer) =>
        _channel = Channel.CreateBounded<ChatEvent>(new BoundedChannelOptions(buffer)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false, // the run task offers; the fanout completes (session stopping, queue drop, the reply's end)
            // A waiting reader goes on where the run offers (issue 17: a thread-pool hop per event the reader caught up with
            // was a large part of a turn's extra CPU over a stateless request, which reads and writes in one flow). Never on
            // the session actor's thread: only the run task offers, and SessionFanout.CompleteAsync leaves the actor first.
            AllowSynchronousContinuations = true,
        });

    /// <summary>What a reply that waited too long for its reader fails with.</summary>
    public static TimeoutException Stalled(TimeSpan stallTimeout) =>
        new($"The reply's reader took no event for {stallTimeout.TotalSeconds:0} s.");

    public ValueTask<bool> OfferAsync(ChatEvent e, TimeSpan stallTimeout) =>
        _channel.Writer.TryWrite(e) ? new(true) : WaitAsync(e, stallTimeout);

    private async ValueTask<bool> WaitAsync(ChatEvent e, TimeSpan stallTimeout)
    {
        using var stalled = new CancellationTokenSource(stallTimeout);
        try
        {
            await _channel.Writer.WriteAsync(e, stalled.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            _channel.Writer.TryComplete(Stalled(stallTimeout));
            return false;
        }
        catch (ChannelClosedException)
        {
            return false; // the reader left
        }
    }

    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>The reader left: the run's offers to it fail (it is dropped), one waiting for room ends at once.</summary>
    public void DisposeReader() => _channel.Writer.TryComplete();

    /// <summary>
    /// The events, for one reader: <paramref name="ct"/> cancels a pending read; disposing the enumerator (also before the
    /// first read) drops the reader, so the run never waits on a reader that left.
    /// </summary>
    public IAsyncEnumerator<ChatEvent> GetAsyncEnumerator(CancellationToken ct = default) => new Reader(_channel.Reader, this, ct);

    /// <summary>The same events as an Akka stream (for readers that want one; <see cref="SessionReply"/> reads the channel).</summary>
    public Source<ChatEvent, NotUsed> Source => Akka.Streams.Dsl.Source.From(() => this);

    /// <summary>Never: a local reply does not cross nodes.</summary>
    public ISurrogate ToSurrogate(ActorSystem system) =>
        throw new NotSupportedException($"A {nameof(LocalReply)} is handed only to a reader on the session's own node; it cannot be serialized.");

    private sealed class Reader(ChannelReader<ChatEvent> reader, LocalReply reply, CancellationToken ct) : IAsyncEnumerator<ChatEvent>
    {
        public ChatEvent Current { get; private set; } = null!;

        public ValueTask<bool> MoveNextAsync()
        {
            if (!reader.TryRead(out var e)) return WaitAsync();
            Current = e;
            return new(true);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<bool> WaitAsync()
        {
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                if (!reader.TryRead(out var e)) continue;
                Current = e;
                return true;
            }
            return false;
        }

        public ValueTask DisposeAsync()
        {
            reply.DisposeReader();
            return default;
        }
    }
}
