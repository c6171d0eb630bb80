using System.Buffers;
using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Chat;

namespace Durar.Api.Apis.Messages;

/// <summary>
/// Parses and validates a <c>POST /v1/messages</c> body (Anthropic's Messages API) into the neutral request the run speaks,
/// so the Anthropic dialect goes through the same run as chat completions (keys, cooldowns, fallbacks, sessions, usage) to
/// any upstream wire. Every top-level field is read here or refused: an unknown or unsupported field is a 400 naming it,
/// never dropped. The messages and content blocks are read by <see cref="MessagesContentParser"/>.
/// </summary>
/// <remarks>
/// The mapping (the neutral model is OpenAI-shaped): <c>system</c> → a leading system message; <c>max_tokens</c> →
/// <see cref="ChatRequest.MaxTokens"/>; <c>stop_sequences</c> → <see cref="ChatRequest.Stop"/>; <c>metadata.user_id</c> →
/// <see cref="ChatRequest.User"/> (the Anthropic wire sends it back as <c>metadata.user_id</c>); <c>top_k</c> → an extra body
/// field (Anthropic's own, sent as written to either wire); <c>tools</c> → function tools with <c>input_schema</c> as
/// <c>parameters</c>; <c>tool_choice</c> auto/any/tool/none → auto/required/named/none, <c>disable_parallel_tool_use</c> →
/// <c>parallel_tool_calls: false</c>; <c>thinking</c> enabled → <see cref="ChatRequest.ReasoningBudgetTokens"/> (exact on the
/// Anthropic wire) with the nearest <see cref="ChatRequest.ReasoningEffort"/> (for OpenAI-compatible wires), disabled →
/// nothing asked; <c>service_tier</c> auto/standard_only → auto/default. <c>fallbacks</c> is the gateway's own, as on chat.
/// </remarks>
internal static class MessagesRequestParser
{
    private static readonly FrozenSet<string> Known = new[]
    {
        "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature", "top_k", "top_p",
        "tools", "tool_choice", "thinking", "service_tier", "fallbacks",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The fields of <c>count_tokens</c>: the prompt only (Anthropic refuses sampling and limits there).</summary>
    private static readonly FrozenSet<string> CountKnown = new[] { "model", "messages", "system", "tools", "tool_choice", "thinking", "fallbacks" }
        .ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenSet<string> ToolKeys = new[] { "type", "name", "description", "input_schema", "cache_control", "strict" }.ToFrozenSet();

    /// <summary>A <c>POST /v1/messages</c> body.</summary>
    public static ParsedChatRequest Parse(JsonElement root) => Parse(root, countOnly: false);

    /// <summary>A <c>POST /v1/messages/count_tokens</c> body: the prompt, without <c>max_tokens</c>.</summary>
    public static ParsedChatRequest ParseCount(JsonElement root) => Parse(root, countOnly: true);

    private static ParsedChatRequest Parse(JsonElement root, bool countOnly)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Bad("The request body must be a JSON object.");
        var known = countOnly ? CountKnown : Known;
        foreach (var p in root.EnumerateObject())
            if (!known.Contains(p.Name)) throw Bad($"{p.Name}: Extra inputs are not permitted (Durar's Messages API does not support `{p.Name}`).", p.Name);

        var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(m.GetString())
            ? ModelIds.Check(m.GetString()!.Trim(), "model")
            : throw Bad("model: Field required (a provider/model ref, an alias, or `durar`).", "model");
        int? maxTokens = countOnly ? null
            : root.TryGetProperty("max_tokens", out var mt) && mt.ValueKind == JsonValueKind.Number
                ? mt.TryGetInt32(out var n) && n >= 1 ? n : throw Bad("max_tokens: must be an integer of at least 1.", "max_tokens")
                : throw Bad("max_tokens: Field required.", "max_tokens");

        var messages = ImmutableArray.CreateBuilder<ChatMessage>();
        if (System(root) is { } system) messages.Add(system);
        MessagesContentParser.AddMessages(root, messages);
        var parsed = messages.ToImmutable();

        var (budget, effort) = Thinking(root, maxTokens);
        var extra = ImmutableDictionary<string, JsonElement>.Empty;
        if (root.TryGetProperty("top_k", out var topK) && topK.ValueKind != JsonValueKind.Null)
            extra = topK.ValueKind == JsonValueKind.Number && topK.TryGetInt32(out var k) && k >= 0
                ? extra.Add("top_k", topK.Clone())
                : throw Bad("top_k: must be a non-negative integer.", "top_k");
        var (toolChoice, parallel) = ToolChoice(root);
        var request = new ChatRequest
        {
            Messages = parsed,
            MaxTokens = maxTokens,
            Temperature = Number(root, "temperature", 0, 1),
            TopP = Number(root, "top_p", 0, 1),
            Stop = StopSequences(root),
            User = UserId(root),
            Stream = Bool(root, "stream") ?? false,
            IncludeUsage = true,
            Tools = Tools(root),
            ToolChoice = toolChoice,
            ParallelToolCalls = parallel,
            ReasoningBudgetTokens = budget,
            ReasoningEffort = effort,
            ServiceTier = ServiceTier(root),
            Extra = extra,
        };
        return new ParsedChatRequest(model, request, Apis.ChatRequestParser.Fallbacks(root));
    }

