using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.Anthropic;

/// <summary>
/// Writes the canonical messages as Anthropic's <c>system</c> and <c>messages</c> (the rows of
/// <see cref="AnthropicContentRules"/>): system and developer messages become the system prompt; the rest alternate user and
/// assistant turns of content blocks (consecutive same-role messages merge, tool results are user turns). An assistant turn
/// opens with its signed thinking and its redacted thinking, so a session's next turn keeps Anthropic's thinking continuity.
/// A part's <c>cache_control</c>, as the client wrote it, stays on its block.
/// </summary>
internal static class AnthropicMessageWriter
{
    /// <summary>The system prompt (a string, or text blocks when one carries <c>cache_control</c>); nothing when there is none.</summary>
    public static void WriteSystem(Utf8JsonWriter w, ChatRequest r, string? instruction)
    {
        var blocks = new List<(string Text, JsonElement? Cache)>();
        var cached = false;
        var originals = Originals(r);
        foreach (var m in r.Messages)
        {
            var original = originals.Next();
            if (m.Role is not ("system" or "developer")) continue;
            if (m.Parts.IsDefaultOrEmpty)
            {
                if (!string.IsNullOrEmpty(m.Text)) blocks.Add((m.Text, null));
                continue;
            }
            var parts = PartsOf(original);
            foreach (var part in m.Parts)
            {
                var cache = CacheControl(parts.Next()) ?? part.CacheControl;
                if (part.Text is not { Length: > 0 } text) continue;
                blocks.Add((text, cache));
                cached |= cache is not null;
            }
        }
        if (instruction is not null) blocks.Add((instruction, null));
        if (blocks.Count == 0) return;
        if (!cached)
        {
            w.WriteString("system", string.Join("\n\n", blocks.Select(b => b.Text)));
            return;
        }
        w.WriteStartArray("system");
        foreach (var (text, cache) in blocks) WriteText(w, text, cache);
        w.WriteEndArray();
    }

