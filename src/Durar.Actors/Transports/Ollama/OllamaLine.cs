using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.Ollama;

/// <summary>
/// One line of Ollama's <c>/api/chat</c> answer (a stream line, or the whole non-streamed answer, which has the same shape):
/// <c>{"model","created_at","message":{"role","content","thinking","tool_calls"},"done","done_reason","prompt_eval_count",
/// "eval_count"}</c>, or <c>{"error":"..."}</c>. Read with one forward-only reader; only what the gateway maps is kept.
/// </summary>
internal sealed class OllamaLine
{
    public string? Model { get; private set; }
    public string? Content { get; private set; }
    public string? Thinking { get; private set; }
    public ImmutableArray<ToolCall> ToolCalls { get; private set; } = [];
    public bool Done { get; private set; }
    public string? DoneReason { get; private set; }
    public long? PromptEvalCount { get; private set; }
    public long? EvalCount { get; private set; }
    public string? Error { get; private set; }

    /// <summary>The token counts of a finished answer (Ollama reports them on its last line only).</summary>
    public TokenUsage? Usage => PromptEvalCount is null && EvalCount is null ? null : new TokenUsage(PromptEvalCount ?? 0, EvalCount ?? 0);

    public static OllamaLine Parse(ReadOnlySpan<byte> json)
    {
        var line = new OllamaLine();
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("an Ollama line is not a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("message"u8)) line.ReadMessage(ref reader);
            else if (reader.ValueTextEquals("model"u8)) line.Model = ReadString(ref reader);
            else if (reader.ValueTextEquals("done"u8))
            {
                reader.Read();
                line.Done = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("done_reason"u8)) line.DoneReason = ReadString(ref reader);
            else if (reader.ValueTextEquals("prompt_eval_count"u8)) line.PromptEvalCount = ReadLong(ref reader);
            else if (reader.ValueTextEquals("eval_count"u8)) line.EvalCount = ReadLong(ref reader);
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                line.Error = reader.TokenType switch
                {
                    JsonTokenType.String => reader.GetString(),
                    JsonTokenType.StartObject or JsonTokenType.StartArray => ErrorText(ref reader),
                    _ => "upstream error",
                };
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return line;
    }

    private void ReadMessage(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8)) Content = ReadString(ref reader);
            else if (reader.ValueTextEquals("thinking"u8)) Thinking = ReadString(ref reader);
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                using var doc = JsonDocument.ParseValue(ref reader);
                ToolCalls = ReadToolCalls(doc.RootElement);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>
    /// Ollama's tool calls: <c>{"id"?, "function":{"index"?, "name", "arguments":{...}}}</c>, arguments an object (sent on as its
    /// JSON text, as OpenAI's clients expect). Ollama sends each call whole, in one line.
    /// </summary>
    private static ImmutableArray<ToolCall> ReadToolCalls(JsonElement calls)
    {
        if (calls.ValueKind != JsonValueKind.Array) return [];
        var result = ImmutableArray.CreateBuilder<ToolCall>();
        foreach (var call in calls.EnumerateArray())
        {
            if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object) continue;
            var name = fn.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
            var arguments = fn.TryGetProperty("arguments", out var a)
                ? a.ValueKind == JsonValueKind.String ? a.GetString()! : a.GetRawText()
                : "{}";
            var id = call.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
            result.Add(new ToolCall(id ?? "", name, arguments));
        }
        return result.ToImmutable();
    }

    private static string ErrorText(ref Utf8JsonReader reader)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String
            ? m.GetString()!
            : doc.RootElement.GetRawText();
    }

    /// <summary>A tool call id for a call Ollama sent without one (older servers): unique within the answer.</summary>
    public static string ToolCallId(int index) => "call_" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String) return reader.GetString();
        reader.Skip();
        return null;
    }

    private static long? ReadLong(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n)) return n;
        reader.Skip();
        return null;
    }
}
