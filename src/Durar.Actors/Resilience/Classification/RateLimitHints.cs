namespace Durar.Actors.Resilience;

/// <summary>
/// What one rate-limited (or otherwise retryable) response says about when to try again. It exists so cooldowns
/// and retry delays honour the provider's own hints end to end (a frequent LiteLLM complaint, peer-gateways §3.2)
/// instead of a fixed backoff.
/// </summary>
/// <param name="RetryAfter">
/// The longest wait any hint asks for (Retry-After, retry-after-ms, Gemini retryDelay, and <paramref name="ResetIn"/>);
/// null when none. Reset headers of buckets that are not exhausted do not count.
/// </param>
/// <param name="Exhausted">Whether a remaining-requests/tokens header reported 0.</param>
/// <param name="ResetIn">When <paramref name="Exhausted"/>, the longest reset among the exhausted buckets; null when they carry no reset.</param>
internal sealed record RateLimitHints(TimeSpan? RetryAfter, bool Exhausted, TimeSpan? ResetIn)
{
    /// <summary>No hints at all.</summary>
    public static RateLimitHints None { get; } = new(null, false, null);
}
