using System.Text;
using System.Text.Json;
using Durar.Actors.Resilience;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.OpenAi;

/// <summary>
/// One parsed <c>chat.completion.chunk</c> SSE frame (or <c>[DONE]</c>, an error object, or a malformed frame). A struct,
/// read with a forward-only <see cref="Utf8JsonReader"/> pass: no document and no object per frame on the token path.
/// </summary>
internal readonly struct OpenAiChunk
{
    public static readonly OpenAiChunk DoneChunk = new() { Done = true };

    public bool Done { get; private init; }
    public string? Malformed { get; private init; }
    public UpstreamFailure? Error { get; private init; }
    public string? Text { get; private init; }
    public List<ToolCallDelta>? ToolCalls { get; private init; }
    public string? FinishReason { get; private init; }
    public TokenUsage? Usage { get; private init; }

    public static OpenAiChunk Parse(ReadOnlySpan<byte> data)
    {
        var trimmed = data.Trim(" \r\n\t"u8);
        if (trimmed.SequenceEqual("[DONE]"u8)) return DoneChunk;
        try
        {
            var reader = new Utf8JsonReader(trimmed);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                if (reader.TokenType is JsonTokenType.StartArray) reader.Skip(); // still a JSON error when the value is not closed
                return new OpenAiChunk { Malformed = Preview(trimmed) };
            }
            string? text = null, finish = null;
            List<ToolCallDelta>? tools = null;
            TokenUsage? usage = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("choices"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartArray) ReadChoices(ref reader, ref text, ref tools, ref finish);
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject) usage = ReadUsage(ref reader);
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.String) return ParseError(trimmed); // rare: the slow path
                    reader.Skip();
                }
                else SkipValue(ref reader);
            }
            return new OpenAiChunk { Text = text, ToolCalls = tools, FinishReason = finish, Usage = usage };
        }
        catch (JsonException)
        {
            return new OpenAiChunk { Malformed = Preview(trimmed) };
        }
    }

    /// <summary>An error object mid-stream: its message, type, code and numeric status, in every shape providers use.</summary>
    private static OpenAiChunk ParseError(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var doc = JsonDocument.ParseValue(ref reader);
        var err = doc.RootElement.GetProperty("error");
        var (message, type, code) = UpstreamErrors.ExtractError(doc.RootElement);
        int? status = err.ValueKind == JsonValueKind.Object && err.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number
            && c.TryGetInt32(out var n) ? n : null;
        return new OpenAiChunk { Error = new UpstreamFailure(status, message ?? "upstream reported an error mid-stream", code, type) };
    }

    /// <summary>At <c>choices</c>' StartArray: the first choice's delta and finish reason; later choices are skipped.</summary>
    private static void ReadChoices(ref Utf8JsonReader reader, ref string? text, ref List<ToolCallDelta>? tools, ref string? finish)
    {
        var first = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (first && reader.TokenType == JsonTokenType.StartObject)
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("delta"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.StartObject) ReadDelta(ref reader, ref text, ref tools);
                        else reader.Skip();
                    }
                    else if (reader.ValueTextEquals("finish_reason"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.String) finish = reader.GetString();
                        else reader.Skip();
                    }
                    else SkipValue(ref reader);
                }
            else reader.Skip();
            first = false;
        }
    }

    private static void ReadDelta(ref Utf8JsonReader reader, ref string? text, ref List<ToolCallDelta>? tools)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) text = reader.GetString();
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray) tools = ReadToolCalls(ref reader);
                else reader.Skip();
            }
            else SkipValue(ref reader);
        }
    }

    private static List<ToolCallDelta> ReadToolCalls(ref Utf8JsonReader reader)
    {
        var tools = new List<ToolCallDelta>(1);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }
            var index = 0;
            string? id = null, name = null, args = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("index"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var i)) index = i;
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("id"u8)) id = ReadString(ref reader);
                else if (reader.ValueTextEquals("function"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        continue;
                    }
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("name"u8)) name = ReadString(ref reader);
                        else if (reader.ValueTextEquals("arguments"u8)) args = ReadString(ref reader);
                        else SkipValue(ref reader);
                    }
                }
                else SkipValue(ref reader);
            }
            tools.Add(new ToolCallDelta(index, id, name, args));
        }
        return tools;
    }

    /// <summary>At a property name: skips its value, whatever its shape.</summary>
    private static void SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }

    /// <summary>At a property name: its value when it is a string, else null (the value skipped).</summary>
    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String) return reader.GetString();
        reader.Skip();
        return null;
    }

    /// <summary>At <c>usage</c>'s StartObject; the same normalization as <see cref="ParseUsage"/>.</summary>
    private static TokenUsage ReadUsage(ref Utf8JsonReader reader)
    {
        long? prompt = null, completion = null, input = null, output = null;
        long cacheRead = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8)) prompt = ReadLong(ref reader);
            else if (reader.ValueTextEquals("completion_tokens"u8)) completion = ReadLong(ref reader);
            else if (reader.ValueTextEquals("input_tokens"u8)) input = ReadLong(ref reader);
            else if (reader.ValueTextEquals("output_tokens"u8)) output = ReadLong(ref reader);
            else if (reader.ValueTextEquals("prompt_tokens_details"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("cached_tokens"u8)) cacheRead = ReadLong(ref reader) ?? 0;
                    else SkipValue(ref reader);
                }
            }
            else SkipValue(ref reader);
        }
        return new TokenUsage(prompt ?? input ?? 0, completion ?? output ?? 0, cacheRead);

        static long? ReadLong(ref Utf8JsonReader reader)
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n)) return n;
            reader.Skip();
            return null;
        }
    }

    /// <summary>Normalizes OpenAI usage (<c>prompt_tokens</c>/<c>completion_tokens</c>, or <c>input_tokens</c>/<c>output_tokens</c>).</summary>
    public static TokenUsage? ParseUsage(JsonElement u)
    {
        if (u.ValueKind != JsonValueKind.Object) return null;
        var input = Long(u, "prompt_tokens") ?? Long(u, "input_tokens") ?? 0;
        var output = Long(u, "completion_tokens") ?? Long(u, "output_tokens") ?? 0;
        long cacheRead = 0;
        if (u.TryGetProperty("prompt_tokens_details", out var d) && d.ValueKind == JsonValueKind.Object) cacheRead = Long(d, "cached_tokens") ?? 0;
        return new TokenUsage(input, output, cacheRead);

        static long? Long(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
    }

    private static string Preview(ReadOnlySpan<byte> data)
    {
        var s = Encoding.UTF8.GetString(data.Length > 120 ? data[..120] : data);
        return data.Length > 120 ? s + "…" : s;
    }
}
