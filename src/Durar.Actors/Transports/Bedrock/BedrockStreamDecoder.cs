using Durar.Actors.Chat;

namespace Durar.Actors.Transports.Bedrock;

/// <summary>
/// Reads one ConverseStream into canonical events: text deltas, tool uses as <see cref="ToolCallDelta"/>s numbered in order of
/// their blocks (id and name from <c>contentBlockStart</c>, input fragments from the deltas), Claude's reasoning as
/// <see cref="ReasoningDelta"/> (text, signature, redacted content), the stop reason as <see cref="Finished"/> and the
/// <c>metadata</c> usage as <see cref="UsageReport"/>. Terminal rule: <c>messageStop</c> completes the answer (the usage follows
/// it) and <c>metadata</c> after it ends the stream; an exception frame fails it; a stream that ends before
/// <c>messageStop</c> is cut. In JSON mode (<paramref name="jsonTool"/>, <see cref="BedrockJsonMode"/>) the forced tool's input
/// fragments are text deltas and its <c>tool_use</c> stop is <c>stop</c>.
/// </summary>
internal sealed class BedrockStreamDecoder(string? jsonTool = null) : IStreamDecoder<BedrockFrame>
{
    private readonly Dictionary<int, int> _toolIndexByBlock = [];
    private int _jsonBlock = -1;
    private bool _stopped;

    public FrameVerdict Decode(in BedrockFrame frame, List<ChatEvent> events)
    {
        if (frame.Malformed is { } bad) return FrameVerdict.Malformed($"malformed event-stream frame from upstream: {bad}");
        if (frame.Failure is { } failure) return FrameVerdict.Fail(failure);
        switch (frame.Type)
        {
            case "contentBlockStart" when jsonTool is not null && frame.ToolName == jsonTool:
                _jsonBlock = frame.Index;
                break;
            case "contentBlockDelta" when jsonTool is not null:
                if (frame.ToolInput is { Length: > 0 } json && frame.Index == _jsonBlock) events.Add(new TextDelta(json));
                break;
            case "contentBlockStart" when frame.ToolUseId is not null || frame.ToolName is not null:
                var toolIndex = _toolIndexByBlock.Count;
                _toolIndexByBlock[frame.Index] = toolIndex;
                events.Add(new ToolCallDelta(toolIndex, frame.ToolUseId, frame.ToolName, ""));
                break;
            case "contentBlockDelta":
                if (frame.Text is { Length: > 0 } text) events.Add(new TextDelta(text));
                if (frame.ToolInput is { } input && _toolIndexByBlock.TryGetValue(frame.Index, out var ti)) events.Add(new ToolCallDelta(ti, null, null, input));
                if (frame.ReasoningText is { Length: > 0 } reasoning) events.Add(new ReasoningDelta(reasoning));
                if (frame.ReasoningSignature is { Length: > 0 } signature) events.Add(new ReasoningDelta("") { Signature = signature });
                if (frame.RedactedReasoning is { Length: > 0 } redacted) events.Add(new ReasoningDelta("") { Redacted = redacted });
                break;
            case "messageStop":
                _stopped = true;
                events.Add(new Finished(jsonTool is null ? BedrockUsage.FinishReason(frame.StopReason!) : BedrockJsonMode.FinishReason(frame.StopReason!)));
                return FrameVerdict.Finished;
            case "metadata":
                if (frame.Usage is { } usage) events.Add(new UsageReport(usage));
                return _stopped ? FrameVerdict.EndOfStream : FrameVerdict.Continue;
        }
        return FrameVerdict.Continue;
    }
}
