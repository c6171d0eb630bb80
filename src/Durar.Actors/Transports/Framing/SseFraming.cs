using System.Net.ServerSentEvents;

namespace Durar.Actors.Transports;

/// <summary>
/// Server-sent events (<c>text/event-stream</c>), read with <see cref="SseParser"/>: each event's type and data go to the
/// wire's parser (give it a static lambda: no closure, no allocation per event). OpenAI and Anthropic stream this way.
/// </summary>
internal sealed class SseFraming<TFrame>(SseItemParser<TFrame> parse) : IStreamFraming<TFrame>
{
    public string MediaType => "text/event-stream";

    public IAsyncEnumerator<TFrame> Open(Stream body, CancellationToken cancellationToken) =>
        new Frames(SseParser.Create(body, parse).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken));

    /// <summary>The parser's items without their SSE envelope: one object per call, a field read per frame.</summary>
    private sealed class Frames(IAsyncEnumerator<SseItem<TFrame>> items) : IAsyncEnumerator<TFrame>
    {
        public TFrame Current => items.Current.Data;

        public ValueTask<bool> MoveNextAsync() => items.MoveNextAsync();

        public ValueTask DisposeAsync() => items.DisposeAsync();
    }
}
