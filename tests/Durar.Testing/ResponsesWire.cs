using System.Text.Json;

namespace Durar.Testing;

/// <summary>
/// OpenAI's Responses API (<c>POST /v1/responses</c>, as documented in the API reference and typed by openai-dotnet's
/// <c>OpenAI.Responses</c>): <c>input</c> items, a <c>response</c> object (<c>output</c> of reasoning, message and
/// <c>function_call</c> items, <c>usage</c> with cached and reasoning tokens), named SSE events from
/// <c>response.created</c> to <c>response.completed</c> with a <c>sequence_number</c>, an <c>error</c> event inside a stream
/// and OpenAI's <c>{"error":{...}}</c> before one.
/// </summary>
internal sealed class ResponsesWire : WireFormat
{
    public static readonly ResponsesWire Instance = new();

    public override string Name => "responses";

    protected override string MalformedFrame => "event: response.output_text.delta\ndata: {not json\n\n";

    public override string LastUserText(JsonElement body)
    {
        var last = Input(body).LastOrDefault(i => i.TryGetProperty("role", out var role) && role.ValueEquals("user"));
        return last.ValueKind == JsonValueKind.Object && last.TryGetProperty("content", out var content) ? InputText(content) : "";
    }

    public override int CountPromptWords(JsonElement body) =>
        Input(body).Sum(i => i.TryGetProperty("content", out var c) ? Reply.CountWords(InputText(c)) : 0)
        + (StringProperty(body, "instructions") is { } instructions ? Reply.CountWords(instructions) : 0);

    protected override byte[] ErrorBody(FakeResponse response, int status) => OpenAiWire.ErrorJson(response, status);

    protected override byte[] CompletionBody(Exchange exchange) =>
        JsonBytes.Write(w => WriteResponse(w, exchange, completed: true));

    protected override async Task WriteStreamStartAsync(Exchange exchange)
    {
        await EventAsync(exchange, "response.created", w =>
        {
            w.WritePropertyName("response");
            WriteResponse(w, exchange, completed: false);
        });
        var index = 0;
        if (exchange.Response.Reasoning is { } reasoning)
        {
            await EventAsync(exchange, "response.output_item.added", w =>
            {
                w.WriteNumber("output_index", 0);
                w.WriteStartObject("item");
                w.WriteString("id", "rs_fake");
                w.WriteString("type", "reasoning");
                w.WriteStartArray("summary");
                w.WriteEndArray();
                w.WriteEndObject();
            });
            await EventAsync(exchange, "response.reasoning_summary_text.delta", w =>
            {
                w.WriteString("item_id", "rs_fake");
                w.WriteNumber("output_index", 0);
                w.WriteNumber("summary_index", 0);
                w.WriteString("delta", reasoning);
            });
            await EventAsync(exchange, "response.reasoning_summary_text.done", w =>
            {
                w.WriteString("item_id", "rs_fake");
                w.WriteNumber("output_index", 0);
                w.WriteNumber("summary_index", 0);
                w.WriteString("text", reasoning);
            });
            index = 1;
        }

        await EventAsync(exchange, "response.output_item.added", w =>
        {
            w.WriteNumber("output_index", index);
            w.WritePropertyName("item");
            WriteMainItem(w, exchange, arguments: "", text: null);
        });
    }

    protected override Task WriteStreamPieceAsync(Exchange exchange, int index)
    {
        var piece = exchange.Reply.Pieces[index];
        var output = MainIndex(exchange);
        return exchange.Reply.ToolCall is not null
            ? EventAsync(exchange, "response.function_call_arguments.delta", w =>
            {
                w.WriteString("item_id", "fc_fake");
                w.WriteNumber("output_index", output);
                w.WriteString("delta", piece);
            })
            : EventAsync(exchange, "response.output_text.delta", w =>
            {
                w.WriteString("item_id", "msg_fake");
                w.WriteNumber("output_index", output);
                w.WriteNumber("content_index", 0);
                w.WriteString("delta", piece);
            });
    }

    protected override async Task WriteStreamEndAsync(Exchange exchange)
    {
        var output = MainIndex(exchange);
        await EventAsync(exchange, "response.output_item.done", w =>
        {
            w.WriteNumber("output_index", output);
            w.WritePropertyName("item");
            WriteMainItem(w, exchange, exchange.Reply.ToolCall?.ArgumentsJson, exchange.Reply.Text);
        });
        await EventAsync(exchange, "response.completed", w =>
        {
            w.WritePropertyName("response");
            WriteResponse(w, exchange, completed: true);
        });
    }

