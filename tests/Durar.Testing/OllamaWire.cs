using System.Text.Json;

namespace Durar.Testing;

/// <summary>
/// Ollama's native chat (<c>POST /api/chat</c>, docs/api.md of ollama/ollama): one JSON object per line
/// (<c>application/x-ndjson</c>), <c>message.content</c> / <c>message.thinking</c> pieces, tool calls whole in one line with
/// object arguments, a last line with <c>done: true</c>, <c>done_reason</c> and the eval counts; errors as
/// <c>{"error":"..."}</c>, with the status before a stream, as a line inside one.
/// </summary>
internal sealed class OllamaWire : WireFormat
{
    public static readonly OllamaWire Instance = new();

    private static readonly byte[] NewLine = "\n"u8.ToArray();

    public override string Name => "ollama";

    protected override string StreamMediaType => "application/x-ndjson";

    protected override string MalformedFrame => "{not json\n";

    public override string LastUserText(JsonElement body) => LastUserMessageText(body);

    public override int CountPromptWords(JsonElement body) => CountMessageWords(body);

    protected override byte[] ErrorBody(FakeResponse response, int status) =>
        JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("error", response.ErrorMessage ?? DefaultMessage(status));
            w.WriteEndObject();
        });

    protected override byte[] CompletionBody(Exchange exchange) =>
        JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            WriteHeader(w, exchange);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", exchange.Reply.ToolCall is null ? exchange.Reply.Text : "");
            if (exchange.Response.Reasoning is { } thinking) w.WriteString("thinking", thinking);
            if (exchange.Reply.ToolCall is { } call) WriteToolCalls(w, call);
            w.WriteEndObject();
            WriteDone(w, exchange);
            w.WriteEndObject();
        });

    protected override async Task WriteStreamStartAsync(Exchange exchange)
    {
        if (exchange.Response.Reasoning is { } thinking)
            await WriteLineAsync(exchange, w => WriteMessage(w, exchange, thinking: thinking));
    }

    protected override Task WriteStreamPieceAsync(Exchange exchange, int index)
    {
        if (exchange.Reply.ToolCall is { } call)
        {
            // Ollama sends a tool call whole, in one line: the first piece carries it, the others carry nothing.
            return index == 0 ? WriteLineAsync(exchange, w => WriteMessage(w, exchange, call: call)) : Task.CompletedTask;
        }

        return WriteLineAsync(exchange, w => WriteMessage(w, exchange, content: exchange.Reply.Pieces[index]));
    }

    protected override Task WriteStreamEndAsync(Exchange exchange) =>
        WriteLineAsync(exchange, w =>
        {
            w.WriteStartObject();
            WriteHeader(w, exchange);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", "");
            w.WriteEndObject();
            WriteDone(w, exchange);
            w.WriteEndObject();
        });

    protected override Task WriteStreamErrorAsync(Exchange exchange) =>
        WriteLineAsync(exchange, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", exchange.Response.ErrorMessage ?? "an error was encountered while running the model: unexpected EOF");
            w.WriteEndObject();
        });

    private static void WriteMessage(Utf8JsonWriter w, Exchange exchange, string? content = null, string? thinking = null, FakeToolCall? call = null)
    {
        w.WriteStartObject();
        WriteHeader(w, exchange);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        w.WriteString("content", content ?? "");
        if (thinking is not null) w.WriteString("thinking", thinking);
        if (call is not null) WriteToolCalls(w, call);
        w.WriteEndObject();
        w.WriteBoolean("done", false);
        w.WriteEndObject();
    }

    private static void WriteToolCalls(Utf8JsonWriter w, FakeToolCall call)
    {
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteStartObject("function");
        w.WriteString("name", call.Name);
        w.WritePropertyName("arguments");
        using (var args = JsonDocument.Parse(call.ArgumentsJson)) args.RootElement.WriteTo(w);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    }

    private static void WriteHeader(Utf8JsonWriter w, Exchange exchange)
    {
        w.WriteString("model", exchange.Model);
        w.WriteString("created_at", DateTimeOffset.FromUnixTimeSeconds(exchange.Created).ToString("O"));
    }

    private static void WriteDone(Utf8JsonWriter w, Exchange exchange)
    {
        w.WriteBoolean("done", true);
        w.WriteString("done_reason", exchange.Response.FinishReason == "length" ? "length" : "stop");
        w.WriteNumber("total_duration", 4_935_886_791);
        if (exchange.Response.OmitUsage) return;
        w.WriteNumber("prompt_eval_count", exchange.Reply.PromptTokens);
        w.WriteNumber("eval_count", exchange.Reply.CompletionTokens);
    }

    private static string DefaultMessage(int status) => status switch
    {
        400 => "invalid request (fake)",
        404 => "model \"fake\" not found, try pulling it first",
        429 => "server busy, please try again. maximum pending requests exceeded",
        503 => "server overloaded, please try again later",
        _ => "an error was encountered while running the model (fake)",
    };

    private static async Task WriteLineAsync(Exchange exchange, Action<Utf8JsonWriter> write)
    {
        var line = JsonBytes.Write(write);
        await exchange.Http.Response.Body.WriteAsync(line, exchange.Token);
        await exchange.Http.Response.Body.WriteAsync(NewLine, exchange.Token);
        await exchange.Http.Response.Body.FlushAsync(exchange.Token);
    }
}
