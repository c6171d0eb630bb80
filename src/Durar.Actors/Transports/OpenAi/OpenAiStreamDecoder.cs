using Durar.Actors.Chat;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.OpenAi;

/// <summary>
/// Reads an OpenAI chat-completions stream into canonical events: every choice's text, reasoning, refusal and tool-call
/// deltas, logprobs and unknown fields verbatim, finish reasons, usage (with the upstream's own usage object), and the
/// answer's <c>system_fingerprint</c>/<c>service_tier</c>/unknown top-level fields as <see cref="StreamMeta"/> whenever they
/// change. Terminal rule: a <c>finish_reason</c> completes the answer (the usage chunk may still follow) and <c>[DONE]</c>
/// ends the stream; <c>finish_reason: error</c> and an <c>error</c> object fail it. One instance per stream (it remembers
/// the last meta it sent).
/// </summary>
internal sealed class OpenAiStreamDecoder : IStreamDecoder<OpenAiChunk>
{
    private StreamMeta? _meta;

    public FrameVerdict Decode(in OpenAiChunk chunk, List<ChatEvent> events)
    {
        if (chunk.Done) return FrameVerdict.EndOfStream;
        if (chunk.Malformed is { } bad) return FrameVerdict.Malformed($"malformed chunk from upstream: {bad}");
        if (chunk.Error is { } error) return FrameVerdict.Fail(error);
        if ((chunk.SystemFingerprint is not null || chunk.ServiceTier is not null || chunk.Extra is not null) && Changed(chunk))
            events.Add(_meta = new StreamMeta(null, null, chunk.SystemFingerprint, chunk.ServiceTier) { Extra = chunk.Extra });
        if (chunk.Text is { } text) events.Add(new TextDelta(text));
        if (chunk.Events is { } more) events.AddRange(more);
        if (chunk.FinishedWithError)
            return FrameVerdict.Fail(new UpstreamFailure(500, "the provider ended the response with finish_reason: error"));
        if (chunk.Usage is { } usage) events.Add(usage);
        return chunk.Finishes ? FrameVerdict.Finished : FrameVerdict.Continue;
    }

    private bool Changed(in OpenAiChunk chunk) =>
        _meta is null || _meta.SystemFingerprint != chunk.SystemFingerprint || _meta.ServiceTier != chunk.ServiceTier
        || _meta.Extra?.GetRawText() != chunk.Extra?.GetRawText();
}
