using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Routing;

namespace Durar.Api.Apis;

/// <summary>An OpenAI chat-completions request body, validated: the neutral request plus the gateway-level fields.</summary>
public sealed record ParsedChatRequest(string Model, ChatRequest Request, ImmutableArray<string>? Fallbacks);

/// <summary>
/// Parses and validates a <c>POST /v1/chat/completions</c> body. Out-of-range or mistyped fields are a 400 with the
/// field named in <c>param</c>, as OpenAI does. The body itself is kept (<see cref="ChatRequest.Original"/>): an OpenAI-family
/// upstream gets every field as written, unknown and future ones included; the typed fields read here serve validation and
/// the translation to other wires.
/// </summary>
/// <remarks>The element passed in must outlive the request (the caller keeps its document until the answer is written).</remarks>
public static class ChatRequestParser
{
    private static readonly ImmutableHashSet<string> Efforts = ["none", "minimal", "low", "medium", "high", "xhigh"];

    public static ParsedChatRequest Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Bad("The request body must be a JSON object.", "invalid_json", null);

        var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        if (string.IsNullOrWhiteSpace(model))
            throw Bad("`model` is required: a provider/model ref, an alias, or `durar`.", "missing_model", "model");

        if (!root.TryGetProperty("messages", out var msgs) || msgs.ValueKind != JsonValueKind.Array || msgs.GetArrayLength() == 0)
            throw Bad("`messages` must be a non-empty array.", "missing_messages", "messages");
        var messages = ImmutableArray.CreateBuilder<ChatMessage>(msgs.GetArrayLength());
        var i = 0;
        foreach (var msg in msgs.EnumerateArray()) messages.Add(ParseMessage(msg, i++));
        if (!HasTurn(messages))
            throw Bad("Missing user message in `messages`.", "missing_user_message", "messages");

