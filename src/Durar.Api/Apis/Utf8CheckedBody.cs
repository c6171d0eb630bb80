using System.Text;

namespace Durar.Api.Apis;

/// <summary>
/// A request body that must be UTF-8, checked as it is read. It exists because <see cref="System.Text.Json.JsonDocument"/>
/// accepts invalid UTF-8 inside strings and property names and fails only when a value is read, which may be deep in a
/// transport long after the request was accepted (a 500 where a 400 belongs). Checked here, the body is refused before
/// anything reads it. A sequence cut between two reads is carried over by the decoder.
/// </summary>
internal sealed class Utf8CheckedBody(Stream inner) : Stream
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly Decoder _decoder = Strict.GetDecoder();
    private long _offset;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Check(buffer.Span[..read], flush: read == 0);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Check(buffer.AsSpan(offset, read), flush: read == 0);
        return read;
    }

    private void Check(ReadOnlySpan<byte> bytes, bool flush)
    {
        try
        {
            _decoder.GetCharCount(bytes, flush);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidUtf8Exception(_offset + Math.Max(0, e.Index));
        }
        _offset += bytes.Length;
    }

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

/// <summary>A request body that is not valid UTF-8, near <see cref="Offset"/>.</summary>
internal sealed class InvalidUtf8Exception(long offset) : Exception($"The request body is not valid UTF-8 (near byte {offset}).")
{
    public long Offset { get; } = offset;
}
