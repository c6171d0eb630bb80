using System.Buffers;
using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Api.Apis.Responses;

/// <summary>A <c>POST /v1/responses</c> body, validated and mapped onto the neutral request.</summary>
/// <param name="Request">The whole request for a stateless run: <c>instructions</c> as a leading system message, then the input.</param>
/// <param name="Input">The input's messages (without system and developer ones): a stored turn journals these.</param>
/// <param name="Body">The client's body (a copy that outlives the request): the response object echoes its settings.</param>
internal sealed record ParsedResponsesRequest(string Model, ChatRequest Request, ImmutableArray<ChatMessage> Input,
    ImmutableArray<string>? Fallbacks, bool Store, string? PreviousResponseId, JsonElement Body);

/// <summary>
/// Parses a Responses API request into the neutral <see cref="ChatRequest"/> (the same one chat completions builds, with no
/// <see cref="ChatRequest.Original"/>: every wire writes it from the typed fields). Function tools become chat tools,
/// <c>text.format</c> becomes <c>response_format</c>, <c>reasoning.effort</c> <c>reasoning_effort</c>,
/// <c>max_output_tokens</c> the output cap. Fields the neutral model has no counterpart for (<see cref="PassedThrough"/>,
/// <c>text.verbosity</c>) travel as <see cref="ChatRequest.ResponsesOnly"/>: an <c>openai-responses</c> upstream gets them as
/// written, every other one refuses them by name. Every field not listed in <see cref="Known"/> is a 400 naming it, and so
/// is a value Durar cannot honour (a hosted tool, <c>include</c>, ...): nothing the client asked for is dropped.
/// </summary>
internal static class ResponsesRequestParser
{
    /// <summary>The top-level fields Durar reads. <c>fallbacks</c> is the gateway's own, as on chat completions.</summary>
    private static readonly ImmutableHashSet<string> Known =
    [
        "model", "input", "instructions", "tools", "tool_choice", "text", "reasoning", "max_output_tokens", "temperature", "top_p",
        "metadata", "parallel_tool_calls", "user", "stream", "store", "previous_response_id", "fallbacks", "service_tier",
        "truncation", "background", "include", "prompt_cache_key", "prompt_cache_retention", "safety_identifier", "max_tool_calls",
    ];

    /// <summary>
    /// Top-level fields with no neutral counterpart, passed through to an <c>openai-responses</c> upstream as written
    /// (<see cref="ChatRequest.ResponsesOnly"/>; every other wire refuses them by name). <c>text.verbosity</c> joins them.
    /// </summary>
    private static readonly ImmutableArray<string> PassedThrough =
        ["truncation", "prompt_cache_key", "prompt_cache_retention", "safety_identifier", "max_tool_calls"];

    private static readonly ImmutableHashSet<string> Efforts = ["none", "minimal", "low", "medium", "high", "xhigh"];

    public static ParsedResponsesRequest Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Bad("The request body must be a JSON object.", "invalid_json", null);
        foreach (var p in root.EnumerateObject())
            if (!Known.Contains(p.Name))
                throw Bad($"Unknown or unsupported parameter: `{p.Name}`.", "unknown_parameter", p.Name);
        var model = String(root, "model") is { } m && !string.IsNullOrWhiteSpace(m) ? m.Trim()
            : throw Bad("`model` is required: a provider/model ref, an alias, or `durar`.", "missing_required_parameter", "model");
        if (!root.TryGetProperty("input", out var inputField) || inputField.ValueKind == JsonValueKind.Null)
            throw Bad("`input` is required.", "missing_required_parameter", "input");
        var input = ResponsesInputParser.Parse(inputField);
        Refuse(root, "truncation", v => v.ValueKind == JsonValueKind.String && v.GetString() is "disabled" or "auto", "must be \"auto\" or \"disabled\"");
        Refuse(root, "background", v => v.ValueKind == JsonValueKind.False, "background responses are not supported");
        Refuse(root, "include", v => v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 0, "the data it adds to the output (encrypted reasoning, log probabilities, "
            + "tool sources) is not carried back through the gateway's answer");

        var system = ImmutableArray.CreateBuilder<ChatMessage>();
        if (String(root, "instructions") is { } instructions) system.Add(new ChatMessage("system", instructions));
        system.AddRange(input.Where(x => x.Role is "system" or "developer"));
        var turn = input.Where(x => x.Role is not ("system" or "developer")).ToImmutableArray();
        var previous = String(root, "previous_response_id");
        if (turn.IsEmpty) throw Bad("`input` needs at least one user, assistant or tool item.", "invalid_value", "input");
        if (previous is null && !turn.Any(x => x.Role is "user" or "tool"))
            throw Bad("`input` needs a user message or a function_call_output.", "invalid_value", "input");

