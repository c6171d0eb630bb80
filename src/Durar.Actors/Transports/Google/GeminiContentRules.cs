using System.Collections.Frozen;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Models;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// What Gemini can carry inside messages, content parts and tools, and the <c>inlineData</c> of its media parts. The part of the
/// translation table below the top-level fields (<see cref="GeminiFields"/>):
/// <list type="bullet">
/// <item><c>messages[i].name</c>: refused (Gemini contents carry no participant name), except on tool results, whose function
/// name Gemini needs anyway;</item>
/// <item>system and developer messages: <c>systemInstruction</c>, text only; <c>text</c> parts: text parts;</item>
/// <item><c>image_url</c>: a <c>data:image/...;base64</c> URL as <c>inlineData</c>; an http(s) URL is refused (Gemini reads
/// files it was given, not URLs it would fetch); <c>detail</c> is ignored (Gemini picks the resolution itself);</item>
/// <item><c>input_audio</c>: <c>inlineData</c> audio/wav or audio/mp3;</item>
/// <item><c>file</c>: <c>file_data</c> (a <c>data:</c> URL of any type, or bare base64 as PDF) as <c>inlineData</c>;
/// <c>file_id</c> refused (an OpenAI file id means nothing to Gemini);</item>
/// <item>an assistant's <c>refusal</c>: a text part; its <c>reasoning_content</c>: left out (Gemini does not take earlier
/// turns' thoughts back as text; a function call's thought signature travels in its tool call id);</item>
/// <item>any other key of a message, part, tool or <c>response_format.json_schema</c>: refused by name.</item>
/// </list>
/// </summary>
internal static class GeminiContentRules
{
    private static readonly FrozenSet<string> MessageKeys = new[] { "role", "content", "name", "tool_calls", "tool_call_id", "refusal", "reasoning_content" }.ToFrozenSet();
    private static readonly FrozenSet<string> PartKeys = new[] { "type", "text", "image_url", "input_audio", "file", "refusal" }.ToFrozenSet();
    private static readonly FrozenSet<string> ImageKeys = new[] { "url", "detail" }.ToFrozenSet();
    private static readonly FrozenSet<string> FileKeys = new[] { "file_data", "file_id", "filename" }.ToFrozenSet();
    private static readonly FrozenSet<string> ToolKeys = new[] { "type", "function" }.ToFrozenSet();
    private static readonly FrozenSet<string> FunctionKeys = new[] { "name", "description", "parameters", "strict" }.ToFrozenSet();
    private static readonly FrozenSet<string> SchemaKeys = new[] { "name", "description", "schema", "strict" }.ToFrozenSet();

