using System.Buffers;
using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Api.Apis.Responses;

/// <summary>What every shape of one response repeats: its id, creation time, the model that answered, and the request it echoes.</summary>
/// <param name="Body">The client's request (its settings are echoed: instructions, tools, text format, ...); null when the
/// response is read back later (<c>GET</c>), whose request is not stored.</param>
internal sealed record ResponseHead(string Id, long CreatedAt, string Model, JsonElement? Body, bool Store, string? PreviousResponseId);

/// <summary>
/// One output item of a response: a <c>reasoning</c> item (its summary), an assistant <c>message</c> (output text and a
/// refusal) or a <c>function_call</c>. Mutable while a stream fills it; its id is derived from the response id and its
/// place (<see cref="ResponseIds.Item"/>), so a response read back later has the same ids.
/// </summary>
internal sealed class OutputItem(string type, string id)
{
    public string Type { get; } = type;
    public string Id { get; } = id;
    public StringBuilder Text { get; } = new();
    public StringBuilder? Refusal { get; set; }
    public string? CallId { get; init; }
    public string? Name { get; init; }
    public bool Done { get; set; }

    public const string Reasoning = "reasoning";
    public const string Message = "message";
    public const string FunctionCall = "function_call";

    /// <summary>The output items of a whole answer, in OpenAI's order: reasoning, the message, then each function call.</summary>
    public static List<OutputItem> Of(string responseId, string? reasoning, string? text, string? refusal, IEnumerable<ToolCall> calls)
    {
        var items = new List<OutputItem>();
        if (!string.IsNullOrEmpty(reasoning)) items.Add(Filled(new OutputItem(Reasoning, ResponseIds.Item("rs", responseId, items.Count)), reasoning));
        if (!string.IsNullOrEmpty(text) || !string.IsNullOrEmpty(refusal))
        {
            var message = Filled(new OutputItem(Message, ResponseIds.Item("msg", responseId, items.Count)), text ?? "");
            if (!string.IsNullOrEmpty(refusal)) message.Refusal = new StringBuilder(refusal);
            items.Add(message);
        }
        foreach (var call in calls)
            items.Add(Filled(new OutputItem(FunctionCall, ResponseIds.Item("fc", responseId, items.Count)) { CallId = call.Id, Name = call.Name }, call.Arguments));
        return items;

        static OutputItem Filled(OutputItem item, string text)
        {
            item.Text.Append(text);
            item.Done = true;
            return item;
        }
    }

    /// <summary>The item as OpenAI writes it in a response's <c>output</c> and in <c>response.output_item.*</c> events.</summary>
    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteString("type", Type);
        switch (Type)
        {
            case Reasoning:
                w.WriteStartArray("summary");
                if (Done)
                {
                    w.WriteStartObject();
                    w.WriteString("type", "summary_text");
                    w.WriteString("text", Text.ToString());
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
            case Message:
                w.WriteString("status", Done ? "completed" : "in_progress");
                w.WriteString("role", "assistant");
                w.WriteStartArray("content");
                if (Done)
                {
                    if (Text.Length > 0 || Refusal is null) ResponseObjectWriter.WriteTextPart(w, Text.ToString());
                    if (Refusal is not null) ResponseObjectWriter.WriteRefusalPart(w, Refusal.ToString());
                }
                w.WriteEndArray();
                break;
            case FunctionCall:
                w.WriteString("status", Done ? "completed" : "in_progress");
                w.WriteString("arguments", Done ? Text.ToString() : "");
                w.WriteString("call_id", CallId);
                w.WriteString("name", Name);
                break;
        }
        w.WriteEndObject();
    }
}

/// <summary>
/// Writes the Responses API's <c>response</c> object exactly as OpenAI shapes it: id, <c>object: "response"</c>,
/// <c>created_at</c>, status (<c>completed</c>, <c>incomplete</c> with its reason, <c>failed</c> with its error, or
/// <c>in_progress</c>), the output items, usage with its token details, and the request's settings echoed with OpenAI's
/// defaults. The <c>output_text</c> convenience is the SDKs' own (computed from the items), never a wire field.
/// </summary>
internal static class ResponseObjectWriter
{
    /// <summary>
    /// One whole response as the body of a JSON answer, with a Content-Length; once it is written the request's answer is
    /// complete (<see cref="Telemetry.RequestFacts.Answered"/>).
    /// </summary>
    public static async Task WriteAsync(HttpResponse response, ResponseHead head, ChatCompletion completion)
    {
        var items = OutputItem.Of(head.Id, completion.Reasoning, completion.Text, completion.Refusal, completion.ToolCalls);
        await WriteJsonAsync(response, w => Write(w, head, StatusOf(completion.FinishReason), items, completion.Usage ?? TokenUsage.Zero, null,
            IncompleteReason(completion.FinishReason)));
    }

