using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.Anthropic;

/// <summary>
/// Anthropic's <c>usage</c> object as it came, each count null when absent: <c>message_start</c> carries the input side,
/// <c>message_delta</c> cumulative counts (output always, input and cache counts on some hosts), so the stream merges them.
/// <see cref="ToTokenUsage"/> maps it onto the normalized buckets: Anthropic's <c>input_tokens</c> already excludes cache reads
/// and writes, so it is <see cref="TokenUsage.Input"/> as it stands, and the cache counts are their own buckets.
/// </summary>
internal readonly record struct AnthropicUsage(long? Input, long? Output, long? CacheRead, long? CacheWrite, long? Thinking)
{
    /// <summary>This usage with every count <paramref name="later"/> has (a later event's cumulative counts win).</summary>
    public AnthropicUsage Merge(AnthropicUsage later) => new(
        later.Input ?? Input, later.Output ?? Output, later.CacheRead ?? CacheRead, later.CacheWrite ?? CacheWrite, later.Thinking ?? Thinking);

    public TokenUsage ToTokenUsage() =>
        new(Input ?? 0, Output ?? 0, CacheRead ?? 0, CacheWrite ?? 0) { Reasoning = Thinking ?? 0 };

    /// <summary>Reads the <c>usage</c> value the reader is on the property name of.</summary>
    public static AnthropicUsage? Read(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }
        long? input = null, output = null, cacheRead = null, cacheWrite = null, thinking = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("input_tokens"u8)) input = Long(ref reader);
            else if (reader.ValueTextEquals("output_tokens"u8)) output = Long(ref reader);
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8)) cacheRead = Long(ref reader);
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8)) cacheWrite = Long(ref reader);
            else if (reader.ValueTextEquals("output_tokens_details"u8) && reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    if (reader.ValueTextEquals("thinking_tokens"u8)) thinking = Long(ref reader);
                    else reader.Skip();
            }
            else reader.Skip();
        }
        return new AnthropicUsage(input, output, cacheRead, cacheWrite, thinking);

        static long? Long(ref Utf8JsonReader reader)
        {
            reader.Read();
            return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n) ? n : null;
        }
    }

    /// <summary>The same from a parsed <c>usage</c> object (a whole answer).</summary>
    public static AnthropicUsage From(JsonElement u)
    {
        return new AnthropicUsage(Long(u, "input_tokens"), Long(u, "output_tokens"), Long(u, "cache_read_input_tokens"),
            Long(u, "cache_creation_input_tokens"),
            u.TryGetProperty("output_tokens_details", out var d) && d.ValueKind == JsonValueKind.Object ? Long(d, "thinking_tokens") : null);

        static long? Long(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
    }

    /// <summary>
    /// Anthropic's <c>stop_reason</c> as an OpenAI <c>finish_reason</c>: <c>end_turn</c>, <c>stop_sequence</c> and <c>pause_turn</c>
    /// (a server tool paused the turn; the answer so far is whole) → stop; <c>max_tokens</c> and
    /// <c>model_context_window_exceeded</c> → length; <c>tool_use</c> → tool_calls, or stop when the only tool called carried
    /// a JSON answer; <c>refusal</c> → content_filter; anything unknown → stop.
    /// </summary>
    public static string FinishReason(string? stopReason, bool onlyJsonAnswer) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => onlyJsonAnswer ? "stop" : "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    };
}
