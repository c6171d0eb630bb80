using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.Anthropic;

/// <summary>
/// Reads a whole (non-streamed) Anthropic message into a <see cref="ChatCompletion"/>, by the same rules as the stream
/// (<see cref="AnthropicStreamDecoder"/>): text blocks are the answer; thinking blocks its reasoning with the signature, redacted
/// thinking kept opaque, never mixed into the answer; tool use blocks are tool calls, except the tool that carries a JSON
/// answer, whose input is the answer's text (finish_reason stop); usage into the normalized buckets; an error object keeps
/// Anthropic's error type and param.
/// </summary>
internal static class AnthropicCompletionParser
{
    public static ChatCompletion Parse(JsonElement root, string providerId, string? jsonTool)
    {
        if (root.TryGetProperty("type", out var type) && type.ValueEquals("error"))
            throw new UpstreamException(AnthropicEvent.Failure(root, providerId), UpstreamException.NoHints);
        if (!root.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array)
            throw UpstreamErrors.Transport(providerId, UpstreamTransportError.MalformedStream, "upstream message has no content");
        var text = new StringBuilder();
        StringBuilder? reasoning = null;
        string? signature = null;
        var redacted = ImmutableArray.CreateBuilder<string>();
        var calls = ImmutableArray.CreateBuilder<ToolCall>();
        var jsonAnswered = false;
        foreach (var block in content.EnumerateArray())
        {
            switch (Str(block, "type"))
            {
                case "text":
                    text.Append(Str(block, "text"));
                    break;
                case "thinking":
                    (reasoning ??= new StringBuilder()).Append(Str(block, "thinking"));
                    signature = Str(block, "signature") is { Length: > 0 } s ? s : signature;
                    break;
                case "redacted_thinking" when Str(block, "data") is { } data:
                    redacted.Add(data);
                    break;
                case "tool_use" when jsonTool is not null && Str(block, "name") == jsonTool:
                    text.Append(block.TryGetProperty("input", out var answer) ? answer.GetRawText() : "{}");
                    jsonAnswered = true;
                    break;
                case "tool_use":
                    calls.Add(new ToolCall(Str(block, "id") ?? "", Str(block, "name") ?? "",
                        block.TryGetProperty("input", out var input) ? input.GetRawText() : "{}"));
                    break;
            }
        }
        return new ChatCompletion(
            text.Length == 0 && calls.Count > 0 ? null : text.ToString(),
            calls.ToImmutable(),
            AnthropicUsage.FinishReason(Str(root, "stop_reason"), jsonAnswered && calls.Count == 0),
            root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object ? AnthropicUsage.From(u).ToTokenUsage() : null,
            Str(root, "model"))
        {
            Reasoning = reasoning?.ToString(),
            ReasoningSignature = signature,
            RedactedReasoning = redacted.ToImmutable(),
            StopSequence = Str(root, "stop_sequence"),
        };

        static string? Str(JsonElement e, string name) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}
