using System.Buffers;

namespace Durar.Actors.Transports;

/// <summary>Parses one line of a newline-delimited stream (without its line ending) into a wire frame.</summary>
internal delegate TFrame NdjsonLineParser<out TFrame>(ReadOnlySpan<byte> line);

/// <summary>
/// Newline-delimited JSON (<c>application/x-ndjson</c>): one frame per line, as Ollama's native API streams. Lines end with
/// LF or CRLF; blank lines are skipped; a last line without a line ending still counts. Lines are cut in one pooled buffer
/// that grows to the longest line, so reading allocates nothing per line.
/// </summary>
internal sealed class NdjsonFraming<TFrame>(NdjsonLineParser<TFrame> parse) : IStreamFraming<TFrame>
{
    private const int InitialBufferSize = 4096;

    public string MediaType => "application/x-ndjson";

    public IAsyncEnumerator<TFrame> Open(Stream body, CancellationToken cancellationToken) => new Lines(body, parse, cancellationToken);

    private sealed class Lines(Stream body, NdjsonLineParser<TFrame> parse, CancellationToken cancellationToken) : IAsyncEnumerator<TFrame>
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
        private int _start; // first unread byte
        private int _end;   // end of the bytes read so far
        private bool _eof;

        public TFrame Current { get; private set; } = default!;

        public async ValueTask<bool> MoveNextAsync()
        {
            while (true)
            {
                if (TryTakeLine()) return true;
                if (_eof) return false;
                MakeRoom();
                var read = await body.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
                if (read == 0) _eof = true;
                else _end += read;
            }
        }

        /// <summary>Parses the next non-blank line in the buffer (at the end of the body, also an unterminated one).</summary>
        private bool TryTakeLine()
        {
            while (_start < _end)
            {
                var pending = _buffer.AsSpan(_start, _end - _start);
                var newline = pending.IndexOf((byte)'\n');
                if (newline < 0 && !_eof) return false;
                var line = newline < 0 ? pending : pending[..newline];
                _start += newline < 0 ? pending.Length : newline + 1;
                if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
                if (line.Trim(" \t"u8).IsEmpty) continue;
                Current = parse(line);
                return true;
            }
            return false;
        }

        /// <summary>Moves the unread tail to the front, and doubles the buffer when a line fills all of it.</summary>
        private void MakeRoom()
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            if (_end < _buffer.Length) return;
            var grown = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, _end).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = grown;
        }

        public ValueTask DisposeAsync()
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = [];
                _start = _end = 0;
            }
            return ValueTask.CompletedTask;
        }
    }
}
