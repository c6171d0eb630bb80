using System.Buffers;
using System.Net;

namespace Durar.Actors.Transports;

/// <summary>
/// A request body written as JSON into a pooled buffer (no per-call array, no copy); the buffer goes back to the pool when the
/// content is disposed, which the transports do by disposing the request after the exchange ends.
/// </summary>
internal sealed class PooledJsonContent : HttpContent, IBufferWriter<byte>
{
    private byte[] _buffer;
    private int _length;

    public PooledJsonContent(int initialCapacity = 2048)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
        Headers.TryAddWithoutValidation("Content-Type", "application/json");
    }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_length);
    }

    private void Ensure(int sizeHint)
    {
        if (_buffer.Length - _length >= Math.Max(sizeHint, 1)) return;
        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + sizeHint));
        _buffer.AsSpan(0, _length).CopyTo(grown);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = grown;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        stream.WriteAsync(_buffer.AsMemory(0, _length)).AsTask();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        stream.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken).AsTask();

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        stream.Write(_buffer, 0, _length);

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            _length = 0;
        }
        base.Dispose(disposing);
    }
}
