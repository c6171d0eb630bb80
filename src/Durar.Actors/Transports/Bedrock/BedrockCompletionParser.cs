using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.Bedrock;

/// <summary>
/// A whole Converse answer (<c>{output.message.content[], stopReason, usage}</c>) as a <see cref="ChatCompletion"/>: text blocks
/// joined, <c>toolUse</c> blocks as tool calls (input as JSON text), Claude's <c>reasoningContent</c> as reasoning with its
/// signature (redacted blocks kept opaque). In JSON mode (<see cref="BedrockJsonMode"/>) the forced tool's input is the text.
/// </summary>
internal static class BedrockCompletionParser
{
    public static ChatCompletion Parse(JsonElement root, UpstreamCall call)
    {
        var providerId = call.Target.Provider.Id;
        if (!root.TryGetProperty("output", out var output) || !output.TryGetProperty("message", out var message)
            || !message.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array)
            throw UpstreamErrors.Transport(providerId, Resilience.UpstreamTransportError.MalformedStream, "Converse answer has no output.message.content");
        StringBuilder? text = null, reasoning = null;
        string? signature = null;
        var redacted = ImmutableArray.CreateBuilder<string>();
        var calls = ImmutableArray.CreateBuilder<ToolCall>();
        var json = BedrockJsonMode.For(call.Request);
        foreach (var block in content.EnumerateArray())
        {
            if (BedrockFrame.Str(block, "text") is { } t)
            {
                if (json is null) (text ??= new StringBuilder()).Append(t); // in JSON mode the answer is the tool's input alone
            }
            else if (json is not null && block.TryGetProperty("toolUse", out var forced) && BedrockFrame.Str(forced, "name") == json.Name)
                (text ??= new StringBuilder()).Append(forced.TryGetProperty("input", out var answer) ? answer.GetRawText() : "{}");
            else if (block.TryGetProperty("toolUse", out var tool))
                calls.Add(new ToolCall(BedrockFrame.Str(tool, "toolUseId") ?? "", BedrockFrame.Str(tool, "name") ?? "",
                    tool.TryGetProperty("input", out var input) ? input.GetRawText() : "{}"));
            else if (block.TryGetProperty("reasoningContent", out var rc))
            {
                if (rc.TryGetProperty("reasoningText", out var rt))
                {
                    (reasoning ??= new StringBuilder()).Append(BedrockFrame.Str(rt, "text"));
                    signature = BedrockFrame.Str(rt, "signature") ?? signature;
                }
                if (BedrockFrame.Str(rc, "redactedContent") is { } r) redacted.Add(r);
            }
        }
        var stop = BedrockFrame.Str(root, "stopReason") ?? "end_turn";
        var usage = root.TryGetProperty("usage", out var u) ? BedrockUsage.Parse(u) : null;
        var finish = json is null ? BedrockUsage.FinishReason(stop) : BedrockJsonMode.FinishReason(stop);
        return new ChatCompletion(text?.ToString() ?? (calls.Count == 0 ? "" : null), calls.ToImmutable(), finish, usage, call.Target.Model.Id)
        {
            Reasoning = reasoning?.ToString(),
            ReasoningSignature = signature,
            RedactedReasoning = redacted.ToImmutable(),
        };
    }
}
