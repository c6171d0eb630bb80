using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Api.Apis.Responses;

/// <summary>
/// Reads the Responses API's <c>input</c> (a string, or a list of items) into the neutral chat messages: a message item
/// (<c>input_text</c>, <c>input_image</c>, <c>input_file</c> parts; an assistant's <c>output_text</c> and <c>refusal</c>)
/// becomes a message, a <c>function_call</c> an assistant tool call (merged into the assistant message just before it, as
/// chat completions carries text and calls in one message), a <c>function_call_output</c> a tool message, and a
/// <c>reasoning</c> item the reasoning of the assistant message that follows. Any other item or part is a 400 naming its
/// path (<c>input[2].type</c>): nothing is dropped on the way in.
/// </summary>
internal static class ResponsesInputParser
{
    public static ImmutableArray<ChatMessage> Parse(JsonElement input)
    {
        if (input.ValueKind == JsonValueKind.String)
            return [new ChatMessage("user", input.GetString())];
        if (input.ValueKind != JsonValueKind.Array || input.GetArrayLength() == 0)
            throw ResponsesRequestParser.Bad("`input` must be a string or a non-empty array of input items.", "invalid_value", "input");
        var messages = new List<ChatMessage>();
        var i = 0;
        foreach (var item in input.EnumerateArray())
        {
            var path = $"input[{i++}]";
            if (item.ValueKind != JsonValueKind.Object) throw ResponsesRequestParser.Bad($"`{path}` must be an object.", "invalid_type", path);
            var type = Str(item, "type", path);
            switch (type)
            {
                case null or "message":
                    AddMessage(messages, item, path);
                    break;
                case "function_call":
                    var call = new ToolCall(Required(item, "call_id", path), Required(item, "name", path), Str(item, "arguments", path) ?? "{}");
                    if (messages.Count > 0 && messages[^1] is { Role: "assistant" } previous)
                        messages[^1] = previous with { ToolCalls = previous.ToolCalls.Add(call) };
                    else messages.Add(new ChatMessage("assistant", null) { ToolCalls = [call] });
                    break;
                case "function_call_output":
                    messages.Add(new ChatMessage("tool", Output(item, path)) { ToolCallId = Required(item, "call_id", path) });
                    break;
                case "reasoning":
                    messages.Add(new ChatMessage("assistant", null) { Reasoning = Summary(item, path) });
                    break;
                default:
                    throw ResponsesRequestParser.Bad($"Input items of type \"{type}\" are not supported (supported: message, function_call, function_call_output, reasoning).",
                        "unsupported_parameter", path + ".type");
            }
        }
        return [.. messages];
    }

    private static void AddMessage(List<ChatMessage> messages, JsonElement item, string path)
    {
        var role = Str(item, "role", path);
        if (role is not ("user" or "assistant" or "system" or "developer"))
            throw ResponsesRequestParser.Bad($"`{path}.role` must be one of user, assistant, system, developer.", "invalid_value", path + ".role");
        if (!item.TryGetProperty("content", out var content))
            throw ResponsesRequestParser.Bad($"`{path}.content` is required.", "missing_required_parameter", path + ".content");
        if (content.ValueKind == JsonValueKind.String)
        {
            Add(messages, new ChatMessage(role, content.GetString()));
            return;
        }
        if (content.ValueKind != JsonValueKind.Array)
            throw ResponsesRequestParser.Bad($"`{path}.content` must be a string or an array of content parts.", "invalid_type", path + ".content");
        if (role == "assistant")
        {
            var text = new StringBuilder();
            string? refusal = null;
            var j = 0;
            foreach (var part in content.EnumerateArray())
            {
                var at = $"{path}.content[{j++}]";
                switch (PartType(part, at))
                {
                    case "output_text" or "input_text": text.Append(Required(part, "text", at)); break;
                    case "refusal": refusal = Required(part, "refusal", at); break;
                    case var other: throw UnsupportedPart(other, at, "output_text, refusal");
                }
            }
            Add(messages, new ChatMessage("assistant", text.Length > 0 || refusal is null ? text.ToString() : null) { Refusal = refusal });
            return;
        }
        var parts = ImmutableArray.CreateBuilder<ContentPart>();
        var k = 0;
        foreach (var part in content.EnumerateArray())
        {
            var at = $"{path}.content[{k++}]";
            parts.Add(PartType(part, at) switch
            {
                "input_text" => new ContentPart(ContentPartTypes.Text, Text: Required(part, "text", at)),
                "input_image" => Image(part, at),
                "input_file" => File(part, at),
                var other => throw UnsupportedPart(other, at, "input_text, input_image, input_file"),
            });
        }
        // System and developer messages are text: their parts are joined.
        Add(messages, role is "system" or "developer"
            ? new ChatMessage(role, string.Concat(parts.Select(p => p.Type == ContentPartTypes.Text ? p.Text : throw ResponsesRequestParser.Bad(
                $"`{path}.content` of a {role} message may only hold input_text parts.", "invalid_value", path + ".content"))))
            : new ChatMessage(role, null) { Parts = parts.ToImmutable() });
    }

