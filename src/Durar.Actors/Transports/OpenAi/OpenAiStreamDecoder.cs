using Durar.Actors.Chat;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.OpenAi;

/// <summary>
/// Reads an OpenAI chat-completions stream: content and tool-call deltas, the finish reason and the usage chunk become
/// neutral events. Terminal rule: a <c>finish_reason</c> completes the answer (the usage chunk may still follow) and
/// <c>[DONE]</c> ends the stream; <c>finish_reason: error</c> and an <c>error</c> object fail it. Stateless: one instance.
/// </summary>
internal sealed class OpenAiStreamDecoder : IStreamDecoder<OpenAiChunk>
{
    public static readonly OpenAiStreamDecoder Instance = new();

    private OpenAiStreamDecoder()
    {
    }

    public FrameVerdict Decode(in OpenAiChunk chunk, List<ChatEvent> events)
    {
        if (chunk.Done) return FrameVerdict.EndOfStream;
        if (chunk.Malformed is { } bad) return FrameVerdict.Malformed($"malformed chunk from upstream: {bad}");
        if (chunk.Error is { } error) return FrameVerdict.Fail(error);
        if (chunk.Text is { Length: > 0 } text) events.Add(new TextDelta(text));
        if (chunk.ToolCalls is { } calls)
            foreach (var call in calls) events.Add(call);
        var verdict = FrameVerdict.Continue;
        if (chunk.FinishReason is { } reason)
        {
            if (reason == "error")
                return FrameVerdict.Fail(new UpstreamFailure(500, "the provider ended the response with finish_reason: error"));
            events.Add(new Finished(reason));
            verdict = FrameVerdict.Finished;
        }
        if (chunk.Usage is { } usage) events.Add(new UsageReport(usage));
        return verdict;
    }
}
