using Durar.Actors.Chat;

namespace Durar.Actors.Transports.Anthropic;

/// <summary>
/// Reads one Anthropic stream: folds its block-indexed events into neutral events (tool calls get their own 0-based index)
/// and keeps the usage of <c>message_start</c> for the end. Terminal rule: only <c>message_stop</c> completes the answer;
/// an <c>error</c> event fails it.
/// </summary>
internal sealed class AnthropicStreamDecoder : IStreamDecoder<AnthropicEvent>
{
    private readonly Dictionary<int, int> _toolIndexByBlock = [];
    private TokenUsage _usage = TokenUsage.Zero;
    private bool _sawUsage;

    public FrameVerdict Decode(in AnthropicEvent e, List<ChatEvent> events)
    {
        if (e.Malformed is { } bad) return FrameVerdict.Malformed($"malformed event from upstream: {bad}");
        if (e.Error is { } error) return FrameVerdict.Fail(error);
        switch (e.Type)
        {
            case "message_start" when e.Usage is { } u:
                _usage = u;
                _sawUsage = true;
                break;
            case "content_block_start" when e.BlockType == "tool_use":
                var toolIndex = _toolIndexByBlock.Count;
                _toolIndexByBlock[e.Index] = toolIndex;
                events.Add(new ToolCallDelta(toolIndex, e.ToolId, e.ToolName, ""));
                break;
            case "content_block_start" when e.Text is { Length: > 0 } initial:
                events.Add(new TextDelta(initial));
                break;
            case "content_block_delta" when e.PartialJson is { } json && _toolIndexByBlock.TryGetValue(e.Index, out var ti):
                events.Add(new ToolCallDelta(ti, null, null, json));
                break;
            case "content_block_delta" when e.Text is { Length: > 0 } text:
                events.Add(new TextDelta(text));
                break;
            case "message_delta":
                if (e.Usage is { } du)
                {
                    // message_delta carries cumulative output tokens (and, on some proxies, input tokens too).
                    _usage = _usage with { Output = du.Output, Input = du.Input > 0 ? du.Input : _usage.Input };
                    _sawUsage = true;
                }
                if (e.StopReason is not null) events.Add(new Finished(AnthropicEvent.MapStopReason(e.StopReason)));
                break;
            case "message_stop":
                if (_sawUsage) events.Add(new UsageReport(_usage));
                return FrameVerdict.EndOfStream;
        }
        return FrameVerdict.Continue;
    }
}