        var parsed = messages.MoveToImmutable();
        var request = new ChatRequest
        {
            Messages = parsed,
            OriginalMessages = parsed,
            Original = root,
            Tools = Tools(root),
            ToolChoice = ToolChoice(root),
            ParallelToolCalls = Bool(root, "parallel_tool_calls"),
            ResponseFormat = ResponseFormat(root),
            Metadata = Object(root, "metadata"),
            N = Int(root, "n", 1, 128),
            Logprobs = Bool(root, "logprobs"),
            TopLogprobs = Int(root, "top_logprobs", 0, 20),
            ServiceTier = String(root, "service_tier"),
            MaxTokens = Int(root, "max_completion_tokens", 1, int.MaxValue) ?? Int(root, "max_tokens", 1, int.MaxValue),
            Temperature = Number(root, "temperature", 0, 2),
            TopP = Number(root, "top_p", 0, 1),
            FrequencyPenalty = Number(root, "frequency_penalty", -2, 2),
            PresencePenalty = Number(root, "presence_penalty", -2, 2),
            Seed = Long(root, "seed"),
            Stop = Stop(root),
            User = String(root, "user"),
            Stream = Bool(root, "stream") ?? false,
            IncludeUsage = root.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object
                ? Bool(so, "include_usage", "stream_options.include_usage") ?? false
                : so.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null
                    ? false
                    : throw Bad("`stream_options` must be an object.", "invalid_type", "stream_options"),
            ReasoningEffort = Effort(root),
        };
        return new ParsedChatRequest(ModelIds.Check(model.Trim(), "model"), request, Fallbacks(root));
    }

    /// <summary>Whether a message is the client's turn (a user or tool message; a <c>function</c> role is read as <c>tool</c>).</summary>
    private static bool HasTurn(ImmutableArray<ChatMessage>.Builder messages)
    {
        for (var i = 0; i < messages.Count; i++)
            if (messages[i].Role is "user" or "tool" or "function") return true;
        return false;
    }

    /// <summary>
    /// The role as one of the known role names (no string read from the body: the common case allocates nothing), with
    /// <c>function</c> read as <c>tool</c>; null for any other value.
    /// </summary>
    private static string? Role(JsonElement role) =>
        role.ValueEquals("user") ? "user"
        : role.ValueEquals("assistant") ? "assistant"
        : role.ValueEquals("system") ? "system"
        : role.ValueEquals("developer") ? "developer"
        : role.ValueEquals("tool") || role.ValueEquals("function") ? "tool"
        : null;

    // Paths of fields in error messages, built only when a message is refused.
    private static string MessagePath(int index) => $"messages[{index}]";
    private static string PartPath(int index, int part) => $"messages[{index}].content[{part}]";

    private static ChatMessage ParseMessage(JsonElement msg, int index)
    {
        if (msg.ValueKind != JsonValueKind.Object) throw Bad($"`{MessagePath(index)}` must be an object.", "invalid_type", MessagePath(index));
        var role = msg.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? Role(r) : null;
        if (role is null)
            throw Bad($"`{MessagePath(index)}.role` must be one of system, developer, user, assistant, tool.", "invalid_value", $"{MessagePath(index)}.role");

        string? text = null;
        var parts = ImmutableArray<ContentPart>.Empty;
        if (msg.TryGetProperty("content", out var content))
        {
            switch (content.ValueKind)
            {
                case JsonValueKind.String:
                    text = content.GetString();
                    break;
                case JsonValueKind.Null:
                    break;
                case JsonValueKind.Array:
                    var b = ImmutableArray.CreateBuilder<ContentPart>();
                    var j = 0;
                    foreach (var part in content.EnumerateArray()) b.Add(ParsePart(part, index, j++));
                    parts = b.ToImmutable();
                    break;
                default:
                    throw Bad($"`{MessagePath(index)}.content` must be a string or an array of content parts.", "invalid_type", $"{MessagePath(index)}.content");
            }
        }

        var refusal = role == "assistant" ? String(msg, "refusal") : null;
        var reasoning = role == "assistant" ? String(msg, "reasoning_content") : null;
        var calls = ImmutableArray<ToolCall>.Empty;
        if (msg.TryGetProperty("tool_calls", out var tc) && tc.ValueKind == JsonValueKind.Array)
        {
            var b = ImmutableArray.CreateBuilder<ToolCall>();
            foreach (var call in tc.EnumerateArray())
            {
                if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object
                    || !fn.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                    throw Bad($"`{MessagePath(index)}.tool_calls` entries need function.name.", "invalid_value", $"{MessagePath(index)}.tool_calls");
                b.Add(new ToolCall(String(call, "id") ?? "", name.GetString()!, fn.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : "{}"));
            }
            calls = b.ToImmutable();
        }
        return new ChatMessage(role, text)
        {
            Parts = parts,
            ToolCalls = calls,
            ToolCallId = String(msg, "tool_call_id"),
            Name = String(msg, "name"),
            Refusal = refusal,
            Reasoning = reasoning,
        };
    }

    private static ContentPart ParsePart(JsonElement part, int index, int number)
    {
        var path = PartPath(index, number);
        var type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) ? t.GetString() : null;
        switch (type)
        {
            case ContentPartTypes.Text or ContentPartTypes.Refusal:
                var field = type == ContentPartTypes.Text ? "text" : "refusal";
                return new ContentPart(type, Text: part.TryGetProperty(field, out var tx) && tx.ValueKind == JsonValueKind.String
                    ? tx.GetString() : throw Bad($"`{path}.{field}` must be a string.", "invalid_type", $"{path}.{field}"));
            case ContentPartTypes.ImageUrl:
                var image = part.TryGetProperty("image_url", out var iu) ? iu : default;
                var url = image.ValueKind switch
                {
                    JsonValueKind.String => image.GetString(),
                    JsonValueKind.Object when image.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String => u.GetString(),
                    _ => null,
                } ?? throw Bad($"`{path}.image_url.url` is required.", "invalid_value", $"{path}.image_url");
                return new ContentPart(ContentPartTypes.ImageUrl, ImageUrl: url,
                    Detail: image.ValueKind == JsonValueKind.Object ? String(image, "detail") : null);
            case ContentPartTypes.InputAudio:
                var audio = part.TryGetProperty("input_audio", out var ia) && ia.ValueKind == JsonValueKind.Object
                    ? ia : throw Bad($"`{path}.input_audio` must be an object with data and format.", "invalid_value", $"{path}.input_audio");
                return new ContentPart(ContentPartTypes.InputAudio)
                {
                    Data = String(audio, "data") ?? throw Bad($"`{path}.input_audio.data` is required.", "invalid_value", $"{path}.input_audio.data"),
                    Format = String(audio, "format") ?? throw Bad($"`{path}.input_audio.format` is required.", "invalid_value", $"{path}.input_audio.format"),
                };
            case ContentPartTypes.File:
                var file = part.TryGetProperty("file", out var fi) && fi.ValueKind == JsonValueKind.Object
                    ? fi : throw Bad($"`{path}.file` must be an object with file_data or file_id.", "invalid_value", $"{path}.file");
                var filePart = new ContentPart(ContentPartTypes.File)
                    { Data = String(file, "file_data"), FileId = String(file, "file_id"), FileName = String(file, "filename") };
                return filePart.Data is null && filePart.FileId is null
                    ? throw Bad($"`{path}.file` needs file_data or file_id.", "invalid_value", $"{path}.file")
                    : filePart;
            default:
                throw Bad($"`{path}.type` must be one of text, image_url, input_audio, file, refusal (got {(type is null ? "none" : $"\"{type}\"")}).",
                    "invalid_value", $"{path}.type");
        }
    }

    private static JsonElement? ResponseFormat(JsonElement root)
    {
        if (Object(root, "response_format") is not { } format) return null;
        switch (String(format, "type"))
        {
            case "text" or "json_object":
                return format;
            case "json_schema":
                if (Object(format, "json_schema") is not { } schema || String(schema, "name") is not { Length: > 0 })
                    throw Bad("`response_format.json_schema` must be an object with a name.", "invalid_value", "response_format.json_schema");
                return format;
            default:
                throw Bad("`response_format.type` must be text, json_object or json_schema.", "invalid_value", "response_format.type");
        }
    }

    private static JsonElement? Object(JsonElement o, string name)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Object ? v : throw Bad($"`{name}` must be an object.", "invalid_type", name);
    }

    private static JsonElement? Tools(JsonElement root)
    {
        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind == JsonValueKind.Null) return null;
        if (tools.ValueKind != JsonValueKind.Array) throw Bad("`tools` must be an array.", "invalid_type", "tools");
        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind != JsonValueKind.Object || String(tool, "type") != "function"
                || !tool.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object
                || String(fn, "name") is not { Length: > 0 })
                throw Bad($"`tools[{i}]` must be {{\"type\":\"function\",\"function\":{{\"name\":...}}}}.", "invalid_value", $"tools[{i}]");
            i++;
        }
        return tools;
    }

    private static JsonElement? ToolChoice(JsonElement root)
    {
        if (!root.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null) return null;
        if (choice.ValueKind == JsonValueKind.String && choice.GetString() is "auto" or "none" or "required") return choice;
        if (choice.ValueKind == JsonValueKind.Object && String(choice, "type") == "function"
            && choice.TryGetProperty("function", out var fn) && fn.ValueKind == JsonValueKind.Object && String(fn, "name") is { Length: > 0 })
            return choice;
        throw Bad("`tool_choice` must be auto, none, required or {\"type\":\"function\",\"function\":{\"name\":...}}.", "invalid_value", "tool_choice");
    }

    private static ImmutableArray<string> Stop(JsonElement root)
    {
        if (!root.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null) return [];
        if (stop.ValueKind == JsonValueKind.String) return [stop.GetString()!];
        if (stop.ValueKind == JsonValueKind.Array && stop.GetArrayLength() <= 4 && stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String))
            return [.. stop.EnumerateArray().Select(s => s.GetString()!)];
        throw Bad("`stop` must be a string or an array of at most 4 strings.", "invalid_value", "stop");
    }

    /// <summary>The gateway's <c>fallbacks</c> (or OpenRouter's <c>models</c>) list; shared with the embeddings endpoint.</summary>
    internal static ImmutableArray<string>? Fallbacks(JsonElement root)
    {
        // "fallbacks" is ours; "models" is OpenRouter's name for the same list.
        foreach (var name in (ReadOnlySpan<string>)["fallbacks", "models"])
        {
            if (!root.TryGetProperty(name, out var list) || list.ValueKind == JsonValueKind.Null) continue;
            if (list.ValueKind != JsonValueKind.Array || !list.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String && x.GetString()!.Length > 0))
                throw Bad($"`{name}` must be an array of model refs.", "invalid_value", name);
            if (list.GetArrayLength() > RunPlanner.MaxFallbacks)
                throw Bad($"`{name}` may list at most {RunPlanner.MaxFallbacks} models, got {list.GetArrayLength()}.", "too_many_fallbacks", name);
            return [.. list.EnumerateArray().Select(x => ModelIds.Check(x.GetString()!, name))];
        }
        return null;
    }

    private static string? Effort(JsonElement root)
    {
        var effort = String(root, "reasoning_effort");
        if (effort is not null && !Efforts.Contains(effort))
            throw Bad("`reasoning_effort` must be one of none, minimal, low, medium, high, xhigh.", "invalid_value", "reasoning_effort");
        return effort;
    }

    private static double? Number(JsonElement o, string name, double min, double max)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number) throw Bad($"`{name}` must be a number.", "invalid_type", name);
        var d = v.GetDouble();
        if (d < min || d > max) throw Bad($"`{name}` must be between {min} and {max}, got {v.GetRawText()}.", "invalid_value", name);
        return d;
    }

    private static int? Int(JsonElement o, string name, int min, int max)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var n)) throw Bad($"`{name}` must be an integer.", "invalid_type", name);
        if (n < min || n > max) throw Bad($"`{name}` must be at least {min}, got {n}.", "invalid_value", name);
        return n;
    }

    private static long? Long(JsonElement o, string name)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n)) throw Bad($"`{name}` must be an integer.", "invalid_type", name);
        return n;
    }

    private static bool? Bool(JsonElement o, string name, string? param = null)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad($"`{param ?? name}` must be true or false.", "invalid_type", param ?? name),
        };
    }

    private static string? String(JsonElement o, string name)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Bad($"`{name}` must be a string.", "invalid_type", name);
    }

    private static ApiErrorException Bad(string message, string code, string? param) => new(ApiError.BadRequest(message, code, param));
}
