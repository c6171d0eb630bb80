using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Durar.Testing;

/// <summary>
/// Gemini's <c>generateContent</c> wire, in the shapes of Google's public API reference (ai.google.dev/api/generate-content):
/// <c>POST /v1beta/models/{model}:generateContent</c> answers one <c>GenerateContentResponse</c>;
/// <c>:streamGenerateContent?alt=sse</c> streams them as SSE <c>data:</c> events with no terminator, the last one carrying
/// <c>finishReason</c> and <c>usageMetadata</c>. Errors are <c>google.rpc.Status</c> JSON
/// (<c>{"error":{"code","message","status","details"}}</c>); a 429 is RESOURCE_EXHAUSTED with a <c>google.rpc.RetryInfo</c>
/// <c>retryDelay</c> (from <see cref="FakeResponse.RetryAfter"/>, which Google sends in the body only, never as a header).
/// The same wire serves Vertex AI's publisher model URLs and, with <see cref="CodeAssist"/>, Cloud Code Assist's envelope
/// (<c>{model, project, request}</c> in, <c>{response}</c> out).
/// </summary>
/// <remarks>
/// Reasoning (<see cref="FakeResponse.Reasoning"/>) is sent as thought parts (<c>thought: true</c>) ahead of the answer, its
/// words counted as <c>thoughtsTokenCount</c>; <see cref="FakeResponse.CacheReadTokens"/> is <c>cachedContentTokenCount</c>
/// (part of <c>promptTokenCount</c>, as Google counts it); a tool call is one <c>functionCall</c> part sent whole with the last
/// argument piece, carrying <see cref="FakeResponse.ReasoningSignature"/> as its <c>thoughtSignature</c>.
/// </remarks>
internal sealed class GeminiWire(bool envelope) : WireFormat
{
    public static readonly GeminiWire Instance = new(false);

    /// <summary>Cloud Code Assist (<c>/v1internal:streamGenerateContent</c>): the same, inside its envelope.</summary>
    public static readonly GeminiWire CodeAssist = new(true);

    public override string Name => envelope ? "gemini-cli" : "gemini";

    protected override string MalformedFrame => "data: {not json\r\n\r\n";

    protected override bool SendsRetryAfterHeader => false;

    public override string? ModelOf(HttpRequest http, JsonElement body) =>
        envelope ? StringProperty(body, "model") : ModelInPath(http.Path.Value);

    public override bool IsStreaming(HttpRequest http, JsonElement body) =>
        (http.Path.Value ?? "").EndsWith(":streamGenerateContent", StringComparison.Ordinal);

    /// <summary>The request object (inside the envelope for Cloud Code Assist).</summary>
    private JsonElement Request(JsonElement body) =>
        envelope && body.ValueKind == JsonValueKind.Object && body.TryGetProperty("request", out var inner) ? inner : body;

    public override string LastUserText(JsonElement body)
    {
        var last = Contents(Request(body)).LastOrDefault(c => c.TryGetProperty("role", out var role) && role.ValueEquals("user"));
        return last.ValueKind == JsonValueKind.Object ? PartsText(last) : "";
    }

    public override int CountPromptWords(JsonElement body)
    {
        var request = Request(body);
        var system = request.ValueKind == JsonValueKind.Object && request.TryGetProperty("systemInstruction", out var s) ? Reply.CountWords(PartsText(s)) : 0;
        return system + Contents(request).Sum(c => Reply.CountWords(PartsText(c)));
    }

    protected override byte[] ErrorBody(FakeResponse response, int status) => JsonBytes.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteNumber("code", status);
        w.WriteString("message", response.ErrorMessage ?? DefaultMessage(status));
        w.WriteString("status", response.ErrorType ?? Status(status));
        if (status == 429)
        {
            w.WriteStartArray("details");
            w.WriteStartObject();
            w.WriteString("@type", "type.googleapis.com/google.rpc.QuotaFailure");
            w.WriteStartArray("violations");
            w.WriteStartObject();
            w.WriteString("quotaMetric", "generativelanguage.googleapis.com/generate_content_free_tier_requests");
            w.WriteString("quotaId", "GenerateRequestsPerMinutePerProjectPerModel-FreeTier");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            if (response.RetryAfter is { } delay)
            {
                w.WriteStartObject();
                w.WriteString("@type", "type.googleapis.com/google.rpc.RetryInfo");
                w.WriteString("retryDelay", delay + "s");
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    });