    /// <summary>
    /// A JSON body built first, so it leaves with a Content-Length in one write; the request's answer is then complete
    /// (<see cref="Telemetry.RequestFacts.Answered"/>).
    /// </summary>
    public static async Task WriteJsonAsync(HttpResponse response, Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, ChatCompletionWriter.Options)) body(w);
        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory);
        Telemetry.RequestFacts.Of(response.HttpContext)?.Answered();
    }

    public static string StatusOf(string? finish) => IncompleteReason(finish) is null ? "completed" : "incomplete";

    /// <summary>OpenAI's <c>incomplete_details.reason</c> for a finish reason that cut the answer short; null otherwise.</summary>
    public static string? IncompleteReason(string? finish) => finish switch
    {
        "length" => "max_output_tokens",
        "content_filter" => "content_filter",
        _ => null,
    };

    public static void Write(Utf8JsonWriter w, ResponseHead head, string status, IReadOnlyList<OutputItem> items, TokenUsage? usage, ApiError? error,
        string? incompleteReason)
    {
        w.WriteStartObject();
        w.WriteString("id", head.Id);
        w.WriteString("object", "response");
        w.WriteNumber("created_at", head.CreatedAt);
        w.WriteString("status", status);
        w.WriteBoolean("background", false);
        w.WritePropertyName("error");
        if (error is null) w.WriteNullValue();
        else
        {
            w.WriteStartObject();
            w.WriteString("code", error.Code);
            w.WriteString("message", error.Message);
            w.WriteEndObject();
        }
        w.WritePropertyName("incomplete_details");
        if (incompleteReason is null) w.WriteNullValue();
        else
        {
            w.WriteStartObject();
            w.WriteString("reason", incompleteReason);
            w.WriteEndObject();
        }
        var body = head.Body ?? default;
        Echo(w, body, "instructions", null);
        Echo(w, body, "max_output_tokens", null);
        w.WriteString("model", head.Model);
        w.WriteStartArray("output");
        foreach (var item in items) item.Write(w);
        w.WriteEndArray();
        Echo(w, body, "parallel_tool_calls", static w => w.WriteBooleanValue(true));
        if (head.PreviousResponseId is null) w.WriteNull("previous_response_id");
        else w.WriteString("previous_response_id", head.PreviousResponseId);
        var reasoning = Field(body, "reasoning");
        w.WriteStartObject("reasoning");
        Echo(w, reasoning, "effort", null);
        Echo(w, reasoning, "summary", null);
        w.WriteEndObject();
        w.WriteBoolean("store", head.Store);
        Echo(w, body, "temperature", static w => w.WriteNumberValue(1.0));
        w.WriteStartObject("text");
        Echo(w, Field(body, "text"), "format", static w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "text");
            w.WriteEndObject();
        });
        w.WriteEndObject();
        Echo(w, body, "tool_choice", static w => w.WriteStringValue("auto"));
        Echo(w, body, "tools", static w =>
        {
            w.WriteStartArray();
            w.WriteEndArray();
        });
        Echo(w, body, "top_p", static w => w.WriteNumberValue(1.0));
        w.WriteString("truncation", "disabled");
        w.WritePropertyName("usage");
        if (usage is null) w.WriteNullValue();
        else WriteUsage(w, usage);
        Echo(w, body, "user", null);
        Echo(w, body, "metadata", static w =>
        {
            w.WriteStartObject();
            w.WriteEndObject();
        });
        w.WriteEndObject();
    }

    /// <summary>Usage in the Responses API's names: input (cached included, as OpenAI counts it), output (reasoning included), total.</summary>
    public static void WriteUsage(Utf8JsonWriter w, TokenUsage usage)
    {
        w.WriteStartObject();
        w.WriteNumber("input_tokens", usage.Prompt);
        w.WriteStartObject("input_tokens_details");
        w.WriteNumber("cached_tokens", usage.CacheRead);
        w.WriteEndObject();
        w.WriteNumber("output_tokens", usage.Output);
        w.WriteStartObject("output_tokens_details");
        w.WriteNumber("reasoning_tokens", usage.Reasoning);
        w.WriteEndObject();
        w.WriteNumber("total_tokens", usage.Prompt + usage.Output);
        w.WriteEndObject();
    }

    public static void WriteTextPart(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "output_text");
        w.WriteStartArray("annotations");
        w.WriteEndArray();
        w.WriteStartArray("logprobs");
        w.WriteEndArray();
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    public static void WriteRefusalPart(Utf8JsonWriter w, string refusal)
    {
        w.WriteStartObject();
        w.WriteString("type", "refusal");
        w.WriteString("refusal", refusal);
        w.WriteEndObject();
    }

    private static JsonElement Field(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) ? v : default;

    /// <summary>The request's own value of <paramref name="name"/>, else OpenAI's default (null when <paramref name="fallback"/> is).</summary>
    private static void Echo(Utf8JsonWriter w, JsonElement o, string name, Action<Utf8JsonWriter>? fallback)
    {
        w.WritePropertyName(name);
        var value = Field(o, name);
        if (value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null)) value.WriteTo(w);
        else if (fallback is not null) fallback(w);
        else w.WriteNullValue();
    }
}
