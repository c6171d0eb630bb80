using System.Text.Json;

namespace Durar.Testing;

/// <summary>
/// Anthropic messages (<c>POST /v1/messages</c>): JSON messages with content blocks, named SSE events
/// (<c>message_start</c> … <c>message_stop</c>), and <c>{"type":"error","error":{...}}</c> errors.
/// </summary>
internal sealed partial class AnthropicWire : WireFormat
{
    public static readonly AnthropicWire Instance = new();

    public override string Name => "anthropic";

    protected override string MalformedFrame => "event: content_block_delta\ndata: {not json\n\n";

    public override int StatusFor(FakeResponse response) => response.AnthropicStatus ?? response.Status;

    public override string LastUserText(JsonElement body) => LastUserMessageText(body);

    public override int CountPromptWords(JsonElement body)
    {
        var system = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("system", out var s) ? Reply.CountWords(ContentText(s)) : 0;
        return system + CountMessageWords(body);
    }

    protected override byte[] ErrorBody(FakeResponse response, int status) =>
        Error(response.ErrorType ?? DefaultType(status), response.ErrorMessage ?? DefaultMessage(status));

    protected override byte[] CompletionBody(Exchange exchange)
    {
        var reply = exchange.Reply;
        return JsonBytes.Write(w =>
        {
            WriteMessageHeader(w, exchange);
            w.WriteStartArray("content");
            var scripted = exchange.Response;
            if (scripted.Reasoning is { } reasoning)
            {
                w.WriteStartObject();
                w.WriteString("type", "thinking");
                w.WriteString("thinking", reasoning);
                w.WriteString("signature", Signature(scripted));
                w.WriteEndObject();
            }

            if (scripted.RedactedReasoning is { } redacted)
            {
                w.WriteStartObject();
                w.WriteString("type", "redacted_thinking");
                w.WriteString("data", redacted);
                w.WriteEndObject();
            }

            if (reply.ToolCall is { } call)
            {
                w.WriteStartObject();
                w.WriteString("type", "tool_use");
                w.WriteString("id", ToolUseId(call));
                w.WriteString("name", call.Name);
                w.WritePropertyName("input");
                WriteInput(w, call.ArgumentsJson);
                w.WriteEndObject();
            }
            else
            {
                w.WriteStartObject();
                w.WriteString("type", "text");
                w.WriteString("text", reply.Text);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("stop_reason", StopReason(exchange));
            WriteStopSequence(w, exchange.Response);
            if (!exchange.Response.OmitUsage)
            {
                WriteUsage(w, exchange.Response, reply.PromptTokens, reply.CompletionTokens);
            }

            w.WriteEndObject();
        });
    }

    protected override async Task WriteStreamStartAsync(Exchange exchange)
    {
        var reply = exchange.Reply;
        await exchange.WriteFrameAsync("message_start", JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "message_start");
            w.WritePropertyName("message");
            WriteMessageHeader(w, exchange);
            w.WriteStartArray("content");
            w.WriteEndArray();
            w.WriteNull("stop_reason");
            w.WriteNull("stop_sequence");
            if (!exchange.Response.OmitUsage)
            {
                // Like Anthropic: the start event reports the input and a token or so of output.
                WriteUsage(w, exchange.Response, reply.PromptTokens, Math.Min(1, reply.CompletionTokens));
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }));