    protected override byte[] CompletionBody(Exchange exchange)
    {
        var reply = exchange.Reply;
        return Envelope(w =>
        {
            w.WriteStartObject();
            WriteCandidate(w, exchange, finish: true, parts: w2 =>
            {
                if (exchange.Response.Reasoning is { } reasoning) Thought(w2, reasoning);
                if (reply.ToolCall is { } call) FunctionCall(w2, call, exchange.Response);
                else Text(w2, reply.Text);
            });
            WriteUsage(w, exchange);
            WriteIds(w, exchange);
            w.WriteEndObject();
        });
    }

    protected override async Task WriteStreamStartAsync(Exchange exchange)
    {
        if (exchange.Response.Reasoning is not { } reasoning) return;
        foreach (var piece in Reply.Split(reasoning, null))
            await WriteChunkAsync(exchange, w => Thought(w, piece), finish: false);
    }

    protected override Task WriteStreamPieceAsync(Exchange exchange, int index)
    {
        var reply = exchange.Reply;
        if (reply.ToolCall is { } call)
        {
            // Gemini sends a function call whole: nothing for the earlier argument pieces, the call with the last one.
            return index == reply.Pieces.Count - 1
                ? WriteChunkAsync(exchange, w => FunctionCall(w, call, exchange.Response), finish: false)
                : Task.CompletedTask;
        }
        var piece = reply.Pieces[index];
        return WriteChunkAsync(exchange, w => Text(w, piece), finish: false);
    }

    protected override Task WriteStreamEndAsync(Exchange exchange) =>
        WriteChunkAsync(exchange, w => Text(w, ""), finish: true);

