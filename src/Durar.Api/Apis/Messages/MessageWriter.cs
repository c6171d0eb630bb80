using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Api.Apis.Messages;

/// <summary>
/// Writes a whole answer as Anthropic's <c>message</c> object: <c>id</c> (<c>msg_…</c>), <c>type</c>, <c>role</c>, the
/// content blocks in Anthropic's order (thinking with its signature, redacted thinking, text, tool_use with its input object),
/// <c>model</c> (the gateway's name for the model that answered), <c>stop_reason</c>, <c>stop_sequence</c> and <c>usage</c>
/// (fresh input, cache writes and reads, output). Shared with the stream writer: the ids, the stop reason and the usage object.
/// </summary>
internal static class MessageWriter
{
    private static readonly string IdPrefix = "msg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
    private static long _idCounter = Random.Shared.NextInt64();

    /// <summary>A message id: <c>msg_</c>, a random per-process prefix and a counter (unique, not secret).</summary>
    public static string NewId() => IdPrefix + Interlocked.Increment(ref _idCounter).ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>
    /// Writes <paramref name="completion"/>. A tool call whose arguments are not a JSON object cannot be a <c>tool_use</c> block:
    /// that answer is a 502 naming the tool, never a block with its input lost. Once the message is written the request's
    /// answer is complete (<see cref="Telemetry.RequestFacts.Answered"/>).
    /// </summary>
    public static async Task WriteAsync(HttpResponse response, string id, string model, ChatCompletion completion)
    {
        foreach (var call in completion.ToolCalls)
            if (!IsObject(call.Arguments))
            {
                await new ApiError(502, $"The upstream answered a call of tool `{call.Name}` whose arguments are not a JSON object.", "api_error",
                    "invalid_tool_arguments").WriteAsync(response);
                return;
            }
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, ChatCompletionWriter.Options))
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("type", "message");
            w.WriteString("role", "assistant");
            w.WriteString("model", model);
            w.WriteStartArray("content");
            if (completion.Reasoning is { } reasoning)
            {
                w.WriteStartObject();
                w.WriteString("type", "thinking");
                w.WriteString("thinking", reasoning);
                w.WriteString("signature", completion.ReasoningSignature ?? "");
                w.WriteEndObject();
            }
            foreach (var data in completion.RedactedReasoning.IsDefault ? [] : completion.RedactedReasoning)
            {
                w.WriteStartObject();
                w.WriteString("type", "redacted_thinking");
                w.WriteString("data", data);
                w.WriteEndObject();
            }
            var text = completion.Text + completion.Refusal;
            if (text.Length > 0 || completion.ToolCalls.IsDefaultOrEmpty && completion.Reasoning is null)
            {
                w.WriteStartObject();
                w.WriteString("type", "text");
                w.WriteString("text", text);
                w.WriteEndObject();
            }
            foreach (var call in completion.ToolCalls)
            {
                w.WriteStartObject();
                w.WriteString("type", "tool_use");
                w.WriteString("id", call.Id);
                w.WriteString("name", call.Name);
                w.WritePropertyName("input");
                w.WriteRawValue(string.IsNullOrWhiteSpace(call.Arguments) ? "{}" : call.Arguments, skipInputValidation: true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("stop_reason", StopReason(completion.FinishReason, completion.StopSequence, !completion.ToolCalls.IsDefaultOrEmpty));
            if (completion.StopSequence is { } stop) w.WriteString("stop_sequence", stop);
            else w.WriteNull("stop_sequence");
            WriteUsage(w, completion.Usage ?? TokenUsage.Zero);
            w.WriteEndObject();
        }
        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        await response.BodyWriter.WriteAsync(buffer.WrittenMemory);
        Telemetry.RequestFacts.Of(response.HttpContext)?.Answered();
    }

    /// <summary>
    /// The neutral finish reason as Anthropic's <c>stop_reason</c>: a named stop sequence → stop_sequence; length →
    /// max_tokens; tool_calls (or any finish of an answer that called a tool) → tool_use; content_filter → refusal; else
    /// end_turn. An OpenAI-compatible upstream does not say whether a stop sequence ended the answer: that is end_turn.
    /// </summary>
    public static string StopReason(string finish, string? stopSequence, bool calledTool) => finish switch
    {
        _ when stopSequence is not null => "stop_sequence",
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ when calledTool => "tool_use",
        _ => "end_turn",
    };

    /// <summary>Anthropic's <c>usage</c>: input not served from the cache, cache writes and reads, output.</summary>
    public static void WriteUsage(Utf8JsonWriter w, TokenUsage usage)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", usage.Input);
        w.WriteNumber("cache_creation_input_tokens", usage.CacheWrite);
        w.WriteNumber("cache_read_input_tokens", usage.CacheRead);
        w.WriteNumber("output_tokens", usage.Output);
        w.WriteEndObject();
    }

    private static bool IsObject(string arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments)) return true;
        try
        {
            using var doc = JsonDocument.Parse(arguments);
            return doc.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
