namespace Durar.Actors.Chat;

/// <summary>Token usage in the normalized buckets the reference uses, plus the reasoning share of the output.</summary>
/// <param name="CacheRead">Input tokens served from the provider's prompt cache (OpenAI <c>cached_tokens</c>, Anthropic <c>cache_read_input_tokens</c>).</param>
/// <param name="CacheWrite">Input tokens written to the cache (Anthropic <c>cache_creation_input_tokens</c>).</param>
public sealed record TokenUsage(long Input, long Output, long CacheRead = 0, long CacheWrite = 0)
{
    /// <summary>Output tokens spent on reasoning (OpenAI <c>completion_tokens_details.reasoning_tokens</c>); part of <see cref="Output"/>.</summary>
    public long Reasoning { get; init; }

    public long Total => Input + Output;
    public static readonly TokenUsage Zero = new(0, 0);
    public TokenUsage Add(TokenUsage o) => new(Input + o.Input, Output + o.Output, CacheRead + o.CacheRead, CacheWrite + o.CacheWrite)
        { Reasoning = Reasoning + o.Reasoning };
}