        await WriteThinkingBlocksAsync(exchange);
        var main = MainIndex(exchange);
        await exchange.WriteFrameAsync("content_block_start", JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "content_block_start");
            w.WriteNumber("index", main);
            w.WriteStartObject("content_block");
            if (reply.ToolCall is { } call)
            {
                w.WriteString("type", "tool_use");
                w.WriteString("id", ToolUseId(call));
                w.WriteString("name", call.Name);
                w.WriteStartObject("input");
                w.WriteEndObject();
            }
            else
            {
                w.WriteString("type", "text");
                w.WriteString("text", "");
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }));

        await exchange.WriteFrameAsync("ping", """{"type":"ping"}"""u8.ToArray());
    }

    protected override Task WriteStreamPieceAsync(Exchange exchange, int index)
    {
        var piece = exchange.Reply.Pieces[index];
        var isTool = exchange.Reply.ToolCall is not null;
        var main = MainIndex(exchange);
        return exchange.WriteFrameAsync("content_block_delta", JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "content_block_delta");
            w.WriteNumber("index", main);
            w.WriteStartObject("delta");
            w.WriteString("type", isTool ? "input_json_delta" : "text_delta");
            w.WriteString(isTool ? "partial_json" : "text", piece);
            w.WriteEndObject();
            w.WriteEndObject();
        }));
    }

    /// <summary><c>stop_sequence</c>: the scripted one (<see cref="FakeResponse.StopSequence"/>, with <c>stop_reason: stop_sequence</c>), else null.</summary>
    private static void WriteStopSequence(System.Text.Json.Utf8JsonWriter w, FakeResponse response)
    {
        if (response.StopSequence is { } stop)
        {
            w.WriteString("stop_sequence", stop);
        }
        else
        {
            w.WriteNull("stop_sequence");
        }
    }

    protected override async Task WriteStreamEndAsync(Exchange exchange)
    {
        await exchange.WriteFrameAsync("content_block_stop", BlockStop(MainIndex(exchange)));
        await exchange.WriteFrameAsync("message_delta", JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "message_delta");
            w.WriteStartObject("delta");
            w.WriteString("stop_reason", StopReason(exchange));
            WriteStopSequence(w, exchange.Response);
            w.WriteEndObject();
            if (!exchange.Response.OmitUsage)
            {
                w.WriteStartObject("usage");
                w.WriteNumber("output_tokens", exchange.Reply.CompletionTokens);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }));
        await exchange.WriteFrameAsync("message_stop", """{"type":"message_stop"}"""u8.ToArray());
    }

    protected override Task WriteStreamErrorAsync(Exchange exchange) =>
        exchange.WriteFrameAsync("error", Error(
            exchange.Response.ErrorType ?? "overloaded_error",
            exchange.Response.ErrorMessage ?? "Overloaded"));

    /// <summary>Opens the message object and writes id, type, role and model.</summary>
    private static void WriteMessageHeader(Utf8JsonWriter w, Exchange exchange)
    {
        w.WriteStartObject();
        w.WriteString("id", $"msg_fake_{exchange.Sequence}");
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteString("model", exchange.Model);
    }

    private static void WriteUsage(Utf8JsonWriter w, FakeResponse scripted, int inputTokens, int outputTokens)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", inputTokens);
        w.WriteNumber("output_tokens", outputTokens);
        w.WriteNumber("cache_read_input_tokens", scripted.CacheReadTokens ?? 0);
        w.WriteNumber("cache_creation_input_tokens", scripted.CacheWriteTokens ?? 0);
        w.WriteEndObject();
    }

    /// <summary>Writes the tool input as JSON; arguments that are not valid JSON go out verbatim (a deliberately broken upstream).</summary>
    private static void WriteInput(Utf8JsonWriter w, string argumentsJson)
    {
        try
        {
            using var input = JsonDocument.Parse(argumentsJson);
            input.RootElement.WriteTo(w);
        }
        catch (JsonException)
        {
            w.WriteRawValue(argumentsJson, skipInputValidation: true);
        }
    }

    private static string ToolUseId(FakeToolCall call) =>
        call.Id.StartsWith("call_", StringComparison.Ordinal) ? "toolu_" + call.Id["call_".Length..] : call.Id;

    private static string StopReason(Exchange exchange) => exchange.Response.FinishReason switch
    {
        null => exchange.Reply.ToolCall is null ? "end_turn" : "tool_use",
        "stop" => "end_turn",
        "length" => "max_tokens",
        "tool_calls" => "tool_use",
        var other => other,
    };

    private static byte[] Error(string type, string message) => JsonBytes.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("type", "error");
        w.WriteStartObject("error");
        w.WriteString("type", type);
        w.WriteString("message", message);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static string DefaultType(int status) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or 529 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    private static string DefaultMessage(int status) => status switch
    {
        401 => "invalid x-api-key (fake)",
        404 => "model: not found (fake)",
        429 => "Number of requests has exceeded your rate limit. (fake)",
        503 or 529 => "Overloaded (fake)",
        >= 500 => "Internal server error (fake)",
        _ => $"Request failed with status {status}. (fake)",
    };
}
