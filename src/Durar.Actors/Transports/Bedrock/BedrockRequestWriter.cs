using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports.Bedrock;

/// <summary>
/// Writes a Converse / ConverseStream body (<c>POST /model/{modelId}/converse[-stream]</c>): <c>system</c> blocks, alternating
/// <c>messages</c> of content blocks (text, image bytes, <c>toolUse</c> with its input as JSON, <c>toolResult</c>, Claude's
/// <c>reasoningContent</c> replayed with its signature), <c>inferenceConfig</c>, <c>toolConfig</c> and, for Claude,
/// <c>additionalModelRequestFields.thinking</c>. Consecutive messages of one role are merged into one (Converse requires
/// user and assistant turns to alternate; tool results travel in the user turn). Only fields <see cref="BedrockFields"/> lets
/// through reach this writer.
/// </summary>
internal static class BedrockRequestWriter
{
    public static void Write(Utf8JsonWriter w, UpstreamCall call)
    {
        var r = call.Request;
        w.WriteStartObject();
        WriteSystem(w, r);
        WriteMessages(w, r);
        WriteInference(w, call);
        var json = BedrockJsonMode.For(r);
        if (json is not null) BedrockJsonMode.WriteToolConfig(w, json);
        else WriteTools(w, r);
        // A forced tool and thinking do not go together: JSON mode leaves the session's thinking level out.
        if (json is null && ThinkingBudget(call) is { } budget)
        {
            w.WriteStartObject("additionalModelRequestFields");
            w.WriteStartObject("thinking");
            w.WriteString("type", "enabled");
            w.WriteNumber("budget_tokens", budget);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    /// <summary>Claude's thinking budget: the client's <c>reasoning_effort</c>, else the session's level; null = no thinking.</summary>
    private static int? ThinkingBudget(UpstreamCall call)
    {
        var r = call.Request;
        if (!BedrockFields.IsClaude(call.Target.Model.Id)) return null;
        if (r.ReasoningEffort is { } effort) return ReasoningBudgets.IsOff(effort) ? null : ReasoningBudgets.AnthropicBudgetTokens(effort);
        return r.ThinkingBudgetTokens;
    }

    private static void WriteSystem(Utf8JsonWriter w, ChatRequest r)
    {
        var any = false;
        foreach (var m in r.Messages)
        {
            if (m.Role is not ("system" or "developer")) continue;
            if (!any) w.WriteStartArray("system");
            any = true;
            w.WriteStartObject();
            w.WriteString("text", m.AllText);
            w.WriteEndObject();
        }
        if (any) w.WriteEndArray();
    }

    private static void WriteMessages(Utf8JsonWriter w, ChatRequest r)
    {
        w.WriteStartArray("messages");
        string? open = null;
        foreach (var m in r.Messages)
        {
            if (m.Role is "system" or "developer") continue;
            var role = m.Role == "assistant" ? "assistant" : "user";
            if (role != open)
            {
                if (open is not null) EndMessage(w);
                w.WriteStartObject();
                w.WriteString("role", role);
                w.WriteStartArray("content");
                open = role;
            }
            WriteBlocks(w, m);
        }
        if (open is not null) EndMessage(w);
        w.WriteEndArray();

        static void EndMessage(Utf8JsonWriter w)
        {
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    private static void WriteBlocks(Utf8JsonWriter w, ChatMessage m)
    {
        if (m.Role == "tool")
        {
            w.WriteStartObject();
            w.WriteStartObject("toolResult");
            w.WriteString("toolUseId", m.ToolCallId ?? "");
            w.WriteStartArray("content");
            w.WriteStartObject();
            w.WriteString("text", m.AllText);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteString("status", "success");
            w.WriteEndObject();
            w.WriteEndObject();
            return;
        }
        if (m.Role == "assistant" && m.Reasoning is { Length: > 0 } reasoning && m.ReasoningSignature is { Length: > 0 } signature)
        {
            w.WriteStartObject();
            w.WriteStartObject("reasoningContent");
            w.WriteStartObject("reasoningText");
            w.WriteString("text", reasoning);
            w.WriteString("signature", signature);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        if (m.Parts.IsDefaultOrEmpty)
        {
            if (m.Text is { Length: > 0 } text) TextBlock(w, text);
        }
        else
            foreach (var part in m.Parts)
            {
                if (part.Type == "text") TextBlock(w, part.Text ?? "");
                else if (BedrockImage.Parse(part.ImageUrl) is var (format, bytes))
                {
                    w.WriteStartObject();
                    w.WriteStartObject("image");
                    w.WriteString("format", format);
                    w.WriteStartObject("source");
                    w.WriteString("bytes", bytes);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
            }
        foreach (var call in m.ToolCalls.IsDefault ? [] : m.ToolCalls)
        {
            w.WriteStartObject();
            w.WriteStartObject("toolUse");
            w.WriteString("toolUseId", call.Id);
            w.WriteString("name", call.Name);
            w.WritePropertyName("input");
            WriteInput(w, call.Arguments);
            w.WriteEndObject();
            w.WriteEndObject();
        }
    }

    private static void TextBlock(Utf8JsonWriter w, string text)
    {
        if (text.Length == 0) return; // Converse refuses a blank text block
        w.WriteStartObject();
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    /// <summary>A tool call's arguments as the JSON object Converse wants; arguments that are not a JSON object travel whole under <c>arguments</c>.</summary>
    private static void WriteInput(Utf8JsonWriter w, string arguments)
    {
        try
        {
            using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(arguments) ? "{}" : arguments);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                doc.RootElement.WriteTo(w);
                return;
            }
        }
        catch (JsonException)
        {
            // Not JSON (a model's broken call replayed): kept whole below rather than lost.
        }
        w.WriteStartObject();
        w.WriteString("arguments", arguments);
        w.WriteEndObject();
    }

    private static void WriteInference(Utf8JsonWriter w, UpstreamCall call)
    {
        var r = call.Request;
        var maxTokens = r.MaxTokens ?? call.Target.Provider.MaxTokens;
        if (maxTokens is null && r.Temperature is null && r.TopP is null && r.Stop.IsDefaultOrEmpty) return;
        w.WriteStartObject("inferenceConfig");
        if (maxTokens is { } max) w.WriteNumber("maxTokens", max);
        if (r.Temperature is { } temperature) w.WriteNumber("temperature", temperature);
        if (r.TopP is { } topP) w.WriteNumber("topP", topP);
        if (!r.Stop.IsDefaultOrEmpty)
        {
            w.WriteStartArray("stopSequences");
            foreach (var stop in r.Stop) w.WriteStringValue(stop);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteTools(Utf8JsonWriter w, ChatRequest r)
    {
        if (r.Tools is not { ValueKind: JsonValueKind.Array } tools || tools.GetArrayLength() == 0) return;
        if (r.ToolChoice is { ValueKind: JsonValueKind.String } none && none.ValueEquals("none")) return; // no tools offered at all
        w.WriteStartObject("toolConfig");
        w.WriteStartArray("tools");
        foreach (var tool in tools.EnumerateArray())
        {
            if (!tool.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object) continue;
            w.WriteStartObject();
            w.WriteStartObject("toolSpec");
            w.WriteString("name", fn.GetProperty("name").GetString());
            if (fn.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String) w.WriteString("description", d.GetString());
            w.WriteStartObject("inputSchema");
            w.WritePropertyName("json");
            if (fn.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object) p.WriteTo(w);
            else
            {
                w.WriteStartObject();
                w.WriteString("type", "object");
                w.WriteStartObject("properties");
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (r.ToolChoice is { } choice)
        {
            if (choice.ValueKind == JsonValueKind.String && choice.ValueEquals("required")) Choice(w, "any", null);
            else if (choice.ValueKind == JsonValueKind.String && choice.ValueEquals("auto")) Choice(w, "auto", null);
            else if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var f) && f.TryGetProperty("name", out var n))
                Choice(w, "tool", n.GetString());
        }
        w.WriteEndObject();

        static void Choice(Utf8JsonWriter w, string kind, string? name)
        {
            w.WriteStartObject("toolChoice");
            w.WriteStartObject(kind);
            if (name is not null) w.WriteString("name", name);
            w.WriteEndObject();
            w.WriteEndObject();
        }
    }
}
