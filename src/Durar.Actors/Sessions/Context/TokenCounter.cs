using Durar.Actors.Chat;
using Durar.Actors.Models;
using Microsoft.ML.Tokenizers;

namespace Durar.Actors.Sessions.Context;

/// <summary>
/// Counts the tokens of a session turn's input, so a turn can be bounded by its model's context before it is sent (issue
/// 18). OpenAI-family models are counted exactly with their tiktoken encoding (<c>o200k_base</c> for GPT-4o, GPT-4.1,
/// GPT-4.5, GPT-5, gpt-oss and the o-series; <c>cl100k_base</c> for GPT-4 and GPT-3.5), through Microsoft.ML.Tokenizers
/// and its data packages; every other model gets the stated estimate: one token per four UTF-16 characters, rounded up.
/// </summary>
/// <remarks>
/// A chat message costs its text plus <see cref="PerMessage"/> tokens of framing (role, separators), a request
/// <see cref="PerRequest"/> more (the reply's priming): OpenAI's published rule for its chat models, used for every model.
/// A non-text part (an image, audio, a file) is counted as <see cref="PerAttachment"/> tokens whatever its size: the
/// providers price those by their own rules (tiles, seconds), which a gateway cannot reproduce. The tokenizers load once
/// per process, on first use.
/// </remarks>
internal sealed class TokenCounter
{
    /// <summary>Framing tokens per message (role and separators).</summary>
    public const int PerMessage = 4;

    /// <summary>Framing tokens per request (the assistant reply's priming).</summary>
    public const int PerRequest = 3;

    /// <summary>The estimate for one image, audio or file part.</summary>
    public const int PerAttachment = 1000;

    /// <summary>Characters per token of the estimate used for models without a known tokenizer.</summary>
    public const int CharsPerToken = 4;

    private static readonly Lazy<TokenCounter> O200k = new(() => new TokenCounter("o200k_base", 2, TiktokenTokenizer.CreateForEncoding("o200k_base")));
    private static readonly Lazy<TokenCounter> Cl100k = new(() => new TokenCounter("cl100k_base", 3, TiktokenTokenizer.CreateForEncoding("cl100k_base")));

    /// <summary>The estimate: <see cref="CharsPerToken"/> characters per token, rounded up.</summary>
    public static readonly TokenCounter Estimate = new("estimate", 1, null);

    private readonly Tokenizer? _tokenizer;

    private TokenCounter(string name, byte id, Tokenizer? tokenizer)
    {
        Name = name;
        Id = id;
        _tokenizer = tokenizer;
    }

    /// <summary><c>o200k_base</c>, <c>cl100k_base</c> or <c>estimate</c> (shown by <c>GET /v1/sessions/{key}</c>).</summary>
    public string Name { get; }

    /// <summary>A small number naming this counter in a cached count (never 0: 0 marks "not counted").</summary>
    public byte Id { get; }

    /// <summary>The o200k_base counter (loaded on first use).</summary>
    public static TokenCounter O200kBase => O200k.Value;

    /// <summary>The cl100k_base counter (loaded on first use).</summary>
    public static TokenCounter Cl100kBase => Cl100k.Value;

    /// <summary>The tokens of <paramref name="text"/>.</summary>
    public int Count(string? text) =>
        string.IsNullOrEmpty(text) ? 0 : _tokenizer?.CountTokens(text) ?? (text.Length + CharsPerToken - 1) / CharsPerToken;

    /// <summary>The tokens <paramref name="message"/> adds to a request: its framing, text, parts, reasoning and tool calls.</summary>
    public int Count(ChatMessage message)
    {
        var n = PerMessage + Count(message.Text) + Count(message.Reasoning) + Count(message.Refusal) + Count(message.Name);
        if (!message.Parts.IsDefaultOrEmpty)
            foreach (var part in message.Parts)
                n += part.Type is ContentPartTypes.Text or ContentPartTypes.Refusal ? Count(part.Text) : PerAttachment;
        if (!message.ToolCalls.IsDefaultOrEmpty)
            foreach (var call in message.ToolCalls)
                n += Count(call.Name) + Count(call.Arguments);
        return n;
    }

    /// <summary>
    /// The counter for <paramref name="model"/>: its tiktoken encoding when the model id (the part after the last
    /// <c>/</c>, so <c>openai/gpt-4o</c> behind a router counts too) names an OpenAI model, else <see cref="Estimate"/>.
    /// </summary>
    public static TokenCounter For(ResolvedModel? model) => For(model?.Model.Id);

    /// <inheritdoc cref="For(ResolvedModel?)"/>
    public static TokenCounter For(string? modelId)
    {
        if (modelId is null) return Estimate;
        var id = modelId[(modelId.LastIndexOf('/') + 1)..].ToLowerInvariant();
        if (Names(id, "gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-oss", "chatgpt-4o", "o1", "o3", "o4", "codex-mini")) return O200kBase;
        if (Names(id, "gpt-4", "gpt-3.5", "gpt-35")) return Cl100kBase;
        return Estimate;
    }

    /// <summary>Whether <paramref name="id"/> is one of <paramref name="families"/> or a version of one (followed by <c>-</c>, <c>.</c> or <c>:</c>).</summary>
    private static bool Names(string id, params string[] families)
    {
        foreach (var family in families)
            if (id.StartsWith(family, StringComparison.Ordinal) && (id.Length == family.Length || id[family.Length] is '-' or '.' or ':'))
                return true;
        return false;
    }
}
