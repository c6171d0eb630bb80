using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Models;

namespace Durar.Actors.Transports.Anthropic;

/// <summary>
/// What the Anthropic wire can carry inside messages, content parts and tools, and the sources of its image and document
/// blocks. The part of the translation table below the top-level fields (<see cref="AnthropicFields"/>):
/// <list type="bullet">
/// <item><c>messages[i].name</c>: refused (Anthropic messages carry no participant name), except on tool results, where the
/// tool call id already links the result;</item>
/// <item><c>text</c> parts: text blocks, with their <c>cache_control</c>; system and developer messages: the system prompt,
/// text only;</item>
/// <item><c>image_url</c>: a <c>data:</c> URL (jpeg, png, gif, webp) as a base64 source, an http(s) URL as a url source;
/// <c>detail</c> is ignored (Anthropic picks the resolution itself);</item>
/// <item><c>file</c>: <c>file_data</c> with a PDF (a <c>data:application/pdf</c> URL or bare base64) as a document block with a
/// base64 source, a <c>text/plain</c> data URL as a text source, <c>filename</c> as its title; <c>file_id</c> refused (Anthropic
/// has no such id); other file types refused;</item>
/// <item><c>input_audio</c>: refused (Anthropic takes no audio); an assistant's <c>audio</c> and <c>function_call</c>: refused;</item>
/// <item>an assistant's <c>refusal</c>: a text block (what it said); its <c>reasoning_content</c>: a thinking block when signed
/// (a session's own turns), else ignored (Anthropic drops earlier turns' thinking and rejects an unsigned block);</item>
/// <item>any other key of a message, part, tool or <c>response_format.json_schema</c>: refused by name.</item>
/// </list>
/// </summary>
internal static class AnthropicContentRules
{
    private static readonly FrozenSet<string> ImageTypes = new[] { "image/jpeg", "image/png", "image/gif", "image/webp" }.ToFrozenSet();
    private static readonly FrozenSet<string> MessageKeys = new[] { "role", "content", "name", "tool_calls", "tool_call_id", "refusal", "reasoning_content" }.ToFrozenSet();
    private static readonly FrozenSet<string> PartKeys = new[] { "type", "text", "image_url", "file", "refusal", "cache_control" }.ToFrozenSet();
    private static readonly FrozenSet<string> ImageKeys = new[] { "url", "detail" }.ToFrozenSet();
    private static readonly FrozenSet<string> FileKeys = new[] { "file_data", "file_id", "filename" }.ToFrozenSet();
    private static readonly FrozenSet<string> ToolKeys = new[] { "type", "function", "cache_control" }.ToFrozenSet();
    private static readonly FrozenSet<string> FunctionKeys = new[] { "name", "description", "parameters", "strict" }.ToFrozenSet();
    private static readonly FrozenSet<string> SchemaKeys = new[] { "name", "description", "schema", "strict" }.ToFrozenSet();

