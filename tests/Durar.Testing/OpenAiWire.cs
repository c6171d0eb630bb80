using System.Text.Json;

namespace Durar.Testing;

/// <summary>
/// OpenAI chat completions (<c>POST /v1/chat/completions</c>): JSON completions, <c>data:</c>-only SSE chunks (with
/// <c>reasoning_content</c> when a reasoning is scripted, as OpenAI-compatible reasoning servers send it)
/// ending in <c>data: [DONE]</c>, optional trailing usage chunk, and <c>{"error":{...}}</c> errors.
/// </summary>
internal sealed class OpenAiWire : WireFormat
{
    public static readonly OpenAiWire Instance = new();

    private static readonly byte[] Done = "[DONE]"u8.ToArray();

    public override string Name => "openai";

    protected override string MalformedFrame => "data: {not json\n\n";

    public override string LastUserText(JsonElement body) => LastUserMessageText(body);

    public override int CountPromptWords(JsonElement body) => CountMessageWords(body);

    protected override byte[] ErrorBody(FakeResponse response, int status) => ErrorJson(response, status);

    /// <summary>OpenAI's <c>{"error":{...}}</c> for a scripted error status; the embeddings endpoint answers errors the same way.</summary>
    internal static byte[] ErrorJson(FakeResponse response, int status) =>
        Error(response.ErrorMessage ?? DefaultMessage(status), response.ErrorType ?? DefaultType(status), response.ErrorCode ?? DefaultCode(status));

