using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// Writes the canonical messages as Gemini's <c>systemInstruction</c> and <c>contents</c> (the rows of
/// <see cref="GeminiContentRules"/>): system and developer messages become the system instruction; the rest alternate
/// <c>user</c> and <c>model</c> turns of parts (consecutive same-role messages merge, so the answers to parallel function calls
/// share one user turn). An assistant's tool calls are <c>functionCall</c> parts with the thought signature their id carries
/// (<see cref="GeminiToolIds"/>); a tool result is a <c>functionResponse</c> part named after the call it answers.
/// </summary>
internal static class GeminiContentWriter
{
    /// <summary><c>systemInstruction</c>, when there is a system or developer message.</summary>
    public static void WriteSystemInstruction(Utf8JsonWriter w, ChatRequest r)
    {
        var open = false;
        foreach (var m in r.Messages)
        {
            if (m.Role is not ("system" or "developer")) continue;
            var text = m.AllText;
            if (text.Length == 0) continue;
            if (!open)
            {
                w.WriteStartObject("systemInstruction");
                w.WriteStartArray("parts");
                open = true;
            }
            WriteText(w, text);
        }
        if (!open) return;
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The <c>contents</c> array.</summary>
    public static void WriteContents(Utf8JsonWriter w, ChatRequest r)
    {
        w.WriteStartArray("contents");
        string? turn = null;
        for (var i = 0; i < r.Messages.Length; i++)
        {
            var m = r.Messages[i];
            if (m.Role is "system" or "developer" || !HasParts(m)) continue;
            var role = m.Role == "assistant" ? "model" : "user";
            if (role != turn)
            {
                if (turn is not null) EndTurn(w);
                w.WriteStartObject();
                w.WriteString("role", role);
                w.WriteStartArray("parts");
                turn = role;
            }
            if (m.Role == "tool") WriteFunctionResponse(w, m, FunctionName(r, i));
            else WriteParts(w, m);
        }
        if (turn is not null) EndTurn(w);
        w.WriteEndArray();

        static void EndTurn(Utf8JsonWriter w)
        {
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    /// <summary>
    /// The function a tool result answers: the name of the earlier assistant tool call with its id, else the message's own
    /// <c>name</c>; null when neither says (refused before the call by <see cref="GeminiContentRules"/>).
    /// </summary>
    public static string? FunctionName(ChatRequest r, int toolMessage)
    {
        var id = r.Messages[toolMessage].ToolCallId;
        for (var i = toolMessage - 1; i >= 0 && id is not null; i--)
            foreach (var call in r.Messages[i].ToolCalls.IsDefault ? [] : r.Messages[i].ToolCalls)
                if (call.Id == id) return call.Name;
        return r.Messages[toolMessage].Name;
    }

    private static bool HasParts(ChatMessage m) =>
        m.Role == "tool" || !string.IsNullOrEmpty(m.Text) || !m.Parts.IsDefaultOrEmpty || !m.ToolCalls.IsDefaultOrEmpty || !string.IsNullOrEmpty(m.Refusal);

    private static void WriteParts(Utf8JsonWriter w, ChatMessage m)
    {
        if (m.Parts.IsDefaultOrEmpty)
        {
            if (!string.IsNullOrEmpty(m.Text)) WriteText(w, m.Text);
        }
        else
            foreach (var part in m.Parts) WritePart(w, part);
        if (m.Refusal is { Length: > 0 } refusal) WriteText(w, refusal);
        foreach (var call in m.ToolCalls.IsDefault ? [] : m.ToolCalls)
        {
            w.WriteStartObject();
            w.WriteStartObject("functionCall");
            w.WriteString("name", call.Name);
            w.WritePropertyName("args");
            WriteJsonObject(w, call.Arguments);
            w.WriteEndObject();
            if (GeminiToolIds.Signature(call.Id) is { } signature) w.WriteString("thoughtSignature", signature);
            w.WriteEndObject();
        }
    }

    private static void WritePart(Utf8JsonWriter w, ContentPart part)
    {
        switch (part.Type)
        {
            case ContentPartTypes.Text or ContentPartTypes.Refusal when part.Text is { Length: > 0 } text:
                WriteText(w, text);
                break;
            case ContentPartTypes.ImageUrl when GeminiContentRules.InlineImage(part.ImageUrl!) is { } image:
                WriteInline(w, image);
                break;
            case ContentPartTypes.InputAudio when part.Data is not null && GeminiContentRules.AudioMime(part.Format) is { } mime:
                WriteInline(w, new InlineData(mime, part.Data));
                break;
            case ContentPartTypes.File when part.Data is not null && GeminiContentRules.InlineFile(part.Data) is { } file:
                WriteInline(w, file);
                break;
            // Anything else was refused before the call (GeminiContentRules); an empty text is no part.
        }
    }

    /// <summary>
    /// A tool result as <c>functionResponse</c>: its <c>response</c> is the result when that is a JSON object (what Gemini
    /// expects), else <c>{"result": ...}</c> with the result as JSON or text.
    /// </summary>
    private static void WriteFunctionResponse(Utf8JsonWriter w, ChatMessage m, string? name)
    {
        w.WriteStartObject();
        w.WriteStartObject("functionResponse");
        w.WriteString("name", name ?? "");
        w.WritePropertyName("response");
        var text = m.AllText;
        JsonDocument? parsed = null;
        try
        {
            parsed = text.Length > 0 && text[0] is '{' or '[' ? JsonDocument.Parse(text) : null;
        }
        catch (JsonException)
        {
            parsed = null;
        }
        using (parsed)
        {
            if (parsed?.RootElement is { ValueKind: JsonValueKind.Object } obj) obj.WriteTo(w);
            else
            {
                w.WriteStartObject();
                w.WritePropertyName("result");
                if (parsed is not null) parsed.RootElement.WriteTo(w);
                else w.WriteStringValue(text);
                w.WriteEndObject();
            }
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteInline(Utf8JsonWriter w, InlineData data)
    {
        w.WriteStartObject();
        w.WriteStartObject("inlineData");
        w.WriteString("mimeType", data.MimeType);
        w.WriteString("data", data.Data);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteText(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    /// <summary>Function call arguments as an object (Gemini's <c>args</c>); arguments that are not a JSON object become <c>{}</c>.</summary>
    private static void WriteJsonObject(Utf8JsonWriter w, string? json)
    {
        try
        {
            using var args = JsonDocument.Parse(string.IsNullOrWhiteSpace(json) ? "{}" : json);
            if (args.RootElement.ValueKind == JsonValueKind.Object)
            {
                args.RootElement.WriteTo(w);
                return;
            }
        }
        catch (JsonException)
        {
            // Not JSON: written as an empty object below, as the Anthropic wire does.
        }
        w.WriteStartObject();
        w.WriteEndObject();
    }
}