    /// <summary>The first message, part, tool or format field Gemini cannot carry to <paramref name="target"/>.</summary>
    public static UnsupportedField? Unsupported(ChatRequest r, ResolvedModel target)
    {
        for (var i = 0; i < r.Messages.Length; i++)
        {
            if (Message(r.Messages[i], i, target) is { } refused) return refused;
            if (r.Messages[i].Role == "tool" && GeminiContentWriter.FunctionName(r, i) is null)
                return GeminiFields.Refuse(target, $"messages[{i}].tool_call_id",
                    $"`messages[{i}].tool_call_id` answers no earlier tool call: Gemini needs the name of the function a result answers");
        }
        if (r.MessagesAreOriginal && r.Original!.Value.TryGetProperty("messages", out var original) && original.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var m in original.EnumerateArray())
                if (OriginalMessage(m, i++, target) is { } refused) return refused;
        }
        if (r.Tools is { ValueKind: JsonValueKind.Array } tools)
        {
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var path = $"tools[{i++}]";
                if (Unknown(tool, ToolKeys, path, target) is { } refused) return refused;
                if (tool.TryGetProperty("type", out var type) && !type.ValueEquals("function"))
                    return GeminiFields.Refuse(target, path + ".type", $"`{path}.type` = {type.GetRawText()}: Gemini takes function tools only");
                if (tool.TryGetProperty("function", out var fn) && Unknown(fn, FunctionKeys, path + ".function", target) is { } inner) return inner;
            }
        }
        if (r.ResponseFormat is { } format && format.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object)
            return Unknown(js, SchemaKeys, "response_format.json_schema", target);
        return null;
    }

    private static UnsupportedField? Message(ChatMessage m, int i, ResolvedModel target)
    {
        if (m.Name is not null && m.Role != "tool")
            return GeminiFields.Refuse(target, $"messages[{i}].name", $"`messages[{i}].name`: Gemini contents carry no participant name");
        for (var j = 0; j < m.Parts.Length; j++)
        {
            var part = m.Parts[j];
            var path = $"messages[{i}].content[{j}]";
            if (m.Role is "system" or "developer" && part.Type != ContentPartTypes.Text)
                return GeminiFields.Refuse(target, path, $"`{path}` is a {part.Type} part in a {m.Role} message: Gemini's systemInstruction is text only");
            switch (part.Type)
            {
                case ContentPartTypes.ImageUrl when InlineImage(part.ImageUrl!) is null:
                    return GeminiFields.Refuse(target, path + ".image_url",
                        $"`{path}.image_url`: Gemini takes images inline, as data:image/...;base64 URLs");
                case ContentPartTypes.InputAudio when AudioMime(part.Format) is null:
                    return GeminiFields.Refuse(target, path + ".input_audio.format", $"`{path}.input_audio.format`: wav or mp3");
                case ContentPartTypes.File when part.FileId is not null:
                    return GeminiFields.Refuse(target, path + ".file.file_id",
                        $"`{path}.file.file_id`: Gemini has no such file id, send the file itself as file_data");
                case ContentPartTypes.File when part.Data is null || InlineFile(part.Data) is null:
                    return GeminiFields.Refuse(target, path + ".file.file_data", $"`{path}.file.file_data`: a data: URL or base64 PDF");
            }
        }
        return null;
    }

    private static UnsupportedField? OriginalMessage(JsonElement m, int i, ResolvedModel target)
    {
        if (m.ValueKind != JsonValueKind.Object) return null;
        var path = $"messages[{i}]";
        if (Unknown(m, MessageKeys, path, target) is { } refused) return refused;
        if (!m.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array) return null;
        var j = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partPath = $"{path}.content[{j++}]";
            if (part.ValueKind != JsonValueKind.Object) continue;
            if (Unknown(part, PartKeys, partPath, target) is { } p) return p;
            if (part.TryGetProperty("image_url", out var image) && image.ValueKind == JsonValueKind.Object
                && Unknown(image, ImageKeys, partPath + ".image_url", target) is { } im) return im;
            if (part.TryGetProperty("file", out var file) && file.ValueKind == JsonValueKind.Object
                && Unknown(file, FileKeys, partPath + ".file", target) is { } f) return f;
        }
        return null;
    }

    private static UnsupportedField? Unknown(JsonElement o, FrozenSet<string> known, string path, ResolvedModel target) =>
        UnsupportedField.UnknownMember(o, known, path) is { } member ? GeminiFields.Refuse(target, member, $"`{member}` has no counterpart on Gemini's generateContent") : null;

    /// <summary>An image part's <c>inlineData</c>: a base64 <c>data:image/...</c> URL; null for anything else.</summary>
    public static InlineData? InlineImage(string url) =>
        DataUrl(url) is { } data && data.MimeType.StartsWith("image/", StringComparison.Ordinal) ? data : null;

    /// <summary>A file part's <c>inlineData</c>: a base64 <c>data:</c> URL of any type, or bare base64 (a PDF, as OpenAI's <c>file_data</c> allows).</summary>
    public static InlineData? InlineFile(string fileData) =>
        fileData.StartsWith("data:", StringComparison.Ordinal) ? DataUrl(fileData) : new InlineData("application/pdf", fileData);

    /// <summary>The MIME type of an <c>input_audio</c> format; null when Gemini's audio types have none for it.</summary>
    public static string? AudioMime(string? format) => format switch
    {
        "wav" => "audio/wav",
        "mp3" => "audio/mp3",
        _ => null,
    };

    /// <summary><c>data:&lt;type&gt;[;params];base64,&lt;data&gt;</c> → (type in lower case, data); null when not that shape.</summary>
    private static InlineData? DataUrl(string url)
    {
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase)) return null;
        var marker = url.IndexOf(";base64,", StringComparison.OrdinalIgnoreCase);
        if (marker < 5) return null;
        var header = url.AsSpan(5, marker - 5);
        var semicolon = header.IndexOf(';');
        var mediaType = (semicolon < 0 ? header : header[..semicolon]).Trim().ToString().ToLowerInvariant();
        return mediaType.Length == 0 ? null : new InlineData(mediaType, url[(marker + 8)..]);
    }
}

/// <summary>Gemini's <c>inlineData</c>: a MIME type and base64 bytes.</summary>
internal sealed record InlineData(string MimeType, string Data);