    protected override byte[] CompletionBody(Exchange exchange)
    {
        var reply = exchange.Reply;
        return JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("id", Id(exchange));
            w.WriteString("object", "chat.completion");
            w.WriteNumber("created", exchange.Created);
            w.WriteString("model", exchange.Model);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            if (exchange.Response.Reasoning is { } reasoning)
            {
                w.WriteString("reasoning_content", reasoning); // DeepSeek's and vLLM's name for the model's reasoning
            }

            if (reply.ToolCall is { } call)
            {
                w.WriteNull("content");
                w.WriteStartArray("tool_calls");
                w.WriteStartObject();
                w.WriteString("id", call.Id);
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", call.Name);
                w.WriteString("arguments", call.ArgumentsJson);
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndArray();
            }
            else
            {
                w.WriteString("content", reply.Text);
            }

            w.WriteEndObject();
            w.WriteString("finish_reason", FinishReason(exchange));
            w.WriteEndObject();
            w.WriteEndArray();
            if (!exchange.Response.OmitUsage)
            {
                WriteUsage(w, exchange);
            }

            w.WriteEndObject();
        });
    }

    protected override async Task WriteStreamStartAsync(Exchange exchange)
    {
        var toolCall = exchange.Reply.ToolCall;
        await WriteChunkAsync(exchange, w =>
        {
            w.WriteString("role", "assistant");
            if (toolCall is null)
            {
                w.WriteString("content", "");
            }
            else
            {
                w.WriteNull("content");
            }
        });

        if (exchange.Response.Reasoning is { } reasoning)
        {
            foreach (var piece in Reply.Split(reasoning, null))
            {
                await WriteChunkAsync(exchange, w => w.WriteString("reasoning_content", piece));
            }
        }

        if (toolCall is not null)
        {
            await WriteChunkAsync(exchange, w => WriteToolCallDelta(w, toolCall.Id, toolCall.Name, ""));
        }
    }

    protected override Task WriteStreamPieceAsync(Exchange exchange, int index)
    {
        var piece = exchange.Reply.Pieces[index];
        return exchange.Reply.ToolCall is null
            ? WriteChunkAsync(exchange, w => w.WriteString("content", piece))
            : WriteChunkAsync(exchange, w => WriteToolCallDelta(w, null, null, piece));
    }

    protected override async Task WriteStreamEndAsync(Exchange exchange)
    {
        await WriteChunkAsync(exchange, _ => { }, FinishReason(exchange));
        if (IncludeUsage(exchange))
        {
            await exchange.WriteFrameAsync(null, JsonBytes.Write(w =>
            {
                WriteChunkHeader(w, exchange);
                w.WriteStartArray("choices");
                w.WriteEndArray();
                WriteUsage(w, exchange);
                w.WriteEndObject();
            }));
        }

        await exchange.WriteFrameAsync(null, Done);
    }

    protected override Task WriteStreamErrorAsync(Exchange exchange)
    {
        var scripted = exchange.Response;
        return exchange.WriteFrameAsync(null, Error(
            scripted.ErrorMessage ?? "The server had an error while processing your request. (fake)",
            scripted.ErrorType ?? "server_error",
            scripted.ErrorCode));
    }

    private static string Id(Exchange exchange) => $"chatcmpl-fake-{exchange.Sequence}";

    /// <summary>The request asked for a usage chunk (<c>stream_options.include_usage</c>) and the script allows it.</summary>
    private static bool IncludeUsage(Exchange exchange) =>
        !exchange.Response.OmitUsage
        && exchange.Body.TryGetProperty("stream_options", out var options)
        && options.ValueKind == JsonValueKind.Object
        && options.TryGetProperty("include_usage", out var include)
        && include.ValueKind == JsonValueKind.True;

    private static Task WriteChunkAsync(Exchange exchange, Action<Utf8JsonWriter> writeDelta, string? finishReason = null)
    {
        var includeUsage = IncludeUsage(exchange);
        return exchange.WriteFrameAsync(null, JsonBytes.Write(w =>
        {
            WriteChunkHeader(w, exchange);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("delta");
            writeDelta(w);
            w.WriteEndObject();
            if (finishReason is null)
            {
                w.WriteNull("finish_reason");
            }
            else
            {
                w.WriteString("finish_reason", finishReason);
            }

            w.WriteEndObject();
            w.WriteEndArray();
            if (includeUsage)
            {
                // Like OpenAI: with include_usage every chunk but the last carries "usage": null.
                w.WriteNull("usage");
            }

            w.WriteEndObject();
        }));
    }

    /// <summary>Opens the chunk object and writes id, object, created and model.</summary>
    private static void WriteChunkHeader(Utf8JsonWriter w, Exchange exchange)
    {
        w.WriteStartObject();
        w.WriteString("id", Id(exchange));
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", exchange.Created);
        w.WriteString("model", exchange.Model);
    }

    /// <summary>First tool-call delta carries id, type and name; later ones only argument fragments.</summary>
    private static void WriteToolCallDelta(Utf8JsonWriter w, string? id, string? name, string arguments)
    {
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (id is not null)
        {
            w.WriteString("id", id);
            w.WriteString("type", "function");
        }

        w.WriteStartObject("function");
        if (name is not null)
        {
            w.WriteString("name", name);
        }

        w.WriteString("arguments", arguments);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    }

    private static void WriteUsage(Utf8JsonWriter w, Exchange exchange)
    {
        var reply = exchange.Reply;
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", reply.PromptTokens);
        w.WriteNumber("completion_tokens", reply.CompletionTokens);
        w.WriteNumber("total_tokens", reply.PromptTokens + reply.CompletionTokens);
        w.WriteEndObject();
    }

    private static string FinishReason(Exchange exchange) => exchange.Response.FinishReason switch
    {
        null => exchange.Reply.ToolCall is null ? "stop" : "tool_calls",
        "end_turn" or "stop_sequence" => "stop",
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        var other => other,
    };

    private static byte[] Error(string message, string type, string? code) => JsonBytes.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", message);
        w.WriteString("type", type);
        if (code is null)
        {
            w.WriteNull("code");
        }
        else
        {
            w.WriteString("code", code);
        }

        w.WriteNull("param");
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static string DefaultType(int status) => status switch
    {
        401 => "invalid_request_error",
        403 => "permission_error",
        429 => "requests",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    private static string? DefaultCode(int status) => status switch
    {
        401 => "invalid_api_key",
        404 => "model_not_found",
        429 => "rate_limit_exceeded",
        _ => null,
    };

    private static string DefaultMessage(int status) => status switch
    {
        400 => "Invalid request. (fake)",
        401 => "Incorrect API key provided. (fake)",
        403 => "You are not allowed to perform this request. (fake)",
        404 => "The model does not exist or you do not have access to it. (fake)",
        429 => "Rate limit reached for requests. (fake)",
        503 => "The engine is currently overloaded, please try again later. (fake)",
        >= 500 => "The server had an error while processing your request. (fake)",
        _ => $"Request failed with status {status}. (fake)",
    };
}
