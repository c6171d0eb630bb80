using System.Collections.Immutable;
using System.Text;
using Durar.Actors.Chat;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// A whole (non-streamed) Gemini answer as a <see cref="ChatCompletion"/>, by the same rules as the stream
/// (<see cref="GeminiStreamDecoder"/>): text parts are the answer, thought parts its reasoning, function calls its tool calls;
/// an error object, a blocked prompt or a malformed function call throws <see cref="UpstreamException"/>.
/// </summary>
internal static class GeminiCompletionParser
{
    public static ChatCompletion Parse(GeminiChunk chunk, string providerId)
    {
        if (chunk.Malformed is { } bad) throw UpstreamErrors.Transport(providerId, UpstreamTransportError.MalformedStream, $"malformed JSON from upstream: {bad}");
        if (chunk.Error is { } error) throw new UpstreamException(error with { ProviderId = providerId }, UpstreamException.NoHints);
        if (chunk.Blocked(providerId) is { } blocked) throw new UpstreamException(blocked, UpstreamException.NoHints);
        if (chunk.FinishReason is null && chunk.Parts.Count == 0)
            throw UpstreamErrors.Transport(providerId, UpstreamTransportError.MalformedStream, "upstream answer has no candidates");
        var text = new StringBuilder();
        StringBuilder? reasoning = null;
        var calls = ImmutableArray.CreateBuilder<ToolCall>();
        foreach (var part in chunk.Parts)
        {
            switch (part.Kind)
            {
                case GeminiPartKind.Thought:
                    (reasoning ??= new StringBuilder()).Append(part.Text);
                    break;
                case GeminiPartKind.Text:
                    text.Append(part.Text);
                    break;
                case GeminiPartKind.FunctionCall:
                    calls.Add(new ToolCall(GeminiToolIds.New(part.CallId, part.Signature), part.Name ?? "", part.Text));
                    break;
            }
        }
        var finish = GeminiChunk.MapFinish(chunk.FinishReason ?? "STOP", calls.Count > 0)
            ?? throw new UpstreamException(chunk.FinishFailure(providerId), UpstreamException.NoHints);
        return new ChatCompletion(text.Length == 0 && calls.Count > 0 ? null : text.ToString(), calls.ToImmutable(), finish,
            chunk.Usage?.ToTokenUsage(), chunk.ModelVersion)
        {
            Reasoning = reasoning?.ToString(),
        };
    }
}
