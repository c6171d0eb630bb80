using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Durar.Api.Extensions;

/// <summary>
/// The response body as the endpoints see it during <see cref="GatewayDrain"/>: unchanged, except that once the response is
/// <c>text/event-stream</c> its <see cref="Writer"/> remembers the last bytes written. That is how the drain knows whether a
/// stream cut at the deadline had already ended with <c>data: [DONE]</c> (then it is left alone) or still needs its closing
/// frames. SSE is written through <see cref="HttpResponse.BodyWriter"/> only; <see cref="Stream"/> is passed through.
/// </summary>
internal sealed class EventStreamBodyFeature(IHttpResponseBodyFeature inner, HttpResponse response) : IHttpResponseBodyFeature
{
    private TailWriter? _events;

    /// <summary>True once an SSE response took the writer.</summary>
    public bool StreamStarted => _events is not null;

    /// <summary>True when the last bytes written are the <c>data: [DONE]</c> frame.</summary>
    public bool EndedWithDone => _events?.EndsWith("data: [DONE]\n\n"u8) == true;

    public Stream Stream => inner.Stream;

    public PipeWriter Writer => _events ?? (IsEventStream(response.ContentType) ? _events = new TailWriter(inner.Writer) : inner.Writer);

    public void DisableBuffering() => inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        inner.SendFileAsync(path, offset, count, cancellationToken);

    public Task CompleteAsync() => inner.CompleteAsync();

    private static bool IsEventStream(string? contentType) =>
        contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>A pass-through writer keeping a copy of the last <see cref="Capacity"/> bytes advanced.</summary>
    private sealed class TailWriter(PipeWriter inner) : PipeWriter
    {
        private const int Capacity = 16;
        private readonly byte[] _tail = new byte[Capacity];
        private int _length;
        private Memory<byte> _lease;

        public bool EndsWith(ReadOnlySpan<byte> suffix) =>
            suffix.Length <= _length && _tail.AsSpan(0, _length).EndsWith(suffix);

        public override Memory<byte> GetMemory(int sizeHint = 0) => _lease = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => (_lease = inner.GetMemory(sizeHint)).Span;

        public override void Advance(int bytes)
        {
            Remember(_lease.Span[..bytes]);
            _lease = _lease[bytes..];
            inner.Advance(bytes);
        }

        private void Remember(ReadOnlySpan<byte> written)
        {
            if (written.Length >= Capacity)
            {
                written[^Capacity..].CopyTo(_tail);
                _length = Capacity;
                return;
            }
            var keep = Math.Min(_length, Capacity - written.Length);
            _tail.AsSpan(_length - keep, keep).CopyTo(_tail);
            written.CopyTo(_tail.AsSpan(keep));
            _length = keep + written.Length;
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;
    }
}
