using System.Buffers;
using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.OpenAi;

/// <summary>
/// One parsed <c>chat.completion.chunk</c> SSE frame (or <c>[DONE]</c>, an error object, or a malformed frame). A struct,
/// read with a forward-only <see cref="Utf8JsonReader"/> pass: no document and no object per frame on the token path, where
/// a frame carries the first choice's text (<see cref="Text"/>). Everything else a frame may carry becomes events in
/// <see cref="Events"/>, in order: other choices, reasoning (<c>reasoning_content</c>, <c>reasoning</c>), refusals, logprobs,
/// and fields no event names, verbatim (<see cref="DeltaExtra"/>, <see cref="StreamMeta.Extra"/>), so nothing is lost.
/// </summary>
/// <remarks>Over 300 lines on purpose: one forward-only reader pass over the frame, whose states (choice, delta, tool call,
/// logprobs, unknown fields) share the reader and cannot be split into separate types without a second pass or a copy.</remarks>
internal readonly struct OpenAiChunk
{
    public static readonly OpenAiChunk DoneChunk = new() { Done = true };

    public bool Done { get; private init; }
    public string? Malformed { get; private init; }
    public UpstreamFailure? Error { get; private init; }
    /// <summary>The first choice's text, when that is all its delta carries (the token path).</summary>
    public string? Text { get; private init; }
    /// <summary>Every other event of the frame (tool calls, other choices, reasoning, refusal, logprobs, unknown fields, finish).</summary>
    public List<ChatEvent>? Events { get; private init; }
    /// <summary>Whether the frame finished a choice (<c>finish_reason</c>), and <c>error</c> when the provider ended it so.</summary>
    public bool Finishes { get; private init; }
    public bool FinishedWithError { get; private init; }
    public UsageReport? Usage { get; private init; }
    public string? SystemFingerprint { get; private init; }
    public string? ServiceTier { get; private init; }
    /// <summary>Top-level fields no event names, as a JSON object (rare).</summary>
    public JsonElement? Extra { get; private init; }

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
            var frame = new FrameBuilder();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("choices"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartArray) ReadChoices(ref reader, trimmed, ref frame);
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        var start = (int)reader.TokenStartIndex;
                        var usage = ReadUsage(ref reader);
                        frame.Usage = new UsageReport(usage) { Raw = Slice(trimmed, start, (int)reader.BytesConsumed) };
                    }
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.String) return ParseError(trimmed); // rare: the slow path
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("system_fingerprint"u8)) frame.Fingerprint = ReadString(ref reader);
                else if (reader.ValueTextEquals("service_tier"u8)) frame.ServiceTier = ReadTier(ref reader);
                else if (reader.ValueTextEquals("id"u8) || reader.ValueTextEquals("object"u8) || reader.ValueTextEquals("created"u8)
                         || reader.ValueTextEquals("model"u8))
                    SkipValue(ref reader); // the gateway answers with its own id, time and model name
                else frame.Extra.Add(ref reader, trimmed);
            }
            return frame.Build();
        }
        catch (JsonException)
        {
            return new OpenAiChunk { Malformed = Preview(trimmed) };
        }
    }

    /// <summary>What one frame collects while it is read.</summary>
    private struct FrameBuilder
    {
        public string? Text;
        public List<ChatEvent>? Events;
        public bool Finishes, FinishedWithError;
        public UsageReport? Usage;
        public string? Fingerprint, ServiceTier;
        public RawFields Extra;

        public void Add(ChatEvent e) => (Events ??= new List<ChatEvent>(2)).Add(e);

        public readonly OpenAiChunk Build() => new()
        {
            Text = Text, Events = Events, Finishes = Finishes, FinishedWithError = FinishedWithError, Usage = Usage,
            SystemFingerprint = Fingerprint, ServiceTier = ServiceTier, Extra = Extra.ToObject(),
        };
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
        var param = err.ValueKind == JsonValueKind.Object && err.TryGetProperty("param", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        return new OpenAiChunk { Error = new UpstreamFailure(status, message ?? "upstream reported an error mid-stream", code, type) { Param = param } };
    }

    /// <summary>At <c>choices</c>' StartArray: every choice, by its <c>index</c> (its position when it has none).</summary>
    private static void ReadChoices(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, ref FrameBuilder frame)
    {
        var position = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                position++;
                continue;
            }
            var choice = position;
            string? text = null, finish = null;
            var deltaStart = -1;
            var deltaEnd = -1;
            JsonElement? logprobs = null;
            var extra = new RawFields();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("index"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var i)) choice = i;
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("delta"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        continue;
                    }
                    // The token path: a delta that only holds text is read in place; anything else is read again below.
                    deltaStart = (int)reader.TokenStartIndex;
                    if (!TryReadPlainDelta(ref reader, out text)) text = null;
                    deltaEnd = (int)reader.BytesConsumed;
                }
                else if (reader.ValueTextEquals("finish_reason"u8)) finish = ReadString(ref reader);
                else if (reader.ValueTextEquals("logprobs"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null) continue;
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    logprobs = Slice(json, start, (int)reader.BytesConsumed);
                }
                else extra.Add(ref reader, json);
            }
            var plain = text is not null || deltaStart < 0;
            if (choice == 0 && plain && logprobs is null && extra.IsEmpty && frame.Events is null && frame.Text is null)
                frame.Text = text is { Length: > 0 } ? text : null;
            else if (plain)
            {
                if (text is { Length: > 0 }) frame.Add(new TextDelta(text) { Choice = choice, Logprobs = logprobs });
                else if (logprobs is not null || !extra.IsEmpty) frame.Add(new DeltaExtra(EmptyObject) { Choice = choice, Logprobs = logprobs, ChoiceFields = extra.ToObject() });
            }
            else ReadRichDelta(json[deltaStart..deltaEnd], choice, logprobs, extra.ToObject(), ref frame);
            if (finish is not null)
            {
                frame.Finishes = true;
                if (finish == "error") frame.FinishedWithError = true;
                else frame.Add(new Finished(finish) { Choice = choice });
            }
            position++;
        }
    }

    /// <summary>At a delta's StartObject: true when it holds nothing but <c>content</c> (a string or null) and <c>role</c>.</summary>
    private static bool TryReadPlainDelta(ref Utf8JsonReader reader, out string? text)
    {
        text = null;
        var plain = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) text = reader.GetString();
                else if (reader.TokenType != JsonTokenType.Null) { plain = false; reader.Skip(); }
            }
            else if (reader.ValueTextEquals("role"u8)) SkipValue(ref reader);
            else if (plain && IsNull(ref reader)) { } // "refusal": null and the like say nothing
            else { plain = false; reader.Skip(); }
        }
        if (plain) text ??= "";
        return plain;
    }

    /// <summary>At a property name: reads its value; true (the value consumed) when it is null.</summary>
    private static bool IsNull(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null) return true;
        reader.Skip();
        return false;
    }

    /// <summary>A delta with more than text: text, reasoning, refusal, tool calls, and the rest verbatim.</summary>
    private static void ReadRichDelta(ReadOnlySpan<byte> delta, int choice, JsonElement? logprobs, JsonElement? choiceFields, ref FrameBuilder frame)
    {
        var reader = new Utf8JsonReader(delta);
        reader.Read();
        var extra = new RawFields();
        string? text = null, refusal = null, reasoning = null;
        List<ToolCallDelta>? tools = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8)) text = ReadString(ref reader);
            else if (reader.ValueTextEquals("refusal"u8)) refusal = ReadString(ref reader);
            else if (reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("reasoning"u8)) reasoning = ReadString(ref reader) ?? reasoning;
            else if (reader.ValueTextEquals("role"u8)) SkipValue(ref reader);
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray) tools = ReadToolCalls(ref reader, choice);
                else reader.Skip();
            }
            else extra.Add(ref reader, delta);
        }
        if (reasoning is { Length: > 0 }) frame.Add(new ReasoningDelta(reasoning) { Choice = choice });
        if (refusal is { Length: > 0 })
        {
            frame.Add(new RefusalDelta(refusal) { Choice = choice, Logprobs = text is { Length: > 0 } ? null : logprobs });
            if (text is not { Length: > 0 }) logprobs = null;
        }
        if (text is { Length: > 0 })
        {
            frame.Add(new TextDelta(text) { Choice = choice, Logprobs = logprobs });
            logprobs = null;
        }
        if (tools is not null)
            foreach (var t in tools) frame.Add(t);
        if (!extra.IsEmpty || logprobs is not null || choiceFields is not null)
            frame.Add(new DeltaExtra(extra.ToObject() ?? EmptyObject) { Choice = choice, Logprobs = logprobs, ChoiceFields = choiceFields });
    }

    private static List<ToolCallDelta> ReadToolCalls(ref Utf8JsonReader reader, int choice)
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
            tools.Add(new ToolCallDelta(index, id, name, args) { Choice = choice });
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

    /// <summary>A service tier, without a string per frame for the values OpenAI sends.</summary>
    private static string? ReadTier(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String) { reader.Skip(); return null; }
        if (reader.ValueTextEquals("default"u8)) return "default";
        if (reader.ValueTextEquals("priority"u8)) return "priority";
        if (reader.ValueTextEquals("flex"u8)) return "flex";
        if (reader.ValueTextEquals("scale"u8)) return "scale";
        if (reader.ValueTextEquals("auto"u8)) return "auto";
        return reader.GetString();
    }

    /// <summary>At <c>usage</c>'s StartObject; the same normalization as <see cref="ParseUsage"/>.</summary>
    private static TokenUsage ReadUsage(ref Utf8JsonReader reader)
    {
        long? prompt = null, completion = null, input = null, output = null;
        long cacheRead = 0, reasoning = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8)) prompt = ReadLong(ref reader);
            else if (reader.ValueTextEquals("completion_tokens"u8)) completion = ReadLong(ref reader);
            else if (reader.ValueTextEquals("input_tokens"u8)) input = ReadLong(ref reader);
            else if (reader.ValueTextEquals("output_tokens"u8)) output = ReadLong(ref reader);
            else if (reader.ValueTextEquals("prompt_tokens_details"u8) || reader.ValueTextEquals("input_tokens_details"u8))
                ReadDetail(ref reader, "cached_tokens"u8, ref cacheRead);
            else if (reader.ValueTextEquals("completion_tokens_details"u8) || reader.ValueTextEquals("output_tokens_details"u8))
                ReadDetail(ref reader, "reasoning_tokens"u8, ref reasoning);
            else SkipValue(ref reader);
        }
        // prompt_tokens includes the cached ones; the buckets do not overlap (TokenUsage).
        return new TokenUsage(Math.Max(0, (prompt ?? input ?? 0) - cacheRead), completion ?? output ?? 0, cacheRead) { Reasoning = reasoning };

        static void ReadDetail(ref Utf8JsonReader reader, ReadOnlySpan<byte> name, ref long value)
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                return;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(name)) value = ReadLong(ref reader) ?? 0;
                else SkipValue(ref reader);
            }
        }

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
        long cacheRead = 0, reasoning = 0;
        if (u.TryGetProperty("prompt_tokens_details", out var d) && d.ValueKind == JsonValueKind.Object) cacheRead = Long(d, "cached_tokens") ?? 0;
        if (u.TryGetProperty("completion_tokens_details", out var c) && c.ValueKind == JsonValueKind.Object) reasoning = Long(c, "reasoning_tokens") ?? 0;
        return new TokenUsage(Math.Max(0, input - cacheRead), output, cacheRead) { Reasoning = reasoning };

        static long? Long(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>A copy of <paramref name="json"/>[start..end) as a standalone element (the frame's bytes are only lent).</summary>
    private static JsonElement Slice(ReadOnlySpan<byte> json, int start, int end)
    {
        var reader = new Utf8JsonReader(json[start..end]);
        return JsonElement.ParseValue(ref reader);
    }

    private static string Preview(ReadOnlySpan<byte> data)
    {
        var s = Encoding.UTF8.GetString(data.Length > 120 ? data[..120] : data);
        return data.Length > 120 ? s + "…" : s;
    }

    /// <summary>
    /// Properties no event names, collected while reading an object and rebuilt into one JSON object (verbatim values): only
    /// a frame that has such fields pays for them.
    /// </summary>
    private struct RawFields
    {
        private ArrayBufferWriter<byte>? _buffer;
        private Utf8JsonWriter? _writer;

        public readonly bool IsEmpty => _writer is null;

        /// <summary>At a property name: copies the property (name and value) and moves past it.</summary>
        public void Add(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
        {
            if (_writer is null)
            {
                _buffer = new ArrayBufferWriter<byte>(128);
                _writer = new Utf8JsonWriter(_buffer);
                _writer.WriteStartObject();
            }
            var name = reader.GetString()!;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            _writer.WritePropertyName(name);
            _writer.WriteRawValue(json[start..(int)reader.BytesConsumed], skipInputValidation: true);
        }

        public readonly JsonElement? ToObject()
        {
            if (_writer is null) return null;
            _writer.WriteEndObject();
            _writer.Flush();
            var reader = new Utf8JsonReader(_buffer!.WrittenSpan);
            var element = JsonElement.ParseValue(ref reader);
            _writer.Dispose();
            return element;
        }
    }
}
