using Durar.Actors.Resilience;

namespace Durar.Actors.Transports;

/// <summary>
/// A provider's response body as the transports read it: decompressed by the handler, then bounded here, so that neither a
/// compressed bomb nor an endless line can take the node's memory. A whole answer may hold at most
/// <c>gateway.upstream.maxResponseBytes</c> decoded bytes; a streamed answer has no total bound (a long stream is legitimate
/// and the run limit ends it) but no line of it may exceed <c>gateway.upstream.maxLineBytes</c>, since the SSE and NDJSON
/// readers buffer a line until its end. Passing a bound ends the exchange with a classified failure (the run fails over),
/// never an unhandled exception.
/// </summary>
/// <remarks>
/// Every read that returns bytes is progress for the idle timer: SSE comment keep-alives (<c>: ping</c>), which the event
/// parser swallows, keep a slow but live stream from being timed out.
/// </remarks>
internal sealed class GuardedBody : Stream
{
    private readonly Stream _inner;
    private readonly string _providerId;
    private readonly IdleTimer _idle;
    private readonly long _maxTotal; // 0 = no total bound
    private readonly int _maxLine;   // 0 = no line bound
    private long _total;
    private long _line; // bytes since the last LF

    private GuardedBody(Stream inner, string providerId, IdleTimer idle, long maxTotal, int maxLine)
    {
        _inner = inner;
        _providerId = providerId;
        _idle = idle;
        _maxTotal = maxTotal;
        _maxLine = maxLine;
    }

    /// <summary>A whole answer: at most <paramref name="maxBytes"/> decoded bytes in all.</summary>
    public static Stream Whole(Stream inner, string providerId, IdleTimer idle, long maxBytes) =>
        new GuardedBody(inner, providerId, idle, maxBytes, 0);

    /// <summary>A stream of lines (SSE, NDJSON): no line longer than <paramref name="maxLineBytes"/>.</summary>
    public static Stream Lines(Stream inner, string providerId, IdleTimer idle, int maxLineBytes) =>
        new GuardedBody(inner, providerId, idle, 0, maxLineBytes);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (read > 0) Count(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(Span<byte> buffer)
    {
        var read = _inner.Read(buffer);
        if (read > 0) Count(buffer[..read]);
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    private void Count(ReadOnlySpan<byte> bytes)
    {
        _idle.Touch();
        if (_maxTotal > 0 && (_total += bytes.Length) > _maxTotal)
            throw UpstreamErrors.Transport(_providerId, UpstreamTransportError.MalformedStream,
                $"upstream answer larger than gateway.upstream.maxResponseBytes ({_maxTotal} bytes decoded); the gateway stopped reading it");
        if (_maxLine <= 0) return;
        while (true)
        {
            var newline = bytes.IndexOf((byte)'\n');
            if (newline < 0)
            {
                _line += bytes.Length;
                break;
            }
            if (_line + newline > _maxLine) throw LineTooLong();
            _line = 0;
            bytes = bytes[(newline + 1)..];
        }
        if (_line > _maxLine) throw LineTooLong();
    }

    private UpstreamException LineTooLong() =>
        UpstreamErrors.Transport(_providerId, UpstreamTransportError.MalformedStream,
            $"upstream stream line longer than gateway.upstream.maxLineBytes ({_maxLine} bytes); the gateway stopped reading it");

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => _inner.DisposeAsync();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
