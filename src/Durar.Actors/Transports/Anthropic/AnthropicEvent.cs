using System.Text;
using System.Text.Json;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.Anthropic;

/// <summary>
/// One Anthropic SSE event, read with a forward-only reader (no document per token) and reduced to what the canonical events
/// need: the block index; a block's type, tool id and name, initial text or thinking, redacted data; a delta's type with its
/// text, thinking, signature or partial JSON; the stop reason; usage; an error.
/// </summary>
internal sealed class AnthropicEvent
{
    public required string Type { get; init; }
    public string? Malformed { get; private init; }
    public UpstreamFailure? Error { get; private init; }
    public int Index { get; private set; }
    /// <summary><c>content_block.type</c> (block start) or <c>delta.type</c> (block delta).</summary>
    public string? Kind { get; private set; }
    public string? ToolId { get; private set; }
    public string? ToolName { get; private set; }
    /// <summary>Text, or thinking text for thinking blocks and deltas.</summary>
    public string? Text { get; private set; }
    public string? PartialJson { get; private set; }
    public string? Signature { get; private set; }
    /// <summary>A redacted thinking block's opaque data.</summary>
    public string? Data { get; private set; }
    public string? StopReason { get; private set; }
    /// <summary><c>message_delta</c>'s <c>stop_sequence</c>: the custom stop sequence that ended the answer.</summary>
    public string? StopSequence { get; private set; }
    public AnthropicUsage? Usage { get; private set; }

    public static AnthropicEvent Parse(string type, ReadOnlySpan<byte> data)
    {
        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return Bad(type, data);
            string? kind = null;
            var e = new AnthropicEvent { Type = type };
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8)) kind = ReadString(ref reader);
                else if (reader.ValueTextEquals("index"u8)) e.Index = reader.Read() && reader.TryGetInt32(out var i) ? i : 0;
                else if (reader.ValueTextEquals("content_block"u8) || reader.ValueTextEquals("delta"u8)) e.ReadBlock(ref reader);
                else if (reader.ValueTextEquals("usage"u8)) e.Usage = AnthropicUsage.Read(ref reader);
                else if (reader.ValueTextEquals("message"u8)) e.ReadMessage(ref reader);
                else if (reader.ValueTextEquals("error"u8)) return new AnthropicEvent { Type = "error", Error = ReadError(ref reader) };
                else reader.Skip();
            }
            return kind is null || kind == type ? e : new AnthropicEvent
            {
                Type = kind, Index = e.Index, Kind = e.Kind, ToolId = e.ToolId, ToolName = e.ToolName, Text = e.Text,
                PartialJson = e.PartialJson, Signature = e.Signature, Data = e.Data, StopReason = e.StopReason, StopSequence = e.StopSequence, Usage = e.Usage,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Bad(type, data);
        }
    }

    /// <summary>A <c>content_block</c> or <c>delta</c> object: the fields of every block and delta type share names.</summary>
    private void ReadBlock(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8)) Kind = ReadString(ref reader);
            else if (reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("thinking"u8)) Text = ReadString(ref reader);
            else if (reader.ValueTextEquals("partial_json"u8)) PartialJson = ReadString(ref reader);
            else if (reader.ValueTextEquals("signature"u8)) Signature = ReadString(ref reader);
            else if (reader.ValueTextEquals("data"u8)) Data = ReadString(ref reader);
            else if (reader.ValueTextEquals("id"u8)) ToolId = ReadString(ref reader);
            else if (reader.ValueTextEquals("name"u8)) ToolName = ReadString(ref reader);
            else if (reader.ValueTextEquals("stop_reason"u8)) StopReason = ReadString(ref reader);
            else if (reader.ValueTextEquals("stop_sequence"u8)) StopSequence = ReadString(ref reader);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary><c>message_start</c>'s message: only its usage matters here.</summary>
    private void ReadMessage(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("usage"u8)) Usage = AnthropicUsage.Read(ref reader);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static UpstreamFailure ReadError(ref Utf8JsonReader reader)
    {
        string? message = null, type = null, code = null, param = null;
        if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("message"u8)) message = ReadString(ref reader);
                else if (reader.ValueTextEquals("type"u8)) type = ReadString(ref reader);
                else if (reader.ValueTextEquals("code"u8)) code = ReadString(ref reader);
                else if (reader.ValueTextEquals("param"u8)) param = ReadString(ref reader);
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        else if (reader.TokenType == JsonTokenType.String) message = reader.GetString();
        else reader.Skip();
        return new UpstreamFailure(StatusFor(type), message ?? "upstream error", code, type) { Param = param };
    }

    /// <summary>An Anthropic error object (<c>{"type":"error","error":{...}}</c>) as a failure, keeping its type and param.</summary>
    public static UpstreamFailure Failure(JsonElement root, string providerId)
    {
        var error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : root;
        var type = Str(error, "type");
        return new UpstreamFailure(StatusFor(type), Str(error, "message") ?? "upstream error", Str(error, "code"), type, providerId)
            { Param = Str(error, "param") };

        static string? Str(JsonElement o, string name) =>
            o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }

    /// <summary>The HTTP status Anthropic answers an error of this type with (an error event in a stream has none).</summary>
    private static int? StatusFor(string? errorType) => errorType switch
    {
        "rate_limit_error" => 429,
        "overloaded_error" => 529,
        "api_error" => 500,
        "authentication_error" => 401,
        "permission_error" => 403,
        "not_found_error" => 404,
        "invalid_request_error" => 400,
        "request_too_large" => 413,
        "billing_error" => 402,
        "timeout_error" => 504,
        _ => null,
    };

    /// <summary>The next value as a string; null for JSON null or any other value (skipped).</summary>
    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String) return reader.GetString();
        reader.Skip();
        return null;
    }

    private static AnthropicEvent Bad(string type, ReadOnlySpan<byte> data)
    {
        var s = Encoding.UTF8.GetString(data.Length > 120 ? data[..120] : data);
        return new AnthropicEvent { Type = type, Malformed = s };
    }
}