    protected override Task WriteStreamErrorAsync(Exchange exchange) =>
        WriteDataAsync(exchange, JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteNumber("code", 503);
            w.WriteString("message", exchange.Response.ErrorMessage ?? "The model is overloaded. Please try again later.");
            w.WriteString("status", exchange.Response.ErrorType ?? "UNAVAILABLE");
            w.WriteEndObject();
            w.WriteEndObject();
        }));

    private Task WriteChunkAsync(Exchange exchange, Action<Utf8JsonWriter> part, bool finish) =>
        WriteDataAsync(exchange, Envelope(w =>
        {
            w.WriteStartObject();
            WriteCandidate(w, exchange, finish, part);
            if (finish || !exchange.Response.OmitUsage) WriteUsage(w, exchange, finish);
            WriteIds(w, exchange);
            w.WriteEndObject();
        }));

    /// <summary>An SSE event as Google frames it: <c>data: </c>, the JSON, CRLF CRLF.</summary>
    private static async Task WriteDataAsync(Exchange exchange, byte[] json)
    {
        var frame = new byte[json.Length + 10];
        "data: "u8.CopyTo(frame);
        json.CopyTo(frame, 6);
        "\r\n\r\n"u8.CopyTo(frame.AsSpan(6 + json.Length));
        await exchange.Http.Response.Body.WriteAsync(frame, exchange.Token);
        await exchange.Http.Response.Body.FlushAsync(exchange.Token);
    }

    /// <summary>The response object, inside <c>{"response": ...}</c> for Cloud Code Assist.</summary>
    private byte[] Envelope(Action<Utf8JsonWriter> response) => JsonBytes.Write(w =>
    {
        if (!envelope)
        {
            response(w);
            return;
        }
        w.WriteStartObject();
        w.WritePropertyName("response");
        response(w);
        w.WriteEndObject();
    });

    private static void WriteCandidate(Utf8JsonWriter w, Exchange exchange, bool finish, Action<Utf8JsonWriter> parts)
    {
        w.WriteStartArray("candidates");
        w.WriteStartObject();
        w.WriteStartObject("content");
        w.WriteStartArray("parts");
        parts(w);
        w.WriteEndArray();
        w.WriteString("role", "model");
        w.WriteEndObject();
        if (finish) w.WriteString("finishReason", FinishReason(exchange));
        w.WriteNumber("index", 0);
        w.WriteEndObject();
        w.WriteEndArray();
    }

    private static void WriteUsage(Utf8JsonWriter w, Exchange exchange, bool final = true)
    {
        if (exchange.Response.OmitUsage) return;
        var reply = exchange.Reply;
        var cached = exchange.Response.CacheReadTokens ?? 0;
        var thoughts = exchange.Response.Reasoning is { } r ? Reply.CountWords(r) : 0;
        var candidates = final ? reply.CompletionTokens : 0;
        w.WriteStartObject("usageMetadata");
        w.WriteNumber("promptTokenCount", reply.PromptTokens + cached);
        if (final) w.WriteNumber("candidatesTokenCount", candidates);
        if (cached > 0) w.WriteNumber("cachedContentTokenCount", cached);
        if (thoughts > 0) w.WriteNumber("thoughtsTokenCount", thoughts);
        w.WriteNumber("totalTokenCount", reply.PromptTokens + cached + candidates + thoughts);
        w.WriteEndObject();
    }

    private static void WriteIds(Utf8JsonWriter w, Exchange exchange)
    {
        w.WriteString("modelVersion", exchange.Model);
        w.WriteString("responseId", $"fake-gemini-{exchange.Sequence}");
    }

    private static void Text(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    private static void Thought(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("text", text);
        w.WriteBoolean("thought", true);
        w.WriteEndObject();
    }

    private static void FunctionCall(Utf8JsonWriter w, FakeToolCall call, FakeResponse scripted)
    {
        w.WriteStartObject();
        w.WriteStartObject("functionCall");
        w.WriteString("name", call.Name);
        w.WritePropertyName("args");
        try
        {
            using var args = JsonDocument.Parse(call.ArgumentsJson);
            args.RootElement.WriteTo(w);
        }
        catch (JsonException)
        {
            w.WriteRawValue(call.ArgumentsJson, skipInputValidation: true);
        }
        w.WriteEndObject();
        if (scripted.ReasoningSignature is { } signature) w.WriteString("thoughtSignature", signature);
        w.WriteEndObject();
    }

    private static string FinishReason(Exchange exchange) => exchange.Response.FinishReason switch
    {
        null or "stop" or "tool_calls" => "STOP",
        "length" => "MAX_TOKENS",
        "content_filter" => "SAFETY",
        var other => other,
    };

    /// <summary><c>.../models/{model}:method</c> → model.</summary>
    public static string? ModelInPath(string? path)
    {
        if (path is null) return null;
        var at = path.LastIndexOf("/models/", StringComparison.Ordinal);
        if (at < 0) return null;
        var rest = path[(at + "/models/".Length)..];
        var colon = rest.IndexOf(':');
        return colon < 0 ? rest : rest[..colon];
    }

    private static IEnumerable<JsonElement> Contents(JsonElement request) =>
        request.ValueKind == JsonValueKind.Object && request.TryGetProperty("contents", out var contents) && contents.ValueKind == JsonValueKind.Array
            ? contents.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.Object)
            : [];

    private static string PartsText(JsonElement content)
    {
        if (!content.TryGetProperty("parts", out var parts) || parts.ValueKind != JsonValueKind.Array) return "";
        var text = new StringBuilder();
        foreach (var part in parts.EnumerateArray())
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                text.Append(t.GetString());
        return text.ToString();
    }

    private static string Status(int status) => status switch
    {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };

    private static string DefaultMessage(int status) => status switch
    {
        401 => "API key not valid. Please pass a valid API key. (fake)",
        404 => "models/unknown is not found for API version v1beta (fake)",
        429 => "You exceeded your current quota, please check your plan and billing details. (fake)",
        503 => "The model is overloaded. Please try again later. (fake)",
        _ => $"Request failed with status {status}. (fake)",
    };
}
