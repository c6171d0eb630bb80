using Durar.Actors.Chat;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.Ollama;

/// <summary>
/// Reads one Ollama <c>/api/chat</c> NDJSON stream: <c>thinking</c> → reasoning, <c>content</c> → text, each whole tool call →
/// a tool-call delta, the line with <c>done: true</c> → the finish reason and the token counts (the terminal line), and an
/// <c>{"error":"..."}</c> line → a failure (Ollama reports errors after the 200 this way, e.g. a model that failed to load).
/// </summary>
internal sealed class OllamaStreamDecoder : IStreamDecoder<OllamaLine>
{
    private int _toolCalls;

    public FrameVerdict Decode(in OllamaLine line, List<ChatEvent> events)
    {
        if (line.Error is { } error) return FrameVerdict.Fail(OllamaErrors.Failure(null, error));
        if (line.Thinking is { Length: > 0 } thinking) events.Add(new ReasoningDelta(thinking));
        if (line.Content is { Length: > 0 } content) events.Add(new TextDelta(content));
        foreach (var call in line.ToolCalls)
        {
            var index = _toolCalls++;
            events.Add(new ToolCallDelta(index, call.Id.Length > 0 ? call.Id : OllamaLine.ToolCallId(index), call.Name, call.Arguments));
        }
        if (!line.Done) return FrameVerdict.Continue;
        events.Add(new Finished(FinishReason(line.DoneReason, _toolCalls > 0)));
        if (line.Usage is { } usage) events.Add(new UsageReport(usage));
        return FrameVerdict.EndOfStream;
    }

    /// <summary>Ollama's <c>done_reason</c> as OpenAI's finish reason: <c>length</c> stays, an answer with tool calls is <c>tool_calls</c>.</summary>
    public static string FinishReason(string? doneReason, bool toolCalls) =>
        doneReason == "length" ? "length" : toolCalls ? "tool_calls" : "stop";
}

/// <summary>Ollama's errors (<c>{"error":"..."}</c>, with the HTTP status or inside a stream) as classification input.</summary>
internal static class OllamaErrors
{
    /// <summary>
    /// A failure with Ollama's message. Ollama's error bodies carry no type or code, so a stream error gets the status its
    /// message stands for when it is a known one (a missing model is a 404, as Ollama answers it before a stream starts).
    /// </summary>
    public static UpstreamFailure Failure(int? status, string message)
    {
        status ??= message.Contains("not found", StringComparison.OrdinalIgnoreCase) ? 404 : null;
        return new UpstreamFailure(status, message, null, null);
    }
}
