using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.OpenAi;

/// <summary>
/// A whole <c>chat.completion</c> object as the events a stream of it would have carried, for an upstream that answered a
/// streaming request with JSON: every choice with its index (reasoning, refusal, text with its logprobs, tool calls, the
/// message's and the choice's other fields verbatim, the finish reason), the answer's fingerprint, tier and unknown
/// top-level fields, and the upstream's own usage object.
/// </summary>
internal static class OpenAiWholeAnswer
{
    /// <summary>Fields of the completion itself that an event carries, or that the gateway answers with its own.</summary>
    private static readonly HashSet<string> Named = ["id", "object", "created", "model", "choices", "usage", "system_fingerprint", "service_tier"];

    /// <summary>Message fields an event carries (or that say nothing: the role).</summary>
    private static readonly HashSet<string> MessageNamed = ["role", "content", "refusal", "reasoning_content", "reasoning", "tool_calls"];

    /// <summary>Choice fields an event carries.</summary>
    private static readonly HashSet<string> ChoiceNamed = ["index", "message", "logprobs", "finish_reason"];

    public static List<ChatEvent> Events(JsonElement completion, TokenUsage? usage)
    {
        var events = new List<ChatEvent>(8);
        var fingerprint = Str(completion, "system_fingerprint");
        var tier = Str(completion, "service_tier");
        var extra = Others(completion, Named);
        if (fingerprint is not null || tier is not null || extra is not null)
            events.Add(new StreamMeta(null, null, fingerprint, tier) { Extra = extra });
        var position = 0;
        foreach (var choice in completion.GetProperty("choices").EnumerateArray())
        {
            var index = choice.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Number && i.TryGetInt32(out var n) ? n : position;
            position++;
            var message = choice.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
            JsonElement? logprobs = choice.TryGetProperty("logprobs", out var lp) && lp.ValueKind != JsonValueKind.Null ? lp : null;
            if ((Str(message, "reasoning_content") ?? Str(message, "reasoning")) is { Length: > 0 } reasoning)
                events.Add(new ReasoningDelta(reasoning) { Choice = index });
            var text = Str(message, "content");
            if (Str(message, "refusal") is { Length: > 0 } refusal)
            {
                events.Add(new RefusalDelta(refusal) { Choice = index, Logprobs = text is { Length: > 0 } ? null : logprobs });
                if (text is not { Length: > 0 }) logprobs = null;
            }
            if (text is { Length: > 0 })
            {
                events.Add(new TextDelta(text) { Choice = index, Logprobs = logprobs });
                logprobs = null;
            }
            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                var k = 0;
                foreach (var call in calls.EnumerateArray())
                {
                    var fn = call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
                    events.Add(new ToolCallDelta(k++, Str(call, "id"), Str(fn, "name"), Str(fn, "arguments") ?? "") { Choice = index });
                }
            }
            var messageFields = Others(message, MessageNamed);
            var choiceFields = Others(choice, ChoiceNamed);
            if (messageFields is not null || choiceFields is not null || logprobs is not null)
                events.Add(new DeltaExtra(messageFields ?? Empty) { Choice = index, Logprobs = logprobs, ChoiceFields = choiceFields });
            events.Add(new Finished(Str(choice, "finish_reason") ?? "stop") { Choice = index });
        }
        if (usage is not null)
            events.Add(new UsageReport(usage) { Raw = completion.TryGetProperty("usage", out var raw) && raw.ValueKind == JsonValueKind.Object ? raw : null });
        return events;
    }

    private static readonly JsonElement Empty = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>The properties of <paramref name="o"/> not in <paramref name="named"/>, as one object; null when there are none.</summary>
    private static JsonElement? Others(JsonElement o, HashSet<string> named)
    {
        if (o.ValueKind != JsonValueKind.Object || o.EnumerateObject().All(p => named.Contains(p.Name))) return null;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var p in o.EnumerateObject())
                if (!named.Contains(p.Name)) p.WriteTo(w);
            w.WriteEndObject();
        }
        var reader = new Utf8JsonReader(buffer.WrittenSpan);
        return JsonElement.ParseValue(ref reader);
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
