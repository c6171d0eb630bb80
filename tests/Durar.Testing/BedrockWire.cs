using System.Text;
using System.Text.Json;
using Amazon.Runtime.EventStreams;
using Microsoft.AspNetCore.Http;

namespace Durar.Testing;

/// <summary>
/// Amazon Bedrock's Converse API (<c>POST /model/{modelId}/converse</c> and <c>/converse-stream</c>): Converse JSON in and out,
/// the stream as real AWS event-stream binary frames encoded by the AWS SDK's own <see cref="EventStreamMessage"/>
/// (<c>messageStart</c>, <c>contentBlockStart</c>/<c>Delta</c>/<c>Stop</c>, <c>messageStop</c>, <c>metadata</c>), exceptions as
/// <c>:message-type exception</c> frames, and error answers as <c>{"message"}</c> with <c>x-amzn-ErrorType</c>, in the shapes
/// of the Bedrock API reference.
/// </summary>
internal sealed class BedrockWire : WireFormat
{
    public static readonly BedrockWire Instance = new();

    public override string Name => "bedrock";

    /// <summary>Bytes that cannot open a frame: the prelude checksum fails.</summary>
    protected override string MalformedFrame => "this is not an AWS event-stream frame";

    protected override string StreamMediaType => "application/vnd.amazon.eventstream";

    public override bool IsStreaming(HttpRequest request, JsonElement body) =>
        request.Path.Value?.EndsWith("/converse-stream", StringComparison.Ordinal) == true;

    public override string? ModelOf(HttpRequest request, JsonElement body) =>
        request.RouteValues.TryGetValue("modelId", out var model) ? model?.ToString() : null;

    public override string LastUserText(JsonElement body)
    {
        var last = Messages(body).LastOrDefault(m => m.TryGetProperty("role", out var r) && r.ValueEquals("user"));
        return last.ValueKind == JsonValueKind.Object ? BlockText(last.GetProperty("content")) : "";
    }

    public override int CountPromptWords(JsonElement body)
    {
        var system = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("system", out var s) ? Reply.CountWords(BlockText(s)) : 0;
        return system + Messages(body).Sum(m => Reply.CountWords(BlockText(m.GetProperty("content"))));
    }

    private static string BlockText(JsonElement blocks) =>
        blocks.ValueKind != JsonValueKind.Array ? "" : string.Concat(blocks.EnumerateArray()
            .Where(b => b.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String).Select(b => b.GetProperty("text").GetString()));

    protected override void AddErrorHeaders(HttpResponse response, FakeResponse scripted, int status) =>
        response.Headers["x-amzn-ErrorType"] = (scripted.ErrorType ?? ErrorType(status)) + ":http://internal.amazon.com/coral/com.amazon.bedrock/";

