using System.Text;

namespace Durar.Api.Apis;

/// <summary>
/// A request body that must be UTF-8, checked as it is read. It exists because <see cref="System.Text.Json.JsonDocument"/>
/// accepts invalid UTF-8 inside strings and property names and fails only when a value is read, which may be deep in a
/// transport long after the request was accepted (a 500 where a 400 belongs). Checked here, the body is refused before
/// anything reads it. A sequence cut between two reads is carried over by the decoder.
/// <para>
/// The same holds for a <c>\uXXXX</c> escape of a lone UTF-16 surrogate (a high one not followed by an escaped low one,
/// or a low one alone): <see cref="System.Text.Json.JsonDocument"/> accepts it and reading the string throws later,
/// possibly in the transport that forwards the field. <see cref="SurrogateEscapes"/> follows the escapes as the bytes
/// pass (the next backslash is found with a vectorized search, so bodies without escapes cost nothing more).
/// </para>
/// </summary>
internal sealed class Utf8CheckedBody(Stream inner) : Stream
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly Decoder _decoder = Strict.GetDecoder();
    private readonly SurrogateEscapes _escapes = new();
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
        if (_escapes.FindLone(bytes, flush) is { } at)
            throw new InvalidUtf8Exception(_offset + at,
                $"The request body has a \\u escape of a lone UTF-16 surrogate (near byte {_offset + at}); a surrogate must be escaped as a high-low pair.");
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

/// <summary>A request body that is not valid UTF-8 (or escapes a lone surrogate), near <see cref="Offset"/>.</summary>
internal sealed class InvalidUtf8Exception(long offset, string? message = null)
    : Exception(message ?? $"The request body is not valid UTF-8 (near byte {offset}).")
{
    public long Offset { get; } = offset;
}

/// <summary>
/// Follows the <c>\uXXXX</c> escapes of a JSON text given in pieces and finds the first that stands for a lone UTF-16
/// surrogate. Escapes are only recognised as JSON writes them (a backslash starts an escape, <c>\\</c> is one); a text
/// that is not JSON is the parser's to refuse.
/// </summary>
internal sealed class SurrogateEscapes
{
    private int _state;       // 0 outside an escape, 1 after a backslash, 2..5 reading the four hex digits
    private int _unit;        // the code unit being read
    private bool _pendingHigh; // a high surrogate was escaped: the next bytes must escape a low one

    /// <summary>The index in <paramref name="bytes"/> of the first byte that shows a lone surrogate escape, or null.</summary>
    public int? FindLone(ReadOnlySpan<byte> bytes, bool end)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            switch (_state)
            {
                case 0:
                    if (b == (byte)'\\') { _state = 1; break; }
                    if (_pendingHigh) return i;
                    var next = bytes[i..].IndexOf((byte)'\\');
                    if (next < 0) return null;
                    i += next - 1;
                    break;
                case 1:
                    if (b == (byte)'u') { _state = 2; _unit = 0; break; }
                    if (_pendingHigh) return i;
                    _state = 0;
                    break;
                default:
                    var digit = HexValue(b);
                    if (digit < 0) { _state = 0; _pendingHigh = false; break; } // not a valid escape: the parser refuses it
                    _unit = (_unit << 4) | digit;
                    if (++_state < 6) break;
                    _state = 0;
                    var low = _unit is >= 0xDC00 and <= 0xDFFF;
                    if (_pendingHigh != low) return i;
                    _pendingHigh = _unit is >= 0xD800 and <= 0xDBFF;
                    break;
            }
        }
        return end && _pendingHigh ? Math.Max(0, bytes.Length - 1) : null;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
