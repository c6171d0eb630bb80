using System.Collections.Immutable;
using Durar.Actors.Chat;
using Durar.Actors.Models;

namespace Durar.Actors.Transports.Bedrock;

/// <summary>
/// What of an OpenAI-shaped request crosses to Bedrock's Converse API, one rule per field: translated (messages, system, text
/// and image parts, tools and <c>tool_choice</c>, <c>response_format</c> as a forced tool (<see cref="BedrockJsonMode"/>), <c>max_tokens</c>, <c>temperature</c>, <c>top_p</c>, <c>stop</c>, and
/// <c>reasoning_effort</c> as Claude's thinking), left out on purpose and reported in <c>x-durar-dropped</c> (<c>user</c>,
/// <c>metadata</c>, <c>parallel_tool_calls: true</c>, which Converse has no field for and whose absence changes no answer),
/// or refused before any call (everything that would change the answer and has no Converse counterpart).
/// </summary>
internal static class BedrockFields
{
    public static UnsupportedField? Unsupported(ChatRequest r, ResolvedModel target)
    {
        var model = target.Model.Id;
        if (r.N is > 1) return Refuse("n", "n > 1 (Converse answers one choice)", model);
        if (r.Logprobs is true) return Refuse("logprobs", "logprobs", model);
        if (r.TopLogprobs is not null) return Refuse("top_logprobs", "top_logprobs", model);
        if (r.ResponseFormat is { } format
            && BedrockJsonMode.Refusal(r, format, r.ReasoningEffort is { } thinking && !ReasoningBudgets.IsOff(thinking)) is { } json)
            return Refuse("response_format", json, model);
        if (r.FrequencyPenalty is not null) return Refuse("frequency_penalty", "frequency_penalty", model);
        if (r.PresencePenalty is not null) return Refuse("presence_penalty", "presence_penalty", model);
        if (r.Seed is not null) return Refuse("seed", "seed", model);
        if (r.ServiceTier is not null) return Refuse("service_tier", "service_tier", model);
        if (r.ParallelToolCalls is false) return Refuse("parallel_tool_calls", "parallel_tool_calls: false", model);
        if (r.ReasoningEffort is { } effort && !ReasoningBudgets.IsOff(effort) && !IsClaude(model))
            return Refuse("reasoning_effort", "reasoning_effort (thinking is sent only to Anthropic models on Bedrock)", model);
        if (r.ReasoningEffort is { } level && !ReasoningBudgets.IsOff(level) && ReasoningBudgets.AnthropicBudgetTokens(level) is null)
            return Refuse("reasoning_effort", $"reasoning_effort \"{level}\"", model);
        foreach (var key in r.Extra.Keys) return Refuse(key, key, model);
        for (var i = 0; i < r.Messages.Length; i++)
        {
            var parts = r.Messages[i].Parts;
            for (var j = 0; j < parts.Length; j++)
            {
                var part = parts[j];
                if (part.Type == "text") continue;
                if (part.Type == "image_url" && BedrockImage.Parse(part.ImageUrl) is not null) continue;
                var what = part.Type == "image_url" ? "an image by URL (Converse takes image bytes: send a data: URL)" : $"a \"{part.Type}\" part";
                return Refuse($"messages[{i}].content[{j}]", what, model);
            }
        }
        return null;
    }

    public static ImmutableArray<string> Dropped(ChatRequest r)
    {
        var dropped = ImmutableArray.CreateBuilder<string>();
        if (r.User is not null) dropped.Add("user");
        if (r.Metadata is not null) dropped.Add("metadata");
        if (r.ParallelToolCalls is true) dropped.Add("parallel_tool_calls");
        return dropped.ToImmutable();
    }

    /// <summary>Claude on Bedrock (<c>anthropic.claude-…</c>, or a regional inference profile <c>us.anthropic.claude-…</c>).</summary>
    public static bool IsClaude(string modelId) => modelId.Contains("anthropic.claude", StringComparison.OrdinalIgnoreCase);

    private static UnsupportedField Refuse(string param, string what, string model) =>
        new(param, $"{what} cannot be sent to Bedrock model {model} (Converse API); remove it or choose another model.");
}

/// <summary>An OpenAI image part as Converse's <c>image</c> block: its format and base64 bytes, from a <c>data:</c> URL only.</summary>
internal static class BedrockImage
{
    public static (string Format, string Base64)? Parse(string? url)
    {
        if (url is null || !url.StartsWith("data:image/", StringComparison.OrdinalIgnoreCase)) return null;
        var comma = url.IndexOf(',');
        var semicolon = url.IndexOf(';');
        if (comma < 0 || semicolon < 0 || semicolon > comma || !url.AsSpan(semicolon, comma - semicolon).Equals(";base64", StringComparison.OrdinalIgnoreCase))
            return null;
        var format = url["data:image/".Length..semicolon].ToLowerInvariant() switch
        {
            "png" => "png",
            "jpeg" or "jpg" => "jpeg",
            "gif" => "gif",
            "webp" => "webp",
            _ => null,
        };
        return format is null ? null : (format, url[(comma + 1)..]);
    }
}
