using System.Text.Json;

namespace Durar.Actors.Transports.OpenAiResponses;

/// <summary>
/// One event of a streamed Responses API answer (<c>response.*</c> and <c>error</c>), read forward-only: the delta events
/// that carry the answer (<c>response.output_text.delta</c>, <c>response.reasoning_summary_text.delta</c>,
/// <c>response.function_call_arguments.delta</c>, ...) keep only their <c>delta</c> and <c>output_index</c>; the few
/// structural events keep their <c>item</c> or <c>response</c> object, and an error event its code, message and param.
/// </summary>
internal sealed class ResponsesEvent
{
    public string Type { get; private set; } = "";
    public string? Delta { get; private set; }
    public int OutputIndex { get; private set; }
    public JsonElement? Item { get; private set; }
    public JsonElement? Response { get; private set; }
    public string? Code { get; private set; }
    public string? Message { get; private set; }
    public string? Param { get; private set; }

    public static ResponsesEvent Parse(ReadOnlySpan<byte> data)
    {
        var e = new ResponsesEvent();
        var reader = new Utf8JsonReader(data);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("a Responses event is not a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8)) e.Type = ReadString(ref reader) ?? "";
            else if (reader.ValueTextEquals("delta"u8)) e.Delta = ReadString(ref reader);
            else if (reader.ValueTextEquals("output_index"u8))
            {
                reader.Read();
                e.OutputIndex = reader.TokenType == JsonTokenType.Number ? reader.GetInt32() : 0;
            }
            else if (reader.ValueTextEquals("item"u8)) e.Item = ReadObject(ref reader);
            else if (reader.ValueTextEquals("response"u8)) e.Response = ReadObject(ref reader);
            else if (reader.ValueTextEquals("code"u8)) e.Code = ReadString(ref reader);
            else if (reader.ValueTextEquals("message"u8)) e.Message = ReadString(ref reader);
            else if (reader.ValueTextEquals("param"u8)) e.Param = ReadString(ref reader);
            else if (reader.ValueTextEquals("error"u8))
            {
                // Some servers nest the error: {"type":"error","error":{"code","message","param"}}.
                var error = ReadObject(ref reader);
                if (error is { ValueKind: JsonValueKind.Object } o)
                {
                    e.Code ??= Str(o, "code") ?? Str(o, "type");
                    e.Message ??= Str(o, "message");
                    e.Param ??= Str(o, "param");
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return e;
    }

    public static string? Str(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static JsonElement? ReadObject(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }
        using var doc = JsonDocument.ParseValue(ref reader);
        return doc.RootElement.Clone();
    }

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String) return reader.GetString();
        reader.Skip();
        return null;
    }
}
