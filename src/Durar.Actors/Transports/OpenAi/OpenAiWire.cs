using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.OpenAi;

/// <summary>Pieces of the OpenAI chat wire format written the same way in upstream requests and gateway responses.</summary>
internal static class OpenAiWire
{
    /// <summary>
    /// A message's text <c>content</c>: null when an assistant message only calls tools, else the text or "".
    /// </summary>
    public static void WriteTextContent(Utf8JsonWriter w, string? text, ImmutableArray<ToolCall> calls)
    {
        if (text is null && !calls.IsDefaultOrEmpty) w.WriteNull("content");
        else w.WriteString("content", text ?? "");
    }

    /// <summary>An assistant message's <c>tool_calls</c>, omitted when there are none.</summary>
    public static void WriteToolCalls(Utf8JsonWriter w, ImmutableArray<ToolCall> calls)
    {
        if (calls.IsDefaultOrEmpty) return;
        w.WriteStartArray("tool_calls");
        foreach (var call in calls)
        {
            w.WriteStartObject();
            w.WriteString("id", call.Id);
            w.WriteString("type", "function");
            w.WriteStartObject("function");
            w.WriteString("name", call.Name);
            w.WriteString("arguments", call.Arguments);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
