using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.OpenAiResponses;

/// <summary>
/// Reads one streamed Responses API answer into neutral events: <c>response.created</c> → the answer's id and time,
/// <c>output_text</c> / <c>refusal</c> / reasoning summary (and reasoning text) deltas → text, refusal and reasoning,
/// a <c>function_call</c> item → a tool call (its id, name, then its argument deltas by <c>output_index</c>),
/// <c>response.completed</c> / <c>response.incomplete</c> → the finish reason and usage (the terminal events), and
/// <c>response.failed</c> / <c>error</c> → a failure. One decoder per stream: it keeps which output item is which tool call.
/// </summary>
internal sealed class ResponsesStreamDecoder : IStreamDecoder<ResponsesEvent>
{
    private List<(int OutputIndex, int Tool, bool Streamed)>? _tools;

    public FrameVerdict Decode(in ResponsesEvent e, List<ChatEvent> events)
    {
        switch (e.Type)
        {
            case "response.output_text.delta":
                if (e.Delta is { Length: > 0 } text) events.Add(new TextDelta(text));
                return FrameVerdict.Continue;
            case "response.reasoning_summary_text.delta" or "response.reasoning_text.delta":
                if (e.Delta is { Length: > 0 } reasoning) events.Add(new ReasoningDelta(reasoning));
                return FrameVerdict.Continue;
            case "response.refusal.delta":
                if (e.Delta is { Length: > 0 } refusal) events.Add(new RefusalDelta(refusal));
                return FrameVerdict.Continue;
            case "response.created" when e.Response is { } created:
                events.Add(new StreamMeta(ResponsesEvent.Str(created, "id"), Long(created, "created_at"), null, ResponsesEvent.Str(created, "service_tier")));
                return FrameVerdict.Continue;
            case "response.output_item.added" when IsFunctionCall(e.Item):
                AddTool(e.OutputIndex, e.Item!.Value, events);
                return FrameVerdict.Continue;
            case "response.function_call_arguments.delta":
                if (Tool(e.OutputIndex) is { } slot && e.Delta is { Length: > 0 } args)
                {
                    _tools![slot] = _tools[slot] with { Streamed = true };
                    events.Add(new ToolCallDelta(_tools[slot].Tool, null, null, args));
                }
                return FrameVerdict.Continue;
            case "response.output_item.done" when IsFunctionCall(e.Item):
                // A call whose arguments were not streamed (or whose item was never announced) is sent whole here.
                if (Tool(e.OutputIndex) is not { } known) AddTool(e.OutputIndex, e.Item!.Value, events, whole: true);
                else if (!_tools![known].Streamed && ResponsesEvent.Str(e.Item!.Value, "arguments") is { Length: > 0 } whole)
                    events.Add(new ToolCallDelta(_tools[known].Tool, null, null, whole));
                return FrameVerdict.Continue;
            case "response.completed" or "response.incomplete" when e.Response is { } done:
                events.Add(new Finished(FinishReason(done, _tools is { Count: > 0 })));
                if (done.TryGetProperty("usage", out var usage) && ResponsesUsage.Parse(usage) is { } parsed)
                    events.Add(new UsageReport(parsed));
                return FrameVerdict.EndOfStream;
            case "response.failed":
                return FrameVerdict.Fail(ResponsesErrors.FromResponse(e.Response));
            case "error":
                return FrameVerdict.Fail(ResponsesErrors.Failure(e.Code, e.Message, e.Param));
            default:
                return FrameVerdict.Continue;
        }
    }

    /// <summary>
    /// <c>stop</c>, <c>tool_calls</c> when the answer called a tool, <c>length</c> for an answer cut at
    /// <c>max_output_tokens</c>, <c>content_filter</c> for one stopped by the content filter.
    /// </summary>
    public static string FinishReason(JsonElement response, bool toolCalls)
    {
        if (response.TryGetProperty("incomplete_details", out var details) && ResponsesEvent.Str(details, "reason") is { } reason)
            return reason == "content_filter" ? "content_filter" : "length";
        return toolCalls ? "tool_calls" : "stop";
    }

    private void AddTool(int outputIndex, JsonElement item, List<ChatEvent> events, bool whole = false)
    {
        _tools ??= new List<(int, int, bool)>(2);
        var tool = _tools.Count;
        _tools.Add((outputIndex, tool, whole));
        var id = ResponsesEvent.Str(item, "call_id") ?? ResponsesEvent.Str(item, "id");
        events.Add(new ToolCallDelta(tool, id, ResponsesEvent.Str(item, "name"), ResponsesEvent.Str(item, "arguments") ?? ""));
    }

    private int? Tool(int outputIndex)
    {
        if (_tools is null) return null;
        for (var i = 0; i < _tools.Count; i++)
            if (_tools[i].OutputIndex == outputIndex) return i;
        return null;
    }

    private static bool IsFunctionCall(JsonElement? item) => item is { } i && ResponsesEvent.Str(i, "type") == "function_call";

    private static long? Long(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
}

/// <summary>The Responses API's <c>usage</c>: input (cached apart), output, reasoning tokens.</summary>
internal static class ResponsesUsage
{
    public static TokenUsage? Parse(JsonElement u)
    {
        if (u.ValueKind != JsonValueKind.Object) return null;
        var input = Long(u, "input_tokens") ?? 0;
        var output = Long(u, "output_tokens") ?? 0;
        var cached = u.TryGetProperty("input_tokens_details", out var i) ? Long(i, "cached_tokens") ?? 0 : 0;
        var reasoning = u.TryGetProperty("output_tokens_details", out var o) ? Long(o, "reasoning_tokens") ?? 0 : 0;
        // input_tokens includes the cached ones; the buckets of TokenUsage do not overlap.
        return new TokenUsage(Math.Max(0, input - cached), output, cached) { Reasoning = reasoning };
    }

    private static long? Long(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
}

/// <summary>The Responses API's errors (an <c>error</c> event, a failed response) as classification input.</summary>
internal static class ResponsesErrors
{
    /// <summary>A failure with the status an error code stands for (an error inside a stream has no HTTP status of its own).</summary>
    public static UpstreamFailure Failure(string? code, string? message, string? param) =>
        new(StatusFor(code), message ?? "the Responses API reported an error", code, code) { Param = param };

    /// <summary>A <c>response.failed</c> event: the response's <c>error</c> object.</summary>
    public static UpstreamFailure FromResponse(JsonElement? response) =>
        response is { } r && r.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
            ? Failure(ResponsesEvent.Str(error, "code"), ResponsesEvent.Str(error, "message"), ResponsesEvent.Str(error, "param"))
            : Failure(null, "the response failed", null);

    private static int? StatusFor(string? code) => code switch
    {
        "rate_limit_exceeded" or "insufficient_quota" => 429,
        "server_error" or "internal_error" => 500,
        "server_overloaded" or "service_unavailable" => 503,
        "invalid_prompt" or "invalid_request_error" or "context_length_exceeded" => 400,
        _ => null,
    };
}