        var store = Bool(root, "store") ?? true;
        // metadata tags the response object (echoed on it), as OpenAI's does; it is not an upstream field.
        _ = Object(root, "metadata");
        var request = new ChatRequest
        {
            Messages = [.. system, .. turn],
            Tools = Tools(root),
            ToolChoice = ToolChoice(root),
            ParallelToolCalls = Bool(root, "parallel_tool_calls"),
            ResponseFormat = Format(root),
            MaxTokens = Int(root, "max_output_tokens"),
            Temperature = Number(root, "temperature", 0, 2),
            TopP = Number(root, "top_p", 0, 1),
            User = String(root, "user"),
            ServiceTier = String(root, "service_tier"),
            Stream = Bool(root, "stream") ?? false,
            IncludeUsage = true,
            ReasoningEffort = Effort(root),
            ReasoningSummary = Object(root, "reasoning") is { } r ? String(r, "summary") ?? String(r, "generate_summary") : null,
            ResponsesOnly = ResponsesOnly(root),
        };
        return new ParsedResponsesRequest(ModelIds.Check(model, "model"), request, turn, ChatRequestParser.Fallbacks(root), store, previous, root);
    }

    /// <summary>The <see cref="PassedThrough"/> fields the client set (null is not set), and <c>text.verbosity</c>.</summary>
    private static ImmutableDictionary<string, JsonElement> ResponsesOnly(JsonElement root)
    {
        var fields = ImmutableDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
        foreach (var name in PassedThrough)
            if (root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null)
            {
                if (name == "truncation" && v.ValueEquals("disabled")) continue; // the Responses API's default: every wire honours it
                if (name == "max_tool_calls" && (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var n) || n < 1))
                    throw Bad("`max_tool_calls` must be a positive integer.", "invalid_value", name);
                if (name is "prompt_cache_key" or "prompt_cache_retention" or "safety_identifier" && v.ValueKind != JsonValueKind.String)
                    throw Bad($"`{name}` must be a string.", "invalid_type", name);
                fields[name] = v.Clone();
            }
        if (Object(root, "text") is { } text && text.TryGetProperty("verbosity", out var verbosity) && verbosity.ValueKind != JsonValueKind.Null)
            fields["text.verbosity"] = verbosity.ValueKind == JsonValueKind.String && verbosity.GetString() is "low" or "medium" or "high"
                ? verbosity.Clone()
                : throw Bad("`text.verbosity` must be low, medium or high.", "invalid_value", "text.verbosity");
        return fields.ToImmutable();
    }

    /// <summary>Function tools, flat in the Responses API, as chat completions' nested <c>{type, function:{...}}</c>.</summary>
    private static JsonElement? Tools(JsonElement root)
    {
        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind == JsonValueKind.Null) return null;
        if (tools.ValueKind != JsonValueKind.Array) throw Bad("`tools` must be an array.", "invalid_type", "tools");
        if (tools.GetArrayLength() == 0) return null;
        return Build(w =>
        {
            w.WriteStartArray();
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var path = $"tools[{i++}]";
                if (tool.ValueKind != JsonValueKind.Object) throw Bad($"`{path}` must be an object.", "invalid_type", path);
                if (String(tool, "type", path + ".type") is var type && type != "function")
                    throw Bad($"Tools of type \"{type}\" are not supported: only function tools.", "unsupported_parameter", path + ".type");
                w.WriteStartObject();
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                foreach (var p in tool.EnumerateObject())
                    switch (p.Name)
                    {
                        case "type": break;
                        case "name" or "description" or "parameters" or "strict": p.WriteTo(w); break;
                        default: throw Bad($"Unknown function tool field `{p.Name}`.", "unknown_parameter", $"{path}.{p.Name}");
                    }
                if (String(tool, "name", path + ".name") is not { Length: > 0 })
                    throw Bad($"`{path}.name` is required.", "missing_required_parameter", path + ".name");
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });
    }

    private static JsonElement? ToolChoice(JsonElement root)
    {
        if (!root.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null) return null;
        if (choice.ValueKind == JsonValueKind.String && choice.GetString() is "auto" or "none" or "required") return choice.Clone();
        if (choice.ValueKind == JsonValueKind.Object && String(choice, "type", "tool_choice.type") == "function"
            && String(choice, "name", "tool_choice.name") is { Length: > 0 } name)
            return Build(w =>
            {
                w.WriteStartObject();
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", name);
                w.WriteEndObject();
                w.WriteEndObject();
            });
        throw Bad("`tool_choice` must be auto, none, required or {\"type\":\"function\",\"name\":...}.", "invalid_value", "tool_choice");
    }

    /// <summary><c>text.format</c> as chat completions' <c>response_format</c>; <c>text.verbosity</c> is passed through (<see cref="ResponsesOnly"/>).</summary>
    private static JsonElement? Format(JsonElement root)
    {
        if (Object(root, "text") is not { } text) return null;
        foreach (var p in text.EnumerateObject())
            if (p.Name is not ("format" or "verbosity"))
                throw Bad($"`text.{p.Name}` is not supported.", "unsupported_parameter", "text." + p.Name);
        if (!text.TryGetProperty("format", out var format) || format.ValueKind == JsonValueKind.Null) return null;
        if (format.ValueKind != JsonValueKind.Object) throw Bad("`text.format` must be an object.", "invalid_type", "text.format");
        switch (String(format, "type", "text.format.type"))
        {
            case "text":
                return null;
            case "json_object":
                return Build(w => { w.WriteStartObject(); w.WriteString("type", "json_object"); w.WriteEndObject(); });
            case "json_schema":
                if (String(format, "name", "text.format.name") is not { Length: > 0 })
                    throw Bad("`text.format.name` is required for json_schema.", "missing_required_parameter", "text.format.name");
                if (Object(format, "schema", "text.format.schema") is null)
                    throw Bad("`text.format.schema` is required for json_schema.", "missing_required_parameter", "text.format.schema");
                return Build(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("type", "json_schema");
                    w.WriteStartObject("json_schema");
                    foreach (var p in format.EnumerateObject())
                        switch (p.Name)
                        {
                            case "type": break;
                            case "name" or "schema" or "description" or "strict": p.WriteTo(w); break;
                            default: throw Bad($"Unknown field `text.format.{p.Name}`.", "unknown_parameter", "text.format." + p.Name);
                        }
                    w.WriteEndObject();
                    w.WriteEndObject();
                });
            default:
                throw Bad("`text.format.type` must be text, json_object or json_schema.", "invalid_value", "text.format.type");
        }
    }

    /// <summary><c>reasoning.effort</c>; <c>reasoning.summary</c> is accepted: reasoning the upstream gives back is always answered as the summary.</summary>
    private static string? Effort(JsonElement root)
    {
        if (Object(root, "reasoning") is not { } reasoning) return null;
        foreach (var p in reasoning.EnumerateObject())
            if (p.Name is not ("effort" or "summary" or "generate_summary"))
                throw Bad($"`reasoning.{p.Name}` is not supported.", "unsupported_parameter", "reasoning." + p.Name);
        foreach (var name in (ReadOnlySpan<string>)["summary", "generate_summary"])
            if (String(reasoning, name, "reasoning." + name) is { } summary && summary is not ("auto" or "concise" or "detailed"))
                throw Bad($"`reasoning.{name}` must be auto, concise or detailed.", "invalid_value", "reasoning." + name);
        var effort = String(reasoning, "effort", "reasoning.effort");
        if (effort is not null && !Efforts.Contains(effort))
            throw Bad("`reasoning.effort` must be one of none, minimal, low, medium, high, xhigh.", "invalid_value", "reasoning.effort");
        return effort;
    }

    private static void Refuse(JsonElement root, string name, Func<JsonElement, bool> accepted, string why)
    {
        if (root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null && !accepted(v))
            throw Bad($"`{name}`: {why}.", "unsupported_parameter", name);
    }

    /// <summary>A JSON value written by <paramref name="write"/>, as an element that outlives this call.</summary>
    private static JsonElement Build(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer)) write(w);
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    private static JsonElement? Object(JsonElement o, string name, string? param = null)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Object ? v : throw Bad($"`{param ?? name}` must be an object.", "invalid_type", param ?? name);
    }

    private static double? Number(JsonElement o, string name, double min, double max)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number) throw Bad($"`{name}` must be a number.", "invalid_type", name);
        var d = v.GetDouble();
        return d >= min && d <= max ? d : throw Bad($"`{name}` must be between {min} and {max}, got {v.GetRawText()}.", "invalid_value", name);
    }

    private static int? Int(JsonElement o, string name)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var n)) throw Bad($"`{name}` must be an integer.", "invalid_type", name);
        return n >= 1 ? n : throw Bad($"`{name}` must be at least 1, got {n}.", "invalid_value", name);
    }

    private static bool? Bool(JsonElement o, string name)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad($"`{name}` must be true or false.", "invalid_type", name),
        };
    }

    private static string? String(JsonElement o, string name, string? param = null)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Bad($"`{param ?? name}` must be a string.", "invalid_type", param ?? name);
    }

    internal static ApiErrorException Bad(string message, string code, string? param) => new(ApiError.BadRequest(message, code, param));
}
