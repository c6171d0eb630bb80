using System.Text;
using System.Text.Json;
using Durar.Actors.Resilience;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.Anthropic;

/// <summary>One parsed Anthropic SSE event, reduced to the fields the neutral model needs.</summary>
internal sealed class AnthropicEvent
{
    public required string Type { get; init; }
    public string? Malformed { get; init; }
    public UpstreamFailure? Error { get; init; }
    public int Index { get; init; }
    public string? BlockType { get; init; }
    public string? ToolId { get; init; }
    public string? ToolName { get; init; }
    public string? Text { get; init; }
    public string? PartialJson { get; init; }
    public string? StopReason { get; init; }
    public TokenUsage? Usage { get; init; }

    public static AnthropicEvent Parse(string type, ReadOnlySpan<byte> data)
    {
        try
        {
            var reader = new Utf8JsonReader(data);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            var kind = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : type;
            switch (kind)
            {
                case "error":
                    var (message, errType, code) = UpstreamErrors.ExtractError(root);
                    return new AnthropicEvent { Type = kind, Error = new UpstreamFailure(StatusFor(errType), message ?? "upstream error", code, errType) };
                case "message_start":
                    return new AnthropicEvent
                    {
                        Type = kind,
                        Usage = root.TryGetProperty("message", out var msg) && msg.TryGetProperty("usage", out var u0) ? ParseUsage(u0) : null,
                    };
                case "content_block_start":
                    var block = root.GetProperty("content_block");
                    return new AnthropicEvent
                    {
                        Type = kind,
                        Index = root.GetProperty("index").GetInt32(),
                        BlockType = block.GetProperty("type").GetString(),
                        ToolId = block.TryGetProperty("id", out var id) ? id.GetString() : null,
                        ToolName = block.TryGetProperty("name", out var n) ? n.GetString() : null,
                        Text = block.TryGetProperty("text", out var tx) ? tx.GetString() : null,
                    };
                case "content_block_delta":
                    var delta = root.GetProperty("delta");
                    return new AnthropicEvent
                    {
                        Type = kind,
                        Index = root.GetProperty("index").GetInt32(),
                        Text = delta.TryGetProperty("text", out var dt) ? dt.GetString() : null,
                        PartialJson = delta.TryGetProperty("partial_json", out var pj) ? pj.GetString() : null,
                    };
                case "message_delta":
                    return new AnthropicEvent
                    {
                        Type = kind,
                        StopReason = root.TryGetProperty("delta", out var md) && md.TryGetProperty("stop_reason", out var sr) ? sr.GetString() : null,
                        Usage = root.TryGetProperty("usage", out var u1) ? ParseUsage(u1) : null,
                    };
                default:
                    return new AnthropicEvent { Type = kind };
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            var s = Encoding.UTF8.GetString(data.Length > 120 ? data[..120] : data);
            return new AnthropicEvent { Type = type, Malformed = s };
        }
    }

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
        _ => null,
    };

    public static TokenUsage ParseUsage(JsonElement u)
    {
        return new TokenUsage(Long("input_tokens"), Long("output_tokens"), Long("cache_read_input_tokens"), Long("cache_creation_input_tokens"));
        long Long(string name) => u.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;
    }

    public static string MapStopReason(string? stop) => stop switch
    {
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    };
}
