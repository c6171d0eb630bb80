using Durar.Actors.Chat;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports;

/// <summary>
/// A wire's reading of its stream: each frame becomes neutral <see cref="ChatEvent"/>s and a <see cref="FrameVerdict"/>. It
/// exists so the wire states its own rules (which event is terminal, what an error event or a malformed frame is) while
/// <see cref="HttpChatTransport{TFrame}"/> owns the loop, the idle timer and the failures.
/// </summary>
/// <remarks>
/// One decoder reads one stream, so it may keep state (a stateless wire shares one instance across calls). It appends to
/// the caller's reused list instead of returning a sequence: no iterator is allocated per frame.
/// </remarks>
internal interface IStreamDecoder<TFrame>
{
    /// <summary>Appends the events <paramref name="frame"/> carries to <paramref name="events"/>, and says what it means for the stream.</summary>
    /// <remarks>Events appended before a failing verdict still reach the client, ahead of the failure.</remarks>
    FrameVerdict Decode(in TFrame frame, List<ChatEvent> events);
}

/// <summary>What one frame means for the stream it arrived on.</summary>
internal readonly struct FrameVerdict
{
    private readonly Kind _kind;

    private FrameVerdict(Kind kind, UpstreamFailure? failure)
    {
        _kind = kind;
        Failure = failure;
    }

    /// <summary>Keep reading; the answer is not complete yet.</summary>
    public static FrameVerdict Continue => default;

    /// <summary>The wire's terminal event arrived (e.g. a finish reason); frames after it (trailing usage) are still read.</summary>
    public static FrameVerdict Finished => new(Kind.Finished, null);

    /// <summary>The terminal event arrived and nothing after it matters (e.g. <c>[DONE]</c>, <c>message_stop</c>): stop reading.</summary>
    public static FrameVerdict EndOfStream => new(Kind.EndOfStream, null);

    /// <summary>The frame reports a failure (a provider error event); the provider id is filled in by the transport.</summary>
    public static FrameVerdict Fail(UpstreamFailure failure) => new(Kind.Failed, failure);

    /// <summary>The frame could not be parsed: the stream fails as <see cref="UpstreamTransportError.MalformedStream"/>.</summary>
    public static FrameVerdict Malformed(string message) =>
        new(Kind.Failed, UpstreamErrors.Failure(null, UpstreamTransportError.MalformedStream, message));

    /// <summary>The failure to throw, when the verdict is one.</summary>
    public UpstreamFailure? Failure { get; }

    /// <summary>The answer is complete: a stream ending after this frame was not cut.</summary>
    public bool Completes => _kind is Kind.Finished or Kind.EndOfStream;

    /// <summary>Stop reading after this frame.</summary>
    public bool Stops => _kind == Kind.EndOfStream;

    private enum Kind : byte { Continue, Finished, EndOfStream, Failed }
}