    /// <summary>The <c>messages</c> array.</summary>
    public static void WriteMessages(Utf8JsonWriter w, ChatRequest r)
    {
        w.WriteStartArray("messages");
        string? turn = null;
        var originals = Originals(r);
        foreach (var m in r.Messages)
        {
            var original = originals.Next();
            if (m.Role is "system" or "developer" || !HasBlocks(m)) continue;
            var role = m.Role == "assistant" ? "assistant" : "user";
            if (role != turn)
            {
                if (turn is not null) EndTurn(w);
                w.WriteStartObject();
                w.WriteString("role", role);
                w.WriteStartArray("content");
                turn = role;
            }
            WriteBlocks(w, m, original);
        }
        if (turn is not null) EndTurn(w);
        w.WriteEndArray();

        static void EndTurn(Utf8JsonWriter w)
        {
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    private static bool HasBlocks(ChatMessage m) =>
        m.Role == "tool" || !string.IsNullOrEmpty(m.Text) || !m.Parts.IsDefaultOrEmpty || !m.ToolCalls.IsDefaultOrEmpty
        || !string.IsNullOrEmpty(m.Refusal) || Signed(m) || !m.RedactedReasoning.IsDefaultOrEmpty;

    /// <summary>Reasoning that can go back to Anthropic: with its signature (unsigned reasoning is rejected, and earlier turns' is dropped anyway).</summary>
    private static bool Signed(ChatMessage m) => m.Role == "assistant" && !string.IsNullOrEmpty(m.Reasoning) && !string.IsNullOrEmpty(m.ReasoningSignature);

    private static void WriteBlocks(Utf8JsonWriter w, ChatMessage m, JsonElement? original)
    {
        if (m.Role == "tool")
        {
            WriteToolResult(w, m, original);
            return;
        }
        if (Signed(m))
        {
            w.WriteStartObject();
            w.WriteString("type", "thinking");
            w.WriteString("thinking", m.Reasoning);
            w.WriteString("signature", m.ReasoningSignature);
            w.WriteEndObject();
        }
        foreach (var data in m.RedactedReasoning.IsDefault ? [] : m.RedactedReasoning)
        {
            w.WriteStartObject();
            w.WriteString("type", "redacted_thinking");
            w.WriteString("data", data);
            w.WriteEndObject();
        }
        WriteContent(w, m, original);
        if (m.Refusal is { Length: > 0 } refusal) WriteText(w, refusal, null);
        foreach (var call in m.ToolCalls.IsDefault ? [] : m.ToolCalls)
        {
            w.WriteStartObject();
            w.WriteString("type", "tool_use");
            w.WriteString("id", call.Id);
            w.WriteString("name", call.Name);
            w.WritePropertyName("input");
            try
            {
                using var args = JsonDocument.Parse(string.IsNullOrWhiteSpace(call.Arguments) ? "{}" : call.Arguments);
                args.RootElement.WriteTo(w);
            }
            catch (JsonException)
            {
                w.WriteStartObject();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
    }

    private static void WriteContent(Utf8JsonWriter w, ChatMessage m, JsonElement? original)
    {
        if (m.Parts.IsDefaultOrEmpty)
        {
            if (!string.IsNullOrEmpty(m.Text)) WriteText(w, m.Text, null);
            return;
        }
        var parts = PartsOf(original);
        foreach (var part in m.Parts) WritePart(w, part, CacheControl(parts.Next()) ?? part.CacheControl);
    }

    private static void WritePart(Utf8JsonWriter w, ContentPart part, JsonElement? cache)
    {
        switch (part.Type)
        {
            case ContentPartTypes.ImageUrl when AnthropicContentRules.ImageSource(part.ImageUrl!) is { } image:
                WriteSourced(w, "image", image, null, cache);
                break;
            case ContentPartTypes.File when part.Data is not null && AnthropicContentRules.DocumentSource(part.Data) is { } document:
                WriteSourced(w, "document", document, part.FileName, cache);
                break;
            case ContentPartTypes.Text or ContentPartTypes.Refusal when part.Text is { Length: > 0 } text:
                WriteText(w, text, cache);
                break;
            // Anything else was refused before the call (AnthropicContentRules); an empty text is not a block Anthropic takes.
        }
    }

    /// <summary>A tool result: its text, or text and image blocks when the result has images.</summary>
    private static void WriteToolResult(Utf8JsonWriter w, ChatMessage m, JsonElement? original)
    {
        w.WriteStartObject();
        w.WriteString("type", "tool_result");
        w.WriteString("tool_use_id", m.ToolCallId ?? "");
        if (m.ToolError) w.WriteBoolean("is_error", true);
        if (m.Parts.IsDefaultOrEmpty || m.Parts.All(p => p.Type == ContentPartTypes.Text))
            w.WriteString("content", m.AllText);
        else
        {
            w.WriteStartArray("content");
            WriteContent(w, m, original);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteSourced(Utf8JsonWriter w, string type, BlockSource source, string? title, JsonElement? cache)
    {
        w.WriteStartObject();
        w.WriteString("type", type);
        w.WriteStartObject("source");
        w.WriteString("type", source.Type);
        if (source.MediaType is not null) w.WriteString("media_type", source.MediaType);
        w.WriteString(source.Type == "url" ? "url" : "data", source.Data);
        w.WriteEndObject();
        if (title is not null) w.WriteString("title", title);
        WriteCache(w, cache);
        w.WriteEndObject();
    }

    private static void WriteText(Utf8JsonWriter w, string text, JsonElement? cache)
    {
        w.WriteStartObject();
        w.WriteString("type", "text");
        w.WriteString("text", text);
        WriteCache(w, cache);
        w.WriteEndObject();
    }

    private static void WriteCache(Utf8JsonWriter w, JsonElement? cache)
    {
        if (cache is not { } c) return;
        w.WritePropertyName("cache_control");
        c.WriteTo(w);
    }

    private static JsonElement? CacheControl(JsonElement? part) =>
        part is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty("cache_control", out var c) && c.ValueKind == JsonValueKind.Object ? c : null;

    /// <summary>The client's messages as written, in step with the canonical ones while they are the same (for <c>cache_control</c>).</summary>
    private static Cursor Originals(ChatRequest r) =>
        r.MessagesAreOriginal && r.Original!.Value.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array
            ? new Cursor(messages)
            : default;

    private static Cursor PartsOf(JsonElement? message) =>
        message is { ValueKind: JsonValueKind.Object } m && m.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array
            ? new Cursor(content)
            : default;

    /// <summary>
    /// Walks a JSON array one element per call to <see cref="Next"/>; a default cursor yields nothing. A mutable struct: keep it
    /// in a plain local (not <c>using</c>, which would copy it on every call). Its enumerator holds nothing to dispose.
    /// </summary>
    private struct Cursor(JsonElement array)
    {
        private JsonElement.ArrayEnumerator _items = array.EnumerateArray();
        private readonly bool _active = true;

        public JsonElement? Next() => _active && _items.MoveNext() ? _items.Current : null;
    }
}
