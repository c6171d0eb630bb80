using System.Collections.Immutable;
using System.Net.Http.Headers;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.Anthropic;

/// <summary>
/// The <c>anthropic-messages</c> transport: <c>POST {baseUrl}/v1/messages</c>. Maps the neutral request onto Anthropic's
/// shape (system prompt out of the message list, tool calls as <c>tool_use</c>/<c>tool_result</c> blocks, images as
/// <c>image</c> sources) and its event stream back onto neutral events. Non-Anthropic hosts get no implicit beta headers.
/// </summary>
internal sealed class AnthropicMessagesTransport(IHttpClientFactory httpClients, UpstreamSettings upstream)
    : HttpChatTransport<AnthropicEvent>(httpClients, upstream)
{
    public const string ApiVersion = "2023-06-01";

    private static readonly SseFraming<AnthropicEvent> Sse = new(static (type, data) => AnthropicEvent.Parse(type, data));

    protected override IStreamFraming<AnthropicEvent> Framing => Sse;

    protected override string RequestPath(UpstreamCall call, bool stream) => "/v1/messages";

    /// <summary><c>x-api-key</c>, or <c>Authorization: Bearer</c> when the provider sets <c>authHeader</c> (proxies, OAuth tokens).</summary>
    protected override void AddAuthentication(HttpRequestHeaders headers, UpstreamCall call)
    {
        if (call.ApiKey is not { Length: > 0 } key) return;
        if (call.Target.Provider.AuthHeader) headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        else headers.TryAddWithoutValidation("x-api-key", key);
    }

    protected override void AddWireHeaders(HttpRequestHeaders headers, UpstreamCall call) =>
        headers.TryAddWithoutValidation("anthropic-version", ApiVersion);

    protected override IStreamDecoder<AnthropicEvent> NewStreamDecoder(UpstreamCall call) => new AnthropicStreamDecoder();

    protected override void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream)
    {
        var r = call.Request;
        var model = call.Target.Model;
        w.WriteStartObject();
        w.WriteString("model", model.Id);
        var maxTokens = r.MaxTokens ?? (int)Math.Min(int.MaxValue, call.Target.Provider.MaxTokens ?? model.MaxTokens);
        // Anthropic requires max_tokens above the thinking budget: the budget comes on top of the answer's own limit.
        if (r.ThinkingBudgetTokens is { } budget) maxTokens = (int)Math.Min(int.MaxValue, (long)maxTokens + budget);
        w.WriteNumber("max_tokens", maxTokens);
        if (r.ThinkingBudgetTokens is { } thinking)
        {
            w.WriteStartObject("thinking");
            w.WriteString("type", "enabled");
            w.WriteNumber("budget_tokens", thinking);
            w.WriteEndObject();
        }

        var system = string.Join("\n\n", r.Messages.Where(m => m.Role is "system" or "developer").Select(m => m.AllText).Where(t => t.Length > 0));
        if (system.Length > 0) w.WriteString("system", system);

        w.WriteStartArray("messages");
        foreach (var (role, blocks) in Group(r.Messages.Where(m => m.Role is not ("system" or "developer"))))
        {
            w.WriteStartObject();
            w.WriteString("role", role);
            w.WriteStartArray("content");
            foreach (var block in blocks) block(w);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();

        if (r.Temperature is { } t) w.WriteNumber("temperature", Math.Min(1.0, t)); // Anthropic's range is 0-1
        if (r.TopP is { } p) w.WriteNumber("top_p", p);
        if (!r.Stop.IsDefaultOrEmpty)
        {
            w.WriteStartArray("stop_sequences");
            foreach (var s in r.Stop) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        if (r.Tools is { ValueKind: JsonValueKind.Array } tools)
        {
            w.WriteStartArray("tools");
            foreach (var tool in tools.EnumerateArray())
            {
                if (!tool.TryGetProperty("function", out var fn)) continue;
                w.WriteStartObject();
                w.WriteString("name", fn.GetProperty("name").GetString());
                if (fn.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String) w.WriteString("description", d.GetString());
                w.WritePropertyName("input_schema");
                if (fn.TryGetProperty("parameters", out var schema) && schema.ValueKind == JsonValueKind.Object) schema.WriteTo(w);
                else { w.WriteStartObject(); w.WriteString("type", "object"); w.WriteEndObject(); }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (r.ToolChoice is { } choice)
        {
            w.WriteStartObject("tool_choice");
            if (choice.ValueKind == JsonValueKind.String)
                w.WriteString("type", choice.GetString() switch { "required" => "any", "none" => "none", _ => "auto" });
            else if (choice.TryGetProperty("function", out var f))
            {
                w.WriteString("type", "tool");
                w.WriteString("name", f.GetProperty("name").GetString());
            }
            else w.WriteString("type", "auto");
            w.WriteEndObject();
        }
        if (r.User is { } user)
        {
            w.WriteStartObject("metadata");
            w.WriteString("user_id", user);
            w.WriteEndObject();
        }
        if (call.Target.Provider.IsNativeAnthropic && r.FastMode is { } fast) w.WriteString("service_tier", fast ? "auto" : "standard_only");
        if (stream) w.WriteBoolean("stream", true);
        w.WriteEndObject();
    }

    /// <summary>Anthropic wants alternating user/assistant turns: consecutive same-role messages (tool results are user turns) merge.</summary>
    private static IEnumerable<(string Role, List<Action<Utf8JsonWriter>> Blocks)> Group(IEnumerable<ChatMessage> messages)
    {
        string? role = null;
        List<Action<Utf8JsonWriter>>? blocks = null;
        foreach (var m in messages)
        {
            var r = m.Role == "assistant" ? "assistant" : "user";
            if (r != role && blocks is { Count: > 0 })
            {
                yield return (role!, blocks);
                blocks = null;
            }
            role = r;
            blocks ??= [];
            blocks.AddRange(Blocks(m));
        }
        if (blocks is { Count: > 0 }) yield return (role!, blocks);
    }

    private static IEnumerable<Action<Utf8JsonWriter>> Blocks(ChatMessage m)
    {
        if (m.Role is "tool" or "function")
        {
            var text = m.AllText;
            yield return w =>
            {
                w.WriteStartObject();
                w.WriteString("type", "tool_result");
                w.WriteString("tool_use_id", m.ToolCallId ?? "");
                w.WriteString("content", text);
                w.WriteEndObject();
            };
            yield break;
        }
        if (!m.Parts.IsDefaultOrEmpty)
        {
            foreach (var part in m.Parts)
                yield return part.Type == "image_url" ? w => WriteImage(w, part.ImageUrl ?? "") : w => WriteText(w, part.Text ?? "");
        }
        else if (!string.IsNullOrEmpty(m.Text)) yield return w => WriteText(w, m.Text);
        foreach (var call in m.ToolCalls.IsDefault ? [] : m.ToolCalls)
            yield return w =>
            {
                w.WriteStartObject();
                w.WriteString("type", "tool_use");
                w.WriteString("id", call.Id);
                w.WriteString("name", call.Name);
                w.WritePropertyName("input");
                try
                {
                    using var args = JsonDocument.Parse(string.IsNullOrWhiteSpace(call.Arguments) ? "{}" : call.Arguments);
                    args.RootElement.WriteTo(w);
                }
                catch (JsonException)
                {
                    w.WriteStartObject();
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            };
    }

    private static void WriteText(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "text");
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    private static void WriteImage(Utf8JsonWriter w, string url)
    {
        w.WriteStartObject();
        w.WriteString("type", "image");
        w.WriteStartObject("source");
        if (url.StartsWith("data:", StringComparison.Ordinal) && url.IndexOf(";base64,", StringComparison.Ordinal) is var marker and > 5)
        {
            w.WriteString("type", "base64");
            w.WriteString("media_type", url[5..marker]);
            w.WriteString("data", url[(marker + 8)..]);
        }
        else
        {
            w.WriteString("type", "url");
            w.WriteString("url", url);
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    protected override ChatCompletion ParseCompletion(JsonElement root, string providerId)
    {
        if (root.TryGetProperty("type", out var type) && type.GetString() == "error")
        {
            var (message, errType, code) = UpstreamErrors.ExtractError(root);
            throw new UpstreamException(new UpstreamFailure(null, message, code, errType, providerId), UpstreamException.NoHints);
        }
        if (!root.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array)
            throw UpstreamErrors.Transport(providerId, UpstreamTransportError.MalformedStream, "upstream message has no content");
        var text = new System.Text.StringBuilder();
        var calls = ImmutableArray.CreateBuilder<ToolCall>();
        foreach (var block in content.EnumerateArray())
        {
            switch (block.TryGetProperty("type", out var t) ? t.GetString() : null)
            {
                case "text":
                    text.Append(block.GetProperty("text").GetString());
                    break;
                case "tool_use":
                    calls.Add(new ToolCall(block.GetProperty("id").GetString() ?? "", block.GetProperty("name").GetString() ?? "",
                        block.TryGetProperty("input", out var input) ? input.GetRawText() : "{}"));
                    break;
            }
        }
        var stop = root.TryGetProperty("stop_reason", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        return new ChatCompletion(
            text.Length == 0 && calls.Count > 0 ? null : text.ToString(),
            calls.ToImmutable(),
            AnthropicEvent.MapStopReason(stop),
            root.TryGetProperty("usage", out var u) ? AnthropicEvent.ParseUsage(u) : null,
            root.TryGetProperty("model", out var m) ? m.GetString() : null);
    }
}
