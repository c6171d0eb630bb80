using System.Collections.Immutable;
using System.Text;

namespace Durar.Actors.Chat;

/// <summary>
/// Folds a stream of canonical events into the whole answer of its first choice: text, reasoning (with the signature that
/// closed it), refusal, tool calls, finish reason and usage. Used where a streamed run is answered as one JSON completion
/// (a non-streaming turn of a session).
/// </summary>
internal sealed class ChatEventCollector
{
    private readonly StringBuilder _text = new();
    private StringBuilder? _reasoning, _refusal;
    private string? _signature, _stopSequence;
    private string _finish = "stop";
    private TokenUsage? _usage;
    private SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>? _tools;

    public void Add(ChatEvent e)
    {
        switch (e)
        {
            case TextDelta { Choice: 0 } d: _text.Append(d.Text); break;
            case ReasoningDelta { Choice: 0 } r:
                (_reasoning ??= new StringBuilder()).Append(r.Text);
                _signature = r.Signature ?? _signature;
                break;
            case RefusalDelta { Choice: 0 } r: (_refusal ??= new StringBuilder()).Append(r.Text); break;
            case ToolCallDelta { Choice: 0 } t:
                _tools ??= [];
                var call = _tools.TryGetValue(t.Index, out var c) ? c : (null, null, new StringBuilder());
                call.Arguments.Append(t.Arguments);
                _tools[t.Index] = (call.Id ?? t.Id, call.Name ?? t.Name, call.Arguments);
                break;
            case Finished { Choice: 0 } f:
                _finish = f.Reason;
                _stopSequence = f.StopSequence;
                break;
            case UsageReport u: _usage = u.Usage; break;
        }
    }

    public ChatCompletion ToCompletion(string model) =>
        new(_text.Length > 0 || _tools is null ? _text.ToString() : null,
            _tools is null ? [] : [.. _tools.Values.Select(t => new ToolCall(t.Id ?? "", t.Name ?? "", t.Arguments.ToString()))],
            _finish, _usage, model)
        {
            Reasoning = _reasoning?.ToString(),
            ReasoningSignature = _signature,
            Refusal = _refusal?.ToString(),
            StopSequence = _stopSequence,
        };
}