    /// <summary>An assistant message right after a reasoning item carries that reasoning; anything else is appended.</summary>
    private static void Add(List<ChatMessage> messages, ChatMessage message)
    {
        if (message.Role == "assistant" && messages.Count > 0 && messages[^1] is { Role: "assistant", Text: null, ToolCalls.IsEmpty: true } reasoning
            && reasoning.Reasoning is not null)
            messages[^1] = message with { Reasoning = reasoning.Reasoning };
        else messages.Add(message);
    }

    private static ContentPart Image(JsonElement part, string path)
    {
        if (Str(part, "file_id", path) is not null)
            throw ResponsesRequestParser.Bad("Durar has no files API: send the image as `image_url` (a URL or a data: URI).", "unsupported_parameter", path + ".file_id");
        return new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: Required(part, "image_url", path), Detail: Str(part, "detail", path));
    }

    private static ContentPart File(JsonElement part, string path)
    {
        if (Str(part, "file_url", path) is not null)
            throw ResponsesRequestParser.Bad("`file_url` is not supported: send the file as `file_data`.", "unsupported_parameter", path + ".file_url");
        var file = new ContentPart(ContentPartTypes.File) { Data = Str(part, "file_data", path), FileId = Str(part, "file_id", path), FileName = Str(part, "filename", path) };
        return file.Data is null && file.FileId is null
            ? throw ResponsesRequestParser.Bad($"`{path}` needs file_data or file_id.", "invalid_value", path)
            : file;
    }

    /// <summary>A function call's output: a string, or input_text parts joined.</summary>
    private static string Output(JsonElement item, string path)
    {
        if (!item.TryGetProperty("output", out var output))
            throw ResponsesRequestParser.Bad($"`{path}.output` is required.", "missing_required_parameter", path + ".output");
        if (output.ValueKind == JsonValueKind.String) return output.GetString()!;
        if (output.ValueKind != JsonValueKind.Array)
            throw ResponsesRequestParser.Bad($"`{path}.output` must be a string or an array of input_text parts.", "invalid_type", path + ".output");
        var text = new StringBuilder();
        var j = 0;
        foreach (var part in output.EnumerateArray())
        {
            var at = $"{path}.output[{j++}]";
            if (PartType(part, at) is var type && type != "input_text") throw UnsupportedPart(type, at, "input_text");
            text.Append(Required(part, "text", at));
        }
        return text.ToString();
    }

    /// <summary>A reasoning item's summary texts, joined by blank lines.</summary>
    private static string Summary(JsonElement item, string path)
    {
        if (!item.TryGetProperty("summary", out var summary) || summary.ValueKind != JsonValueKind.Array)
            throw ResponsesRequestParser.Bad($"`{path}.summary` must be an array of summary_text parts.", "invalid_value", path + ".summary");
        var texts = new List<string>();
        var j = 0;
        foreach (var part in summary.EnumerateArray())
        {
            var at = $"{path}.summary[{j++}]";
            if (PartType(part, at) is var type && type != "summary_text") throw UnsupportedPart(type, at, "summary_text");
            texts.Add(Required(part, "text", at));
        }
        if (item.TryGetProperty("encrypted_content", out var encrypted) && encrypted.ValueKind != JsonValueKind.Null)
            throw ResponsesRequestParser.Bad("`encrypted_content` is not supported: Durar never issues it.", "unsupported_parameter", path + ".encrypted_content");
        return string.Join("\n\n", texts);
    }

    private static string PartType(JsonElement part, string path) =>
        part.ValueKind == JsonValueKind.Object ? Required(part, "type", path)
            : throw ResponsesRequestParser.Bad($"`{path}` must be an object.", "invalid_type", path);

    private static ApiErrorException UnsupportedPart(string type, string path, string supported) =>
        ResponsesRequestParser.Bad($"Content parts of type \"{type}\" are not supported here (supported: {supported}).", "unsupported_parameter", path + ".type");

    private static string Required(JsonElement o, string name, string path) =>
        Str(o, name, path) ?? throw ResponsesRequestParser.Bad($"`{path}.{name}` is required.", "missing_required_parameter", $"{path}.{name}");

    private static string? Str(JsonElement o, string name, string path)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString()
            : throw ResponsesRequestParser.Bad($"`{path}.{name}` must be a string.", "invalid_type", $"{path}.{name}");
    }
}
