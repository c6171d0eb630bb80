using System.Text.Json;

namespace Durar.Actors.Resilience;

/// <summary>
/// Parses provider rate-limit headers and the Gemini error body into <see cref="RateLimitHints"/>. Malformed,
/// negative or past values are ignored and parsing never throws on them; values longer than
/// <see cref="MaxHint"/> are treated as malformed (they are usually epoch timestamps sent where a duration belongs).
/// </summary>
/// <remarks>
/// The <c>header</c> delegate is always called with <b>lower-case</b> header names (see <see cref="HeaderNames"/>);
/// back it with a case-insensitive lookup, since HTTP header names are case-insensitive.
/// </remarks>
internal static class RateLimitHeaders
{
    /// <summary>Standard Retry-After: delta seconds or an HTTP-date.</summary>
    public const string RetryAfterHeader = "retry-after";

    /// <summary>OpenAI/Anthropic SDK millisecond variant.</summary>
    public const string RetryAfterMsHeader = "retry-after-ms";

    /// <summary>Hints longer than this are ignored as malformed.</summary>
    public static readonly TimeSpan MaxHint = TimeSpan.FromDays(366);

    private static readonly Bucket[] Buckets =
    [
        new("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", ResetFormat.Duration),
        new("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", ResetFormat.Duration),
        new("anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset", ResetFormat.Timestamp),
        new("anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset", ResetFormat.Timestamp),
        new("anthropic-ratelimit-input-tokens-remaining", "anthropic-ratelimit-input-tokens-reset", ResetFormat.Timestamp),
        new("anthropic-ratelimit-output-tokens-remaining", "anthropic-ratelimit-output-tokens-reset", ResetFormat.Timestamp),
    ];

    private enum ResetFormat
    {
        Duration,
        Timestamp,
    }

    /// <summary>Every header name <see cref="Parse"/> asks for, lower-case.</summary>
    public static IReadOnlyList<string> HeaderNames { get; } =
        new[] { RetryAfterHeader, RetryAfterMsHeader }
            .Concat(Buckets.SelectMany(b => new[] { b.RemainingHeader, b.ResetHeader }))
            .ToArray();

    /// <summary>Parses the hints of one response.</summary>
    /// <param name="header">Returns a header's value (null when absent); called with lower-case names.</param>
    /// <param name="errorBody">The error body, for Gemini's <c>error.details[].retryDelay</c>; may be null or non-JSON.</param>
    /// <param name="now">The clock reading HTTP-dates and RFC 3339 timestamps are relative to.</param>
    public static RateLimitHints Parse(Func<string, string?> header, string? errorBody, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(header);

        TimeSpan? longest = null;
        TimeSpan? resetIn = null;
        var exhausted = false;

        longest = HintValues.Longer(longest, HintValues.RetryAfter(header(RetryAfterHeader), now));
        longest = HintValues.Longer(longest, HintValues.Milliseconds(header(RetryAfterMsHeader)));

        foreach (var bucket in Buckets)
        {
            var resetValue = header(bucket.ResetHeader);
            var reset = bucket.Format == ResetFormat.Duration
                ? HintValues.Duration(resetValue)
                : HintValues.FutureTimestamp(resetValue, now);

            // A bucket's reset only matters when that bucket is used up: OpenAI sends x-ratelimit-reset-tokens: 6m0s
            // on a 429 for requests while tokens are left, and counting it would overstate the wait.
            if (HintValues.IsZero(header(bucket.RemainingHeader)))
            {
                exhausted = true;
                resetIn = HintValues.Longer(resetIn, reset);
            }
        }

        longest = HintValues.Longer(longest, resetIn);
        longest = HintValues.Longer(longest, GeminiRetryDelay(errorBody));
        return new RateLimitHints(longest, exhausted, resetIn);
    }

    /// <summary>Parses a Go/OpenAI duration ("6m0s", "20ms", "1h2m3.5s") or plain seconds ("30"); null when malformed.</summary>
    public static TimeSpan? ParseDuration(string? value) => HintValues.Duration(value);

    /// <summary>The longest <c>error.details[].retryDelay</c> in a Gemini error body (object or array of objects).</summary>
    private static TimeSpan? GeminiRetryDelay(string? body)
    {
        var text = body?.Trim();
        if (string.IsNullOrEmpty(text) || !(text.StartsWith('{') || text.StartsWith('[')))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            TimeSpan? longest = null;
            if (root.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in root.EnumerateArray())
                {
                    longest = HintValues.Longer(longest, RetryDelayOf(item));
                }
            }
            else
            {
                longest = RetryDelayOf(root);
            }

            return longest;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static TimeSpan? RetryDelayOf(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("error", out var error)
            || error.ValueKind != JsonValueKind.Object
            || !error.TryGetProperty("details", out var details)
            || details.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        TimeSpan? longest = null;
        foreach (var detail in details.EnumerateArray())
        {
            if (detail.ValueKind == JsonValueKind.Object
                && detail.TryGetProperty("retryDelay", out var delay)
                && delay.ValueKind == JsonValueKind.String)
            {
                longest = HintValues.Longer(longest, HintValues.Duration(delay.GetString()));
            }
        }

        return longest;
    }

    private sealed record Bucket(string RemainingHeader, string ResetHeader, ResetFormat Format);
}
