using System.Text.Json;
using Amazon.Runtime.EventStreams;
using Durar.Actors.Chat;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.Bedrock;

/// <summary>
/// One ConverseStream frame, read from its event-stream headers (<c>:message-type</c>, <c>:event-type</c>,
/// <c>:exception-type</c>) and JSON payload: <c>messageStart</c>, <c>contentBlockStart</c> (a tool use's id and name),
/// <c>contentBlockDelta</c> (text, tool input, reasoning text or signature), <c>contentBlockStop</c>, <c>messageStop</c>
/// (stop reason), <c>metadata</c> (usage), or an exception (<see cref="Failure"/>). Only what the decoder reads is kept.
/// </summary>
internal sealed class BedrockFrame
{
    public string? Type { get; private init; }
    public int Index { get; private init; }
    public string? Text { get; private init; }
    public string? ToolUseId { get; private init; }
    public string? ToolName { get; private init; }
    public string? ToolInput { get; private init; }
    public string? ReasoningText { get; private init; }
    public string? ReasoningSignature { get; private init; }
    public string? RedactedReasoning { get; private init; }
    public string? StopReason { get; private init; }
    public TokenUsage? Usage { get; private init; }
    public UpstreamFailure? Failure { get; private init; }
    public string? Malformed { get; private init; }

    public static BedrockFrame Broken(string why) => new() { Malformed = why };

    public static BedrockFrame Parse(EventStreamMessage message)
    {
        var messageType = Header(message, ":message-type");
        if (messageType == "exception")
        {
            var type = Header(message, ":exception-type") ?? "unknownException";
            return new BedrockFrame { Type = type, Failure = BedrockErrors.Exception(type, MessageOf(message.Payload)) };
        }
        if (messageType == "error")
        {
            var code = Header(message, ":error-code") ?? "error";
            return new BedrockFrame { Type = code, Failure = BedrockErrors.Exception(code, Header(message, ":error-message") ?? code) };
        }
        var eventType = Header(message, ":event-type");
        using var doc = JsonDocument.Parse(message.Payload);
        var root = doc.RootElement;
        var index = root.TryGetProperty("contentBlockIndex", out var i) && i.TryGetInt32(out var n) ? n : 0;
        switch (eventType)
        {
            case "contentBlockStart" when root.TryGetProperty("start", out var start) && start.TryGetProperty("toolUse", out var tool):
                return new BedrockFrame { Type = eventType, Index = index, ToolUseId = Str(tool, "toolUseId"), ToolName = Str(tool, "name") };
            case "contentBlockDelta" when root.TryGetProperty("delta", out var delta):
                var reasoning = delta.TryGetProperty("reasoningContent", out var rc) ? rc : default;
                return new BedrockFrame
                {
                    Type = eventType,
                    Index = index,
                    Text = Str(delta, "text"),
                    ToolInput = delta.TryGetProperty("toolUse", out var tu) ? Str(tu, "input") : null,
                    ReasoningText = Str(reasoning, "text"),
                    ReasoningSignature = Str(reasoning, "signature"),
                    RedactedReasoning = Str(reasoning, "redactedContent"),
                };
            case "messageStop":
                return new BedrockFrame { Type = eventType, StopReason = Str(root, "stopReason") ?? "end_turn" };
            case "metadata":
                return new BedrockFrame { Type = eventType, Usage = root.TryGetProperty("usage", out var u) ? BedrockUsage.Parse(u) : null };
            default:
                return new BedrockFrame { Type = eventType, Index = index };
        }
    }

    private static string? Header(EventStreamMessage message, string name) =>
        message.Headers.TryGetValue(name, out var header) ? header.AsString() : null;

    private static string MessageOf(byte[] payload)
    {
        try
        {
            using var doc = JsonDocument.Parse(payload);
            return doc.RootElement.ValueKind == JsonValueKind.Object && Str(doc.RootElement, "message") is { } m ? m : "(no message)";
        }
        catch (JsonException)
        {
            return "(no message)";
        }
    }

    internal static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

/// <summary>Converse's usage object (<c>inputTokens</c> without cache reads and writes, <c>outputTokens</c>, the cache buckets) and stop reasons.</summary>
internal static class BedrockUsage
{
    public static TokenUsage Parse(JsonElement u) =>
        new(Long(u, "inputTokens"), Long(u, "outputTokens"), Long(u, "cacheReadInputTokens"), Long(u, "cacheWriteInputTokens"));

    /// <summary>A Converse <c>stopReason</c> as an OpenAI finish reason.</summary>
    public static string FinishReason(string stopReason) => stopReason switch
    {
        "end_turn" or "stop_sequence" => "stop",
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" or "content_filtered" => "content_filter",
        _ => "stop",
    };

    private static long Long(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : 0;
}