    /// <summary>The first message, part, tool or format field the Anthropic wire cannot carry to <paramref name="target"/>.</summary>
    public static UnsupportedField? Unsupported(ChatRequest r, ResolvedModel target)
    {
        for (var i = 0; i < r.Messages.Length; i++)
            if (Message(r.Messages[i], i, target) is { } refused) return refused;
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
            return AnthropicFields.Refuse(target, $"messages[{i}].name", $"`messages[{i}].name`: Anthropic messages carry no participant name");
        for (var j = 0; j < m.Parts.Length; j++)
        {
            var part = m.Parts[j];
            var path = $"messages[{i}].content[{j}]";
            if (m.Role is "system" or "developer" && part.Type != ContentPartTypes.Text)
                return AnthropicFields.Refuse(target, path, $"`{path}` is a {part.Type} part in a {m.Role} message: Anthropic's system prompt is text only");
            switch (part.Type)
            {
                case ContentPartTypes.InputAudio:
                    return AnthropicFields.Refuse(target, path, $"`{path}` is an input_audio part: Anthropic takes no audio input");
                case ContentPartTypes.File when part.FileId is not null:
                    return AnthropicFields.Refuse(target, path + ".file.file_id",
                        $"`{path}.file.file_id`: Anthropic has no such file id, send the file itself as file_data");
                case ContentPartTypes.File when DocumentSource(part.Data!) is null:
                    return AnthropicFields.Refuse(target, path + ".file.file_data",
                        $"`{path}.file.file_data`: Anthropic reads PDF (data:application/pdf;base64,...) and plain-text documents only");
                case ContentPartTypes.ImageUrl when ImageSource(part.ImageUrl!) is null:
                    return AnthropicFields.Refuse(target, path + ".image_url",
                        $"`{path}.image_url`: Anthropic takes jpeg, png, gif or webp images as data: URLs, or http(s) URLs");
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
            if (part.TryGetProperty("type", out var type) && type.ValueEquals(ContentPartTypes.InputAudio)) continue; // refused above, as a part
            if (Unknown(part, PartKeys, partPath, target) is { } p) return p;
            if (part.TryGetProperty("image_url", out var image) && image.ValueKind == JsonValueKind.Object
                && Unknown(image, ImageKeys, partPath + ".image_url", target) is { } im) return im;
            if (part.TryGetProperty("file", out var file) && file.ValueKind == JsonValueKind.Object
                && Unknown(file, FileKeys, partPath + ".file", target) is { } f) return f;
        }
        return null;
    }

    private static UnsupportedField? Unknown(JsonElement o, FrozenSet<string> known, string path, ResolvedModel target) =>
        UnsupportedField.UnknownMember(o, known, path) is { } member ? AnthropicFields.Refuse(target, member, $"`{member}` has no counterpart on the Anthropic Messages API") : null;

    /// <summary>
    /// The source of an image block: a base64 source for a <c>data:</c> URL of a type Anthropic reads, a url source for an
    /// http(s) URL; null for anything else.
    /// </summary>
    public static BlockSource? ImageSource(string url)
    {
        if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            return new BlockSource("url", null, url);
        return DataUrl(url) is (var mediaType, var data) && ImageTypes.Contains(mediaType) ? new BlockSource("base64", mediaType, data) : null;
    }

    /// <summary>
    /// The source of a document block: base64 PDF (a <c>data:application/pdf</c> URL, or bare base64 as OpenAI's
    /// <c>file_data</c> also allows), or the decoded text of a <c>text/plain</c> data URL; null for anything else.
    /// </summary>
    public static BlockSource? DocumentSource(string fileData)
    {
        if (!fileData.StartsWith("data:", StringComparison.Ordinal)) return new BlockSource("base64", "application/pdf", fileData);
        if (DataUrl(fileData) is not (var mediaType, var data)) return null;
        if (mediaType == "application/pdf") return new BlockSource("base64", mediaType, data);
        if (mediaType != "text/plain") return null;
        try
        {
            return new BlockSource("text", mediaType, Encoding.UTF8.GetString(Convert.FromBase64String(data)));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary><c>data:&lt;type&gt;[;params];base64,&lt;data&gt;</c> → (type in lower case, data); null when not that shape.</summary>
    private static (string MediaType, string Data)? DataUrl(string url)
    {
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase)) return null;
        var marker = url.IndexOf(";base64,", StringComparison.OrdinalIgnoreCase);
        if (marker < 5) return null;
        var header = url.AsSpan(5, marker - 5);
        var semicolon = header.IndexOf(';');
        var mediaType = (semicolon < 0 ? header : header[..semicolon]).Trim().ToString().ToLowerInvariant();
        return (mediaType, url[(marker + 8)..]);
    }
}

/// <summary>The <c>source</c> of an Anthropic image or document block.</summary>
/// <param name="Type"><c>base64</c>, <c>url</c> or <c>text</c>.</param>
/// <param name="Data">The base64 data, the URL, or the text.</param>
internal readonly record struct BlockSource(string Type, string? MediaType, string Data);
