using Durar.Actors.Chat;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// Reads one Gemini stream (<c>streamGenerateContent?alt=sse</c>, every event a whole <see cref="GeminiChunk"/>) into canonical
/// events: text parts as <see cref="TextDelta"/>; thought parts (<c>thought: true</c>) as <see cref="ReasoningDelta"/>, never
/// mixed into the answer; each function call, which Gemini sends whole, as one <see cref="ToolCallDelta"/> with its own
/// 0-based index and an id carrying its thought signature (<see cref="GeminiToolIds"/>). Terminal rule: a
/// <c>finishReason</c> completes the answer (<see cref="Finished"/>, then the latest <c>usageMetadata</c>); a stream that ends
/// without one was cut. An <c>error</c> event fails the stream, a blocked prompt fails it as a refusal, a malformed function
/// call as a 502.
/// </summary>
internal sealed class GeminiStreamDecoder : IStreamDecoder<GeminiChunk>
{
    private int _calls;
    private GeminiUsage? _usage;
    private bool _finished;

    public FrameVerdict Decode(in GeminiChunk chunk, List<ChatEvent> events)
    {
        if (chunk.Malformed is { } bad) return FrameVerdict.Malformed($"malformed event from upstream: {bad}");
        if (chunk.Error is { } error) return FrameVerdict.Fail(error);
        if (chunk.Blocked(null) is { } blocked) return FrameVerdict.Fail(blocked);
        foreach (var part in chunk.Parts)
        {
            switch (part.Kind)
            {
                case GeminiPartKind.Thought when part.Text.Length > 0:
                    events.Add(new ReasoningDelta(part.Text));
                    break;
                case GeminiPartKind.Text when part.Text.Length > 0:
                    events.Add(new TextDelta(part.Text));
                    break;
                case GeminiPartKind.FunctionCall:
                    events.Add(new ToolCallDelta(_calls++, GeminiToolIds.New(part.CallId, part.Signature), part.Name, part.Text));
                    break;
            }
        }
        _usage = chunk.Usage ?? _usage;
        if (chunk.FinishReason is not { } reason || _finished) return _finished ? FrameVerdict.Finished : FrameVerdict.Continue;
        if (GeminiChunk.MapFinish(reason, _calls > 0) is not { } finish) return FrameVerdict.Fail(chunk.FinishFailure(null));
        _finished = true;
        events.Add(new Finished(finish));
        if (_usage is { } usage) events.Add(new UsageReport(usage.ToTokenUsage()));
        return FrameVerdict.Finished;
    }
}
