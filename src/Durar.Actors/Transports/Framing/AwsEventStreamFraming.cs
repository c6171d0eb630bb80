using System.Buffers;
using Amazon.Runtime.EventStreams;
using Amazon.Runtime.EventStreams.Internal;

namespace Durar.Actors.Transports;

/// <summary>
/// AWS event-stream (<c>application/vnd.amazon.eventstream</c>): binary frames (prelude, headers, payload, two CRC32s), as
/// Bedrock's ConverseStream answers. The frames are cut and checked by the AWS SDK's own decoder
/// (<see cref="EventStreamDecoder"/> in AWSSDK.Core), never by hand; each <see cref="EventStreamMessage"/> goes to the wire's
/// parser. A frame whose checksum or length is wrong ends the stream as malformed (the decoder cannot resynchronise).
/// </summary>
/// <remarks>
/// The SDK's decoder treats its <c>length</c> argument as the end of the data (it computes <c>length - offset</c>), so every
/// read lands at the start of the buffer and is handed over as <c>(buffer, 0, count)</c>, where both readings agree. It
/// allocates each message's bytes and the message itself; that is the SDK's price per frame.
/// </remarks>
internal sealed class AwsEventStreamFraming<TFrame>(Func<EventStreamMessage, TFrame> parse, Func<string, TFrame> malformed) : IStreamFraming<TFrame>
{
    private const int ReadSize = 16 * 1024;

    public string MediaType => "application/vnd.amazon.eventstream";

    public IAsyncEnumerator<TFrame> Open(Stream body, CancellationToken cancellationToken) => new Frames(body, parse, malformed, cancellationToken);

    private sealed class Frames : IAsyncEnumerator<TFrame>
    {
        private readonly Stream _body;
        private readonly Func<EventStreamMessage, TFrame> _parse;
        private readonly Func<string, TFrame> _malformed;
        private readonly CancellationToken _cancellationToken;
        private readonly EventStreamDecoder _decoder = new();
        private readonly Queue<TFrame> _ready = new();
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
        private bool _broken;

        public Frames(Stream body, Func<EventStreamMessage, TFrame> parse, Func<string, TFrame> malformed, CancellationToken cancellationToken)
        {
            _body = body;
            _parse = parse;
            _malformed = malformed;
            _cancellationToken = cancellationToken;
            _decoder.MessageReceived += (_, e) => _ready.Enqueue(_parse(e.Message));
        }

        public TFrame Current { get; private set; } = default!;

        public async ValueTask<bool> MoveNextAsync()
        {
            while (true)
            {
                if (_ready.TryDequeue(out var frame))
                {
                    Current = frame;
                    return true;
                }
                if (_broken) return false;
                var read = await _body.ReadAsync(_buffer.AsMemory(0, ReadSize), _cancellationToken).ConfigureAwait(false);
                if (read == 0) return false;
                try
                {
                    _decoder.ProcessData(_buffer, 0, read);
                }
                catch (Exception e) when (e is EventStreamChecksumFailureException or EventStreamDecoderIllegalStateException
                                              or EventStreamValidationException or ArgumentException or OverflowException or IndexOutOfRangeException)
                {
                    // Frames decoded before the bad one still go out first; then the malformed frame ends the stream.
                    _broken = true;
                    _ready.Enqueue(_malformed($"{e.GetType().Name}: {e.Message}"));
                }
            }
        }

        public ValueTask DisposeAsync()
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = [];
            }
            _decoder.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
