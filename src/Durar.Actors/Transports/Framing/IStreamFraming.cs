namespace Durar.Actors.Transports;

/// <summary>
/// How a streamed answer's body is cut into frames: SSE (<see cref="SseFraming{TFrame}"/>), newline-delimited JSON
/// (<see cref="NdjsonFraming{TFrame}"/>, Ollama) or, later, AWS event-stream (Bedrock). It exists so that
/// <see cref="HttpChatTransport{TFrame}"/> reads every streaming wire with one loop: the framing finds frame boundaries
/// and hands each frame's bytes to the wire's own parser, which turns them into a <typeparamref name="TFrame"/>.
/// </summary>
/// <remarks>
/// A framing is stateless and shared by every call of its transport; the per-call reader it opens holds the state. Frame
/// bytes are lent to the wire's parser for the duration of the call only (a span over a reused buffer): the parser copies
/// what it keeps, so a stream allocates nothing per frame beyond what the parser builds.
/// </remarks>
/// <typeparam name="TFrame">The wire's parsed frame (a struct where the wire can, so nothing is allocated per frame).</typeparam>
internal interface IStreamFraming<TFrame>
{
    /// <summary>The media type a streaming request asks for with <c>Accept</c>; null sends no <c>Accept</c>.</summary>
    string? MediaType { get; }

    /// <summary>
    /// Starts reading frames from <paramref name="body"/>. The enumerator's exceptions are the body stream's own (I/O,
    /// cancellation); the caller translates them. Disposing it stops reading (the body is disposed with the response).
    /// </summary>
    IAsyncEnumerator<TFrame> Open(Stream body, CancellationToken cancellationToken);
}
