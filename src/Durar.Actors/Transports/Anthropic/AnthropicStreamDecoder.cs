using Durar.Actors.Chat;

namespace Durar.Actors.Transports.Anthropic;

/// <summary>
/// Reads one Anthropic stream into canonical events: text blocks as <see cref="TextDelta"/>; thinking as
/// <see cref="ReasoningDelta"/> (its <c>signature_delta</c> as a delta carrying <see cref="ReasoningDelta.Signature"/>, a
/// <c>redacted_thinking</c> block as one carrying <see cref="ReasoningDelta.Redacted"/>), never mixed into the answer; tool use
/// as <see cref="ToolCallDelta"/>s with their own 0-based index, except the tool that carries a JSON answer
/// (<see cref="JsonAnswerTool"/>), whose <c>input_json_delta</c> fragments are the answer's text deltas; usage merged from
/// <c>message_start</c> and <c>message_delta</c> and reported at the end. Terminal rule: only <c>message_stop</c> completes the
/// answer; an <c>error</c> event fails it. Blocks this gateway never asks for (server tools, citations) carry nothing.
/// </summary>
internal sealed class AnthropicStreamDecoder(string? jsonTool) : IStreamDecoder<AnthropicEvent>
{
    private readonly Dictionary<int, int> _toolIndexByBlock = [];
    private int _jsonBlock = -1;
    private AnthropicUsage _usage;
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
            case "content_block_start":
                Start(e, events);
                break;
            case "content_block_delta":
                Delta(e, events);
                break;
            case "message_delta":
                if (e.Usage is { } du)
                {
                    _usage = _usage.Merge(du); // cumulative counts; some hosts repeat the input side here
                    _sawUsage = true;
                }
                if (e.StopReason is not null)
                    events.Add(new Finished(AnthropicUsage.FinishReason(e.StopReason, _jsonBlock >= 0 && _toolIndexByBlock.Count == 0)) { StopSequence = e.StopSequence });
                break;
            case "message_stop":
                if (_sawUsage) events.Add(new UsageReport(_usage.ToTokenUsage()));
                return FrameVerdict.EndOfStream;
        }
        return FrameVerdict.Continue;
    }

    private void Start(AnthropicEvent e, List<ChatEvent> events)
    {
        switch (e.Kind)
        {
            case "tool_use" when jsonTool is not null && e.ToolName == jsonTool:
                _jsonBlock = e.Index;
                break;
            case "tool_use":
                var toolIndex = _toolIndexByBlock.Count;
                _toolIndexByBlock[e.Index] = toolIndex;
                events.Add(new ToolCallDelta(toolIndex, e.ToolId, e.ToolName, ""));
                break;
            case "thinking" when e.Text is { Length: > 0 } thinking:
                events.Add(new ReasoningDelta(thinking) { Signature = e.Signature is { Length: > 0 } s ? s : null });
                break;
            case "redacted_thinking" when e.Data is { } data:
                events.Add(new ReasoningDelta("") { Redacted = data });
                break;
            case "text" when e.Text is { Length: > 0 } initial:
                events.Add(new TextDelta(initial));
                break;
        }
    }

    private void Delta(AnthropicEvent e, List<ChatEvent> events)
    {
        switch (e.Kind)
        {
            case "input_json_delta" when e.Index == _jsonBlock:
                if (e.PartialJson is { Length: > 0 } answer) events.Add(new TextDelta(answer));
                break;
            case "input_json_delta" when e.PartialJson is { } json && _toolIndexByBlock.TryGetValue(e.Index, out var ti):
                events.Add(new ToolCallDelta(ti, null, null, json));
                break;
            case "thinking_delta" when e.Text is { Length: > 0 } thinking:
                events.Add(new ReasoningDelta(thinking));
                break;
            case "signature_delta" when e.Signature is { Length: > 0 } signature:
                events.Add(new ReasoningDelta("") { Signature = signature });
                break;
            case "text_delta" or null when e.Text is { Length: > 0 } text:
                events.Add(new TextDelta(text));
                break;
        }
    }
}