    /// <summary><c>system</c>: a string, or text blocks (each with its <c>cache_control</c>).</summary>
    private static ChatMessage? System(JsonElement root)
    {
        if (!root.TryGetProperty("system", out var system) || system.ValueKind == JsonValueKind.Null) return null;
        var message = MessagesContentParser.SystemMessage(system, "system");
        return message.Text is { Length: 0 } || message.Text is null && message.Parts.IsEmpty ? null : message;
    }

    /// <summary>
    /// <c>thinking</c>: enabled with <c>budget_tokens</c> (at least 1024, below <c>max_tokens</c>, as Anthropic requires), or
    /// disabled. The budget's nearest level (≤ 2048 low, ≤ 8192 medium, above high) is the effort for wires that take a level.
    /// </summary>
    private static (int? Budget, string? Effort) Thinking(JsonElement root, int? maxTokens)
    {
        if (!root.TryGetProperty("thinking", out var thinking) || thinking.ValueKind == JsonValueKind.Null) return (null, null);
        if (thinking.ValueKind != JsonValueKind.Object) throw Bad("thinking: must be an object.", "thinking");
        var type = MessagesContentParser.TypeOf(thinking, "thinking");
        MessagesContentParser.OnlyKeys(thinking, "thinking", type == "enabled" ? ["type", "budget_tokens"] : ["type"]);
        switch (type)
        {
            case "disabled":
                return (null, null);
            case "enabled":
                if (!thinking.TryGetProperty("budget_tokens", out var b) || b.ValueKind != JsonValueKind.Number || !b.TryGetInt32(out var budget))
                    throw Bad("thinking.enabled.budget_tokens: Field required (an integer).", "thinking.budget_tokens");
                if (budget < 1024) throw Bad("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024.", "thinking.budget_tokens");
                if (budget >= maxTokens) throw Bad("`max_tokens` must be greater than `thinking.budget_tokens`.", "thinking.budget_tokens");
                return (budget, budget <= 2048 ? "low" : budget <= 8192 ? "medium" : "high");
            default:
                throw Bad($"thinking.type: must be enabled or disabled (got \"{type}\"; Durar does not support it).", "thinking.type");
        }
    }