    protected override Task WriteStreamErrorAsync(Exchange exchange) =>
        EventAsync(exchange, "error", w =>
        {
            w.WriteString("code", exchange.Response.ErrorCode ?? "server_error");
            w.WriteString("message", exchange.Response.ErrorMessage ?? "The server had an error while processing your request. (fake)");
            w.WriteNull("param");
        });

    private static int MainIndex(Exchange exchange) => exchange.Response.Reasoning is null ? 0 : 1;

    private static void WriteResponse(Utf8JsonWriter w, Exchange exchange, bool completed)
    {
        var scripted = exchange.Response;
        var incomplete = completed && scripted.FinishReason == "length";
        w.WriteStartObject();
        w.WriteString("id", "resp_fake_" + exchange.Sequence);
        w.WriteString("object", "response");
        w.WriteNumber("created_at", exchange.Created);
        w.WriteString("status", !completed ? "in_progress" : incomplete ? "incomplete" : "completed");
        w.WriteNull("error");
        if (incomplete)
        {
            w.WriteStartObject("incomplete_details");
            w.WriteString("reason", "max_output_tokens");
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("incomplete_details");
        }

        w.WriteString("model", exchange.Model);
        w.WriteStartArray("output");
        if (completed)
        {
            if (scripted.Reasoning is { } reasoning)
            {
                w.WriteStartObject();
                w.WriteString("id", "rs_fake");
                w.WriteString("type", "reasoning");
                w.WriteStartArray("summary");
                w.WriteStartObject();
                w.WriteString("type", "summary_text");
                w.WriteString("text", reasoning);
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }

            WriteMainItem(w, exchange, exchange.Reply.ToolCall?.ArgumentsJson, exchange.Reply.Text);
        }

        w.WriteEndArray();
        w.WriteBoolean("parallel_tool_calls", true);
        w.WriteBoolean("store", false);
        if (completed && !scripted.OmitUsage)
        {
            var reply = exchange.Reply;
            var cached = scripted.CacheReadTokens ?? 0;
            w.WriteStartObject("usage");
            w.WriteNumber("input_tokens", reply.PromptTokens + cached);
            w.WriteStartObject("input_tokens_details");
            w.WriteNumber("cached_tokens", cached);
            w.WriteEndObject();
            w.WriteNumber("output_tokens", reply.CompletionTokens);
            w.WriteStartObject("output_tokens_details");
            w.WriteNumber("reasoning_tokens", scripted.Reasoning is null ? 0 : 3);
            w.WriteEndObject();
            w.WriteNumber("total_tokens", reply.PromptTokens + cached + reply.CompletionTokens);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("usage");
        }

        w.WriteEndObject();
    }

    /// <summary>The answer's own item: a <c>function_call</c>, or an assistant <c>message</c> of <c>output_text</c>.</summary>
    private static void WriteMainItem(Utf8JsonWriter w, Exchange exchange, string? arguments, string? text)
    {
        w.WriteStartObject();
        if (exchange.Reply.ToolCall is { } call)
        {
            w.WriteString("id", "fc_fake");
            w.WriteString("type", "function_call");
            w.WriteString("status", text is null ? "in_progress" : "completed");
            w.WriteString("call_id", call.Id);
            w.WriteString("name", call.Name);
            w.WriteString("arguments", arguments ?? "");
        }
        else
        {
            w.WriteString("id", "msg_fake");
            w.WriteString("type", "message");
            w.WriteString("role", "assistant");
            w.WriteString("status", text is null ? "in_progress" : "completed");
            w.WriteStartArray("content");
            if (text is not null)
            {
                w.WriteStartObject();
                w.WriteString("type", "output_text");
                w.WriteString("text", text);
                w.WriteStartArray("annotations");
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static int _sequence;

    private static Task EventAsync(Exchange exchange, string type, Action<Utf8JsonWriter> fields) =>
        exchange.WriteFrameAsync(type, JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", type);
            w.WriteNumber("sequence_number", Interlocked.Increment(ref _sequence));
            fields(w);
            w.WriteEndObject();
        }));

    private static IEnumerable<JsonElement> Input(JsonElement body) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Array
            ? input.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.Object)
            : [];

    /// <summary>The text of an input message's content: a string, or its <c>input_text</c>/<c>output_text</c> parts.</summary>
    private static string InputText(JsonElement content) =>
        content.ValueKind == JsonValueKind.String
            ? content.GetString() ?? ""
            : content.ValueKind == JsonValueKind.Array
                ? string.Concat(content.EnumerateArray()
                    .Where(p => p.TryGetProperty("type", out var t) && (t.ValueEquals("input_text") || t.ValueEquals("output_text")))
                    .Select(p => p.TryGetProperty("text", out var text) ? text.GetString() : ""))
                : "";
}
