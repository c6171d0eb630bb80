using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.Bedrock;

/// <summary>
/// JSON mode on Bedrock, which Converse has no field for, done the way Bedrock's own documentation and its users do it: one
/// tool whose <c>inputSchema</c> is the wanted schema, forced with <c>toolChoice: {tool: {name}}</c>, and the tool's input
/// given back as the message's text (finish reason <c>stop</c>, no tool call). <c>json_schema</c> sends its schema (and
/// its name, when Bedrock accepts it as a tool name); <c>json_object</c> sends the permissive <c>{"type":"object"}</c>.
/// Refused with client tools (the forced tool would hide them) and with Claude's thinking (Bedrock refuses a forced tool
/// while thinking).
/// </summary>
internal static class BedrockJsonMode
{
    /// <summary>The tool's name when the schema has none Bedrock accepts (<c>[a-zA-Z0-9_-]{1,64}</c>).</summary>
    public const string DefaultToolName = "json_response";

    /// <summary>The forced tool of a JSON-mode request: its name, description and schema; null when the request wants text.</summary>
    public static JsonTool? For(ChatRequest r)
    {
        if (r.ResponseFormat is not { ValueKind: JsonValueKind.Object } format || !format.TryGetProperty("type", out var type)) return null;
        if (type.ValueEquals("json_object")) return new JsonTool(DefaultToolName, "Respond with a JSON object.", null);
        if (!type.ValueEquals("json_schema")) return null;
        var spec = format.TryGetProperty("json_schema", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        var name = BedrockFrame.Str(spec, "name") is { Length: > 0 and <= 64 } n && n.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? n : DefaultToolName;
        var schema = spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("schema", out var js) && js.ValueKind == JsonValueKind.Object ? js : (JsonElement?)null;
        return new JsonTool(name, BedrockFrame.Str(spec, "description") ?? "Respond with JSON matching this schema.", schema);
    }

    /// <summary>Why this <c>response_format</c> cannot go to Bedrock, or null when it can (text, or JSON mode as above).</summary>
    public static string? Refusal(ChatRequest r, JsonElement format, bool thinking)
    {
        if (format.ValueKind != JsonValueKind.Object || !format.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            return "response_format without a type";
        if (type.ValueEquals("text")) return null;
        if (!type.ValueEquals("json_object") && !type.ValueEquals("json_schema")) return $"response_format type \"{type.GetString()}\"";
        if (type.ValueEquals("json_schema") && format.TryGetProperty("json_schema", out var spec) && spec.TryGetProperty("schema", out var schema)
            && schema.ValueKind != JsonValueKind.Object)
            return "response_format.json_schema.schema that is not an object";
        if (r.Tools is { ValueKind: JsonValueKind.Array } tools && tools.GetArrayLength() > 0
            && !(r.ToolChoice is { ValueKind: JsonValueKind.String } none && none.ValueEquals("none")))
            return "response_format together with tools (Bedrock's JSON mode is a forced tool of its own)";
        return thinking ? "response_format together with reasoning_effort (Bedrock refuses a forced tool while Claude thinks)" : null;
    }

    /// <summary>Writes <c>toolConfig</c> with the one forced tool.</summary>
    public static void WriteToolConfig(Utf8JsonWriter w, JsonTool tool)
    {
        w.WriteStartObject("toolConfig");
        w.WriteStartArray("tools");
        w.WriteStartObject();
        w.WriteStartObject("toolSpec");
        w.WriteString("name", tool.Name);
        w.WriteString("description", tool.Description);
        w.WriteStartObject("inputSchema");
        w.WritePropertyName("json");
        if (tool.Schema is { } schema) schema.WriteTo(w);
        else
        {
            w.WriteStartObject();
            w.WriteString("type", "object");
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteStartObject("toolChoice");
        w.WriteStartObject("tool");
        w.WriteString("name", tool.Name);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The forced tool's finish (<c>tool_use</c>) is the answer's end: <c>stop</c>; other reasons map as usual.</summary>
    public static string FinishReason(string stopReason) => stopReason == "tool_use" ? "stop" : BedrockUsage.FinishReason(stopReason);
}

/// <summary>The forced tool of JSON mode; <see cref="Schema"/> null = any JSON object.</summary>
internal sealed record JsonTool(string Name, string Description, JsonElement? Schema);
