namespace Durar.Actors.Chat;

/// <summary>
/// Token usage in the reference's normalized buckets (item 88), which do not overlap: <see cref="Input"/> is the input read
/// fresh, <see cref="CacheRead"/> the input served from the provider's prompt cache, <see cref="CacheWrite"/> the input
/// written to it. Each bucket has its own price (<see cref="Models.ModelPricing"/>). Wires that count otherwise are
/// normalized on the way in: OpenAI's <c>prompt_tokens</c> includes its <c>cached_tokens</c> (so <see cref="Input"/> is their
/// difference), Anthropic's <c>input_tokens</c> already excludes cache reads and writes. <see cref="Prompt"/> gives OpenAI's
/// inclusive count back (its <c>total_tokens</c> is <see cref="Prompt"/> + <see cref="Output"/>).
/// </summary>
/// <param name="CacheRead">Input tokens served from the provider's prompt cache (OpenAI <c>cached_tokens</c>, Anthropic <c>cache_read_input_tokens</c>).</param>
/// <param name="CacheWrite">Input tokens written to the cache (Anthropic <c>cache_creation_input_tokens</c>).</param>
public sealed record TokenUsage(long Input, long Output, long CacheRead = 0, long CacheWrite = 0)
{
    /// <summary>Output tokens spent on reasoning (OpenAI <c>completion_tokens_details.reasoning_tokens</c>); part of <see cref="Output"/>.</summary>
    public long Reasoning { get; init; }

    /// <summary>Every input token, cached or not: OpenAI's <c>prompt_tokens</c>.</summary>
    public long Prompt => Input + CacheRead + CacheWrite;

    /// <summary>Fresh input plus output, the reference's total (the cache buckets are shown and priced apart).</summary>
    public long Total => Input + Output;

    public static readonly TokenUsage Zero = new(0, 0);
    public TokenUsage Add(TokenUsage o) => new(Input + o.Input, Output + o.Output, CacheRead + o.CacheRead, CacheWrite + o.CacheWrite)
        { Reasoning = Reasoning + o.Reasoning };
}