    /// <summary><c>tools</c>: custom (client) tools, as function tools; a server tool type is refused by name.</summary>
    private static JsonElement? Tools(JsonElement root)
    {
        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind == JsonValueKind.Null) return null;
        if (tools.ValueKind != JsonValueKind.Array) throw Bad("tools: must be an array.", "tools");
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var path = $"tools.{i++}";
                if (tool.ValueKind != JsonValueKind.Object) throw Bad($"{path}: must be an object.", path);
                if (tool.TryGetProperty("type", out var type) && type.ValueKind != JsonValueKind.Null && !type.ValueEquals("custom"))
                    throw Bad($"{path}.type: \"{type}\" is a server tool; Durar's Messages API takes custom tools only.", path + ".type");
                MessagesContentParser.OnlyKeys(tool, path, ToolKeys);
                var name = tool.TryGetProperty("name", out var nm) && nm.ValueKind == JsonValueKind.String && nm.GetString()!.Length > 0
                    ? nm.GetString()! : throw Bad($"{path}.name: Field required.", path + ".name");
                if (!tool.TryGetProperty("input_schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
                    throw Bad($"{path}.input_schema: Field required (a JSON schema object).", path + ".input_schema");
                w.WriteStartObject();
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", name);
                if (tool.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String) w.WriteString("description", d.GetString());
                w.WritePropertyName("parameters");
                schema.WriteTo(w);
                if (tool.TryGetProperty("strict", out var strict) && strict.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    w.WriteBoolean("strict", strict.ValueKind == JsonValueKind.True);
                w.WriteEndObject();
                if (tool.TryGetProperty("cache_control", out var cache) && cache.ValueKind == JsonValueKind.Object)
                {
                    w.WritePropertyName("cache_control");
                    cache.WriteTo(w);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    /// <summary><c>tool_choice</c> as the neutral (OpenAI-shaped) choice, and <c>disable_parallel_tool_use</c>.</summary>
    private static (JsonElement? Choice, bool? Parallel) ToolChoice(JsonElement root)
    {
        if (!root.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null) return (null, null);
        if (choice.ValueKind != JsonValueKind.Object) throw Bad("tool_choice: must be an object.", "tool_choice");
        var type = MessagesContentParser.TypeOf(choice, "tool_choice");
        MessagesContentParser.OnlyKeys(choice, "tool_choice", type == "tool" ? ["type", "name", "disable_parallel_tool_use"] : ["type", "disable_parallel_tool_use"]);
        var parallel = Bool(choice, "disable_parallel_tool_use", "tool_choice.disable_parallel_tool_use") is true ? false : (bool?)null;
        var json = type switch
        {
            "auto" => "\"auto\"",
            "any" => "\"required\"",
            "none" => "\"none\"",
            "tool" => choice.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString()!.Length > 0
                ? "{\"type\":\"function\",\"function\":{\"name\":" + JsonSerializer.Serialize(name.GetString()) + "}}"
                : throw Bad("tool_choice.tool.name: Field required.", "tool_choice.name"),
            _ => throw Bad($"tool_choice.type: must be auto, any, tool or none (got \"{type}\").", "tool_choice.type"),
        };
        using var doc = JsonDocument.Parse(json);
        return (doc.RootElement.Clone(), parallel);
    }

    private static ImmutableArray<string> StopSequences(JsonElement root)
    {
        if (!root.TryGetProperty("stop_sequences", out var stop) || stop.ValueKind == JsonValueKind.Null) return [];
        if (stop.ValueKind != JsonValueKind.Array || !stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String))
            throw Bad("stop_sequences: must be an array of strings.", "stop_sequences");
        return [.. stop.EnumerateArray().Select(s => s.GetString()!)];
    }

    /// <summary><c>metadata</c>: Anthropic's only field, <c>user_id</c>; any other is refused by name.</summary>
    private static string? UserId(JsonElement root)
    {
        if (!root.TryGetProperty("metadata", out var metadata) || metadata.ValueKind == JsonValueKind.Null) return null;
        if (metadata.ValueKind != JsonValueKind.Object) throw Bad("metadata: must be an object.", "metadata");
        MessagesContentParser.OnlyKeys(metadata, "metadata", ["user_id"]);
        if (!metadata.TryGetProperty("user_id", out var id) || id.ValueKind == JsonValueKind.Null) return null;
        return id.ValueKind == JsonValueKind.String ? id.GetString() : throw Bad("metadata.user_id: must be a string.", "metadata.user_id");
    }

    private static string? ServiceTier(JsonElement root)
    {
        if (!root.TryGetProperty("service_tier", out var tier) || tier.ValueKind == JsonValueKind.Null) return null;
        return tier.ValueKind == JsonValueKind.String && tier.GetString() is "auto" or "standard_only"
            ? tier.GetString() == "auto" ? "auto" : "default"
            : throw Bad("service_tier: must be auto or standard_only.", "service_tier");
    }

    private static double? Number(JsonElement o, string name, double min, double max)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number) throw Bad($"{name}: must be a number.", name);
        var d = v.GetDouble();
        return d < min || d > max ? throw Bad($"{name}: must be between {min} and {max}, got {v.GetRawText()}.", name) : d;
    }

    internal static bool? Bool(JsonElement o, string name, string? path = null)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad($"{path ?? name}: must be true or false.", path ?? name),
        };
    }

    /// <summary>A 400 <c>invalid_request_error</c>; <paramref name="param"/> names the field (in the message and <c>param</c>).</summary>
    internal static ApiErrorException Bad(string message, string? param = null) => new(ApiError.BadRequest(message, "invalid_request", param));
}
