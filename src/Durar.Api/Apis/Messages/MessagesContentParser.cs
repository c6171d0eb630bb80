using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Api.Apis.Messages;

/// <summary>
/// Reads the <c>messages</c> of an Anthropic Messages API body into neutral messages, block by block:
/// <list type="bullet">
/// <item>user turns: <c>text</c> (with <c>cache_control</c>), <c>image</c> (base64 or url source, as an image part),
/// <c>document</c> (base64 PDF or plain-text source, as a file part; <c>title</c> as its name) and <c>tool_result</c> (one
/// neutral tool message each, before the turn's other blocks, its content a string or text and image blocks, <c>is_error</c>
/// as <see cref="ChatMessage.ToolError"/>);</item>
/// <item>system messages among the turns (a string or text blocks), as system messages;</item>
/// <item>assistant turns: <c>text</c>, <c>tool_use</c> (a tool call whose arguments are the <c>input</c> object),
/// <c>thinking</c> with its signature and <c>redacted_thinking</c> (sent back to an Anthropic upstream as they came);</item>
/// <item>anything else (an unknown block type, <c>citations</c>, a second thinking block in one
/// turn, a key a block does not have) is a 400 naming it by its path, e.g. <c>messages.0.content.2.type</c>.</item>
/// </list>
/// </summary>
internal static class MessagesContentParser
{
    private static readonly FrozenSet<string> MessageKeys = new[] { "role", "content" }.ToFrozenSet();
    private static readonly FrozenSet<string> TextKeys = new[] { "type", "text", "cache_control", "citations" }.ToFrozenSet();
    private static readonly FrozenSet<string> SourcedKeys = new[] { "type", "source", "cache_control" }.ToFrozenSet();
    private static readonly FrozenSet<string> DocumentKeys = new[] { "type", "source", "cache_control", "title", "citations" }.ToFrozenSet();
    private static readonly FrozenSet<string> ToolResultKeys = new[] { "type", "tool_use_id", "content", "is_error" }.ToFrozenSet();
    private static readonly FrozenSet<string> ToolUseKeys = new[] { "type", "id", "name", "input" }.ToFrozenSet();
    private static readonly FrozenSet<string> ThinkingKeys = new[] { "type", "thinking", "signature" }.ToFrozenSet();
    private static readonly FrozenSet<string> RedactedKeys = new[] { "type", "data" }.ToFrozenSet();