    protected override byte[] ErrorBody(FakeResponse response, int status) =>
        JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("message", response.ErrorMessage ?? ErrorMessage(status));
            w.WriteEndObject();
        });

    private static string ErrorType(int status) => status switch
    {
        429 => "ThrottlingException",
        503 => "ServiceUnavailableException",
        400 => "ValidationException",
        401 => "UnrecognizedClientException",
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        _ => "InternalServerException",
    };

    private static string ErrorMessage(int status) => status switch
    {
        429 => "Too many requests, please wait before trying again.",
        503 => "Bedrock is unable to process your request.",
        _ => $"fake Bedrock error {status}",
    };

    protected override byte[] CompletionBody(Exchange exchange)
    {
        var reply = exchange.Reply;
        return JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("output");
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteStartArray("content");
            if (exchange.Response.Reasoning is { } reasoning)
            {
                w.WriteStartObject();
                w.WriteStartObject("reasoningContent");
                w.WriteStartObject("reasoningText");
                w.WriteString("text", reasoning);
                w.WriteString("signature", exchange.Response.ReasoningSignature ?? "sig-fake");
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
            }
            if (reply.ToolCall is { } call)
            {
                w.WriteStartObject();
                w.WriteStartObject("toolUse");
                w.WriteString("toolUseId", call.Id);
                w.WriteString("name", call.Name);
                w.WritePropertyName("input");
                using (var input = JsonDocument.Parse(call.ArgumentsJson)) input.RootElement.WriteTo(w);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            else
            {
                w.WriteStartObject();
                w.WriteString("text", reply.Text);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteString("stopReason", StopReason(exchange));
            if (!exchange.Response.OmitUsage) WriteUsage(w, exchange);
            w.WriteStartObject("metrics");
            w.WriteNumber("latencyMs", 12);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    protected override async Task WriteStreamStartAsync(Exchange exchange)
    {
        await EventAsync(exchange, "messageStart", w => w.WriteString("role", "assistant"));
        if (exchange.Response.Reasoning is { } reasoning)
        {
            await EventAsync(exchange, "contentBlockDelta", w =>
            {
                w.WriteNumber("contentBlockIndex", 0);
                w.WriteStartObject("delta");
                w.WriteStartObject("reasoningContent");
                w.WriteString("text", reasoning);
                w.WriteEndObject();
                w.WriteEndObject();
            });
            await EventAsync(exchange, "contentBlockDelta", w =>
            {
                w.WriteNumber("contentBlockIndex", 0);
                w.WriteStartObject("delta");
                w.WriteStartObject("reasoningContent");
                w.WriteString("signature", exchange.Response.ReasoningSignature ?? "sig-fake");
                w.WriteEndObject();
                w.WriteEndObject();
            });
            await EventAsync(exchange, "contentBlockStop", w => w.WriteNumber("contentBlockIndex", 0));
        }
        if (exchange.Reply.ToolCall is { } call)
            await EventAsync(exchange, "contentBlockStart", w =>
            {
                w.WriteNumber("contentBlockIndex", MainIndex(exchange));
                w.WriteStartObject("start");
                w.WriteStartObject("toolUse");
                w.WriteString("toolUseId", call.Id);
                w.WriteString("name", call.Name);
                w.WriteEndObject();
                w.WriteEndObject();
            });
    }

    protected override Task WriteStreamPieceAsync(Exchange exchange, int index)
    {
        var piece = exchange.Reply.Pieces[index];
        var tool = exchange.Reply.ToolCall is not null;
        return EventAsync(exchange, "contentBlockDelta", w =>
        {
            w.WriteNumber("contentBlockIndex", MainIndex(exchange));
            w.WriteStartObject("delta");
            if (tool)
            {
                w.WriteStartObject("toolUse");
                w.WriteString("input", piece);
                w.WriteEndObject();
            }
            else w.WriteString("text", piece);
            w.WriteEndObject();
        });
    }

    protected override async Task WriteStreamEndAsync(Exchange exchange)
    {
        await EventAsync(exchange, "contentBlockStop", w => w.WriteNumber("contentBlockIndex", MainIndex(exchange)));
        await EventAsync(exchange, "messageStop", w => w.WriteString("stopReason", StopReason(exchange)));
        if (!exchange.Response.OmitUsage)
            await EventAsync(exchange, "metadata", w =>
            {
                WriteUsage(w, exchange);
                w.WriteStartObject("metrics");
                w.WriteNumber("latencyMs", 12);
                w.WriteEndObject();
            });
    }

    /// <summary>An exception frame: <see cref="FakeResponse.ErrorType"/> (camelCase, e.g. <c>throttlingException</c>) or a model stream error.</summary>
    protected override Task WriteStreamErrorAsync(Exchange exchange) =>
        FrameAsync(exchange, Message([("exception-type", exchange.Response.ErrorType ?? "modelStreamErrorException"), ("content-type", "application/json"),
                ("message-type", "exception")],
            JsonBytes.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("message", exchange.Response.ErrorMessage ?? "The model stream failed (fake).");
                w.WriteEndObject();
            })));

    private static int MainIndex(Exchange exchange) => exchange.Response.Reasoning is null ? 0 : 1;

    private static string StopReason(Exchange exchange) => exchange.Response.FinishReason switch
    {
        null => exchange.Reply.ToolCall is null ? "end_turn" : "tool_use",
        "stop" => "end_turn",
        "length" => "max_tokens",
        "tool_calls" => "tool_use",
        var other => other,
    };

    private static void WriteUsage(Utf8JsonWriter w, Exchange exchange)
    {
        var reply = exchange.Reply;
        w.WriteStartObject("usage");
        w.WriteNumber("inputTokens", reply.PromptTokens);
        w.WriteNumber("outputTokens", reply.CompletionTokens);
        w.WriteNumber("totalTokens", reply.PromptTokens + reply.CompletionTokens);
        if (exchange.Response.CacheReadTokens is { } read) w.WriteNumber("cacheReadInputTokens", read);
        if (exchange.Response.CacheWriteTokens is { } write) w.WriteNumber("cacheWriteInputTokens", write);
        w.WriteEndObject();
    }

    private static Task EventAsync(Exchange exchange, string type, Action<Utf8JsonWriter> payload) =>
        FrameAsync(exchange, Message([("event-type", type), ("content-type", "application/json"), ("message-type", "event")],
            JsonBytes.Write(w =>
            {
                w.WriteStartObject();
                payload(w);
                // Bedrock pads each event so that its length does not reveal the tokens.
                w.WriteString("p", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[..(exchange.Sequence % 7 == 0 ? 3 : 11)]);
                w.WriteEndObject();
            })));

    private static EventStreamMessage Message((string Name, string Value)[] headers, byte[] payload) =>
        new(headers.Select(h =>
        {
            var header = new EventStreamHeader(":" + h.Name);
            header.SetString(h.Value);
            return (IEventStreamHeader)header;
        }).ToList(), payload);

    private static async Task FrameAsync(Exchange exchange, EventStreamMessage message)
    {
        await exchange.Http.Response.Body.WriteAsync(message.ToByteArray(), exchange.Token);
        await exchange.Http.Response.Body.FlushAsync(exchange.Token);
    }
}
