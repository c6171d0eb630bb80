using System.Text;
using System.Text.Json;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.OpenAi;

/// <summary>One parsed <c>chat.completion.chunk</c> SSE frame (or <c>[DONE]</c>, an error object, or a malformed frame).</summary>
internal sealed class OpenAiChunk
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
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return new OpenAiChunk { Malformed = Preview(trimmed) };
            if (root.TryGetProperty("error", out var err) && err.ValueKind is JsonValueKind.Object or JsonValueKind.String)
            {
                var (message, type, code) = UpstreamHttp.ExtractError(root.GetRawText());
                int? status = err.ValueKind == JsonValueKind.Object && err.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : null;
                return new OpenAiChunk { Error = new UpstreamFailure(status, message ?? "upstream reported an error mid-stream", code, type) };
            }
            string? text = null, finish = null;
            List<ToolCallDelta>? tools = null;
            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
            {
                var choice = choices[0];
                if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
                {
                    if (delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String) text = content.GetString();
                    if (delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                    {
                        tools = new List<ToolCallDelta>(calls.GetArrayLength());
                        foreach (var call in calls.EnumerateArray())
                        {
                            var index = call.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Number ? i.GetInt32() : 0;
                            string? id = call.TryGetProperty("id", out var idv) && idv.ValueKind == JsonValueKind.String ? idv.GetString() : null;
                            string? name = null, args = null;
                            if (call.TryGetProperty("function", out var fn) && fn.ValueKind == JsonValueKind.Object)
                            {
                                if (fn.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String) name = n.GetString();
                                if (fn.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.String) args = a.GetString();
                            }
                            tools.Add(new ToolCallDelta(index, id, name, args));
                        }
                    }
                }
                if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String) finish = f.GetString();
            }
            TokenUsage? usage = root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object ? ParseUsage(u) : null;
            return new OpenAiChunk { Text = text, ToolCalls = tools, FinishReason = finish, Usage = usage };
        }
        catch (JsonException)
        {
            return new OpenAiChunk { Malformed = Preview(trimmed) };
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