    public static void AddMessages(JsonElement root, ImmutableArray<ChatMessage>.Builder into)
    {
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            throw Bad("messages: Field required (a non-empty array).", "messages");
        var i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var path = $"messages.{i++}";
            if (message.ValueKind != JsonValueKind.Object) throw Bad($"{path}: must be an object.", path);
            OnlyKeys(message, path, MessageKeys);
            var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            if (role is not ("user" or "assistant" or "system")) throw Bad($"{path}.role: must be user, assistant or system.", path + ".role");
            if (!message.TryGetProperty("content", out var content)) throw Bad($"{path}.content: Field required.", path + ".content");
            if (role == "system")
            {
                into.Add(SystemMessage(content, path + ".content"));
                continue;
            }
            if (content.ValueKind == JsonValueKind.String)
            {
                into.Add(new ChatMessage(role, content.GetString()));
                continue;
            }
            if (content.ValueKind != JsonValueKind.Array) throw Bad($"{path}.content: must be a string or an array of content blocks.", path + ".content");
            if (role == "user") AddUser(content, path + ".content", into);
            else into.Add(Assistant(content, path + ".content"));
        }
    }

    /// <summary>
    /// A system message inside the conversation (the SDK's <c>SystemMessageParam</c>): a string or text blocks. An
    /// OpenAI-compatible upstream gets it where it stands; the Anthropic wire joins every system message into its
    /// <c>system</c> prompt.
    /// </summary>
    public static ChatMessage SystemMessage(JsonElement content, string path)
    {
        if (content.ValueKind == JsonValueKind.String) return new ChatMessage("system", content.GetString());
        if (content.ValueKind != JsonValueKind.Array) throw Bad($"{path}: must be a string or an array of text blocks.", path);
        var parts = ImmutableArray.CreateBuilder<ContentPart>();
        var i = 0;
        foreach (var block in content.EnumerateArray())
        {
            var at = $"{path}.{i++}";
            if (TypeOf(block, at) != "text") throw Bad($"{at}.type: a system message takes text blocks only.", at + ".type");
            parts.Add(TextPart(block, at));
        }
        return new ChatMessage("system", null) { Parts = parts.ToImmutable() };
    }

    /// <summary>A user turn: each tool result as its own tool message (Anthropic puts them first), then the other blocks.</summary>
    private static void AddUser(JsonElement content, string path, ImmutableArray<ChatMessage>.Builder into)
    {
        var parts = ImmutableArray.CreateBuilder<ContentPart>();
        var j = 0;
        foreach (var block in content.EnumerateArray())
        {
            var at = $"{path}.{j++}";
            var type = TypeOf(block, at);
            if (type == "tool_result") into.Add(ToolResult(block, at));
            else parts.Add(UserPart(block, type, at));
        }
        if (parts.Count > 0) into.Add(new ChatMessage("user", null) { Parts = parts.ToImmutable() });
    }

    private static ContentPart UserPart(JsonElement block, string type, string at) => type switch
    {
        "text" => TextPart(block, at),
        "image" => ImagePart(block, at),
        "document" => DocumentPart(block, at),
        _ => throw Bad($"{at}.type: \"{type}\" is not a block Durar's Messages API takes in a user turn (text, image, document, tool_result).", at + ".type"),
    };

    private static ChatMessage ToolResult(JsonElement block, string at)
    {
        OnlyKeys(block, at, ToolResultKeys);
        var id = String(block, "tool_use_id", at) ?? throw Bad($"{at}.tool_use_id: Field required.", at + ".tool_use_id");
        var message = new ChatMessage("tool", null) { ToolCallId = id, ToolError = MessagesRequestParser.Bool(block, "is_error", at + ".is_error") is true };
        if (!block.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null) return message with { Text = "" };
        if (content.ValueKind == JsonValueKind.String) return message with { Text = content.GetString() };
        if (content.ValueKind != JsonValueKind.Array) throw Bad($"{at}.content: must be a string or an array of blocks.", at + ".content");
        var parts = ImmutableArray.CreateBuilder<ContentPart>();
        var k = 0;
        foreach (var inner in content.EnumerateArray())
        {
            var innerAt = $"{at}.content.{k++}";
            parts.Add(TypeOf(inner, innerAt) switch
            {
                "text" => TextPart(inner, innerAt),
                "image" => ImagePart(inner, innerAt),
                var other => throw Bad($"{innerAt}.type: \"{other}\" is not a block a tool result takes here (text, image).", innerAt + ".type"),
            });
        }
        return message with { Parts = parts.ToImmutable() };
    }

    private static ChatMessage Assistant(JsonElement content, string path)
    {
        var parts = ImmutableArray.CreateBuilder<ContentPart>();
        var calls = ImmutableArray.CreateBuilder<ToolCall>();
        var redacted = ImmutableArray.CreateBuilder<string>();
        string? reasoning = null, signature = null;
        var j = 0;
        foreach (var block in content.EnumerateArray())
        {
            var at = $"{path}.{j++}";
            switch (TypeOf(block, at))
            {
                case "text":
                    parts.Add(TextPart(block, at));
                    break;
                case "tool_use":
                    OnlyKeys(block, at, ToolUseKeys);
                    var input = block.TryGetProperty("input", out var i) && i.ValueKind == JsonValueKind.Object
                        ? i.GetRawText() : throw Bad($"{at}.input: Field required (an object).", at + ".input");
                    calls.Add(new ToolCall(String(block, "id", at) ?? throw Bad($"{at}.id: Field required.", at + ".id"),
                        String(block, "name", at) ?? throw Bad($"{at}.name: Field required.", at + ".name"), input));
                    break;
                case "thinking":
                    OnlyKeys(block, at, ThinkingKeys);
                    if (reasoning is not null)
                        throw Bad($"{at}: a second thinking block in one assistant turn is not supported by Durar's Messages API.", at);
                    reasoning = String(block, "thinking", at) ?? throw Bad($"{at}.thinking: Field required.", at + ".thinking");
                    signature = String(block, "signature", at) ?? throw Bad($"{at}.signature: Field required.", at + ".signature");
                    break;
                case "redacted_thinking":
                    OnlyKeys(block, at, RedactedKeys);
                    redacted.Add(String(block, "data", at) ?? throw Bad($"{at}.data: Field required.", at + ".data"));
                    break;
                case var other:
                    throw Bad($"{at}.type: \"{other}\" is not a block Durar's Messages API takes in an assistant turn (text, tool_use, thinking, redacted_thinking).",
                        at + ".type");
            }
        }
        // Plain text blocks are the message's text (every wire takes that); blocks with a cache breakpoint stay parts.
        var plain = parts.All(p => p.CacheControl is null);
        return new ChatMessage("assistant", plain && parts.Count > 0 ? string.Concat(parts.Select(p => p.Text)) : null)
        {
            Parts = plain ? [] : parts.ToImmutable(),
            ToolCalls = calls.ToImmutable(),
            Reasoning = reasoning,
            ReasoningSignature = signature,
            RedactedReasoning = redacted.ToImmutable(),
        };
    }

    public static ContentPart TextPart(JsonElement block, string at)
    {
        OnlyKeys(block, at, TextKeys);
        if (block.TryGetProperty("citations", out var citations) && citations.ValueKind is not (JsonValueKind.Null or JsonValueKind.Array)
            || citations.ValueKind == JsonValueKind.Array && citations.GetArrayLength() > 0)
            throw Bad($"{at}.citations: citations are not supported by Durar's Messages API.", at + ".citations");
        return new ContentPart(ContentPartTypes.Text, Text: String(block, "text", at) ?? throw Bad($"{at}.text: Field required.", at + ".text"))
            { CacheControl = Cache(block, at) };
    }

    private static ContentPart ImagePart(JsonElement block, string at)
    {
        OnlyKeys(block, at, SourcedKeys);
        var source = Source(block, at);
        var url = String(source, "type", at + ".source") switch
        {
            "base64" => DataUrl(source, at, "image/jpeg", "image/png", "image/gif", "image/webp"),
            "url" => Required(source, "url", at + ".source"),
            var other => throw Bad($"{at}.source.type: an image source is base64 or url (got \"{other}\").", at + ".source.type"),
        };
        return new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: url) { CacheControl = Cache(block, at) };
    }

    /// <summary>A document: a base64 PDF, or plain text (as a <c>text/plain</c> data URL), as a file part.</summary>
    private static ContentPart DocumentPart(JsonElement block, string at)
    {
        OnlyKeys(block, at, DocumentKeys);
        if (block.TryGetProperty("citations", out var citations) && citations.ValueKind != JsonValueKind.Null)
            throw Bad($"{at}.citations: citations are not supported by Durar's Messages API.", at + ".citations");
        var source = Source(block, at);
        var data = String(source, "type", at + ".source") switch
        {
            "base64" => DataUrl(source, at, "application/pdf"),
            "text" => "data:text/plain;base64," + Convert.ToBase64String(Encoding.UTF8.GetBytes(Required(source, "data", at + ".source"))),
            var other => throw Bad($"{at}.source.type: a document source is base64 (PDF) or text here (got \"{other}\").", at + ".source.type"),
        };
        return new ContentPart(ContentPartTypes.File) { Data = data, FileName = String(block, "title", at), CacheControl = Cache(block, at) };
    }

    private static JsonElement Source(JsonElement block, string at) =>
        block.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object
            ? source : throw Bad($"{at}.source: Field required (an object).", at + ".source");

    private static string DataUrl(JsonElement source, string at, params string[] mediaTypes)
    {
        OnlyKeys(source, at + ".source", ["type", "media_type", "data"]);
        var mediaType = Required(source, "media_type", at + ".source");
        if (!mediaTypes.Contains(mediaType))
            throw Bad($"{at}.source.media_type: must be one of {string.Join(", ", mediaTypes)} (got \"{mediaType}\").", at + ".source.media_type");
        return $"data:{mediaType};base64,{Required(source, "data", at + ".source")}";
    }

    private static JsonElement? Cache(JsonElement block, string at)
    {
        if (!block.TryGetProperty("cache_control", out var cache) || cache.ValueKind == JsonValueKind.Null) return null;
        return cache.ValueKind == JsonValueKind.Object ? cache.Clone() : throw Bad($"{at}.cache_control: must be an object.", at + ".cache_control");
    }

    /// <summary>A block's <c>type</c>; a block without one is a 400.</summary>
    public static string TypeOf(JsonElement block, string at) =>
        block.ValueKind == JsonValueKind.Object && block.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()! : throw Bad($"{at}.type: Field required.", at + ".type");

    /// <summary>Refuses, by path, any key of <paramref name="o"/> outside <paramref name="known"/> (a JSON null counts as unset).</summary>
    public static void OnlyKeys(JsonElement o, string at, IReadOnlyCollection<string> known)
    {
        foreach (var p in o.EnumerateObject())
            if (!known.Contains(p.Name) && p.Value.ValueKind != JsonValueKind.Null)
                throw Bad($"{at}.{p.Name}: Extra inputs are not permitted (Durar's Messages API does not support `{p.Name}` here).", $"{at}.{p.Name}");
    }

    private static string Required(JsonElement o, string name, string at) =>
        String(o, name, at) ?? throw Bad($"{at}.{name}: Field required.", $"{at}.{name}");

    private static string? String(JsonElement o, string name, string at)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Bad($"{at}.{name}: must be a string.", $"{at}.{name}");
    }

    private static ApiErrorException Bad(string message, string param) => MessagesRequestParser.Bad(message, param);
}
