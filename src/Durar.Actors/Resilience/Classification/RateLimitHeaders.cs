using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

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
public sealed record RateLimitHints(TimeSpan? RetryAfter, bool Exhausted, TimeSpan? ResetIn)
{
    /// <summary>No hints at all.</summary>
    public static RateLimitHints None { get; } = new(null, false, null);
}

/// <summary>
/// Parses provider rate-limit headers and the Gemini error body into <see cref="RateLimitHints"/>. Malformed,
/// negative or past values are ignored and parsing never throws on them; values longer than
/// <see cref="MaxHint"/> are treated as malformed (they are usually epoch timestamps sent where a duration belongs).
/// </summary>
/// <remarks>
/// The <c>header</c> delegate is always called with <b>lower-case</b> header names (see <see cref="HeaderNames"/>);
/// back it with a case-insensitive lookup, since HTTP header names are case-insensitive.
/// </remarks>
public static class RateLimitHeaders
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

    // Go/OpenAI duration: "20ms", "1s", "6m0s", "1h2m3.5s". Units are case-sensitive ("m" is minutes, not months).
    private static readonly Regex GoDuration = new(
        @"^(?:(?<n>\d+(?:\.\d+)?)(?<u>ms|us|µs|μs|ns|h|m|s))+$",
        RegexOptions.CultureInvariant | RegexOptions.Compiled,
        PatternTable.MatchTimeout);

    private static readonly Regex PlainNumber = new(
        @"^\d+(?:\.\d+)?$",
        RegexOptions.CultureInvariant | RegexOptions.Compiled,
        PatternTable.MatchTimeout);

    private static readonly Regex Rfc3339 = new(
        @"^(?<y>\d{4})-(?<mo>\d{2})-(?<d>\d{2})[Tt ](?<h>\d{2}):(?<mi>\d{2}):(?<s>\d{2})(?:\.(?<f>\d{1,9}))?(?<z>[Zz]|[+-]\d{2}:\d{2})$",
        RegexOptions.CultureInvariant | RegexOptions.Compiled,
        PatternTable.MatchTimeout);

    private static readonly string[] HttpDateFormats =
    [
        "r",                                  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        "dddd, dd-MMM-yy HH:mm:ss 'GMT'",     // obsolete RFC 850
        "ddd MMM d HH:mm:ss yyyy",            // obsolete asctime
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

        longest = Longer(longest, ParseRetryAfter(header(RetryAfterHeader), now));
        longest = Longer(longest, ParseMilliseconds(header(RetryAfterMsHeader)));

        foreach (var bucket in Buckets)
        {
            var resetValue = header(bucket.ResetHeader);
            var reset = bucket.Format == ResetFormat.Duration
                ? ParseDuration(resetValue)
                : ParseFutureTimestamp(resetValue, now);

            // A bucket's reset only matters when that bucket is used up: OpenAI sends x-ratelimit-reset-tokens: 6m0s
            // on a 429 for requests while tokens are left, and counting it would overstate the wait.
            if (IsZero(header(bucket.RemainingHeader)))
            {
                exhausted = true;
                resetIn = Longer(resetIn, reset);
            }
        }

        longest = Longer(longest, resetIn);
        longest = Longer(longest, GeminiRetryDelay(errorBody));
        return new RateLimitHints(longest, exhausted, resetIn);
    }

    /// <summary>Parses a Go/OpenAI duration ("6m0s", "20ms", "1h2m3.5s") or plain seconds ("30"); null when malformed.</summary>
    public static TimeSpan? ParseDuration(string? value)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (SafeMatch(PlainNumber, text) is not null)
        {
            return Seconds(ParseNumber(text));
        }

        if (SafeMatch(GoDuration, text) is not { } match)
        {
            return null;
        }

        var numbers = match.Groups["n"].Captures;
        var units = match.Groups["u"].Captures;
        double seconds = 0;
        for (var i = 0; i < numbers.Count; i++)
        {
            seconds += ParseNumber(numbers[i].Value) * units[i].Value switch
            {
                "h" => 3600d,
                "m" => 60d,
                "s" => 1d,
                "ms" => 1e-3,
                "ns" => 1e-9,
                _ => 1e-6, // us, µs, μs
            };
        }

        return Seconds(seconds);
    }

    private static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (SafeMatch(PlainNumber, text) is not null)
        {
            return Seconds(ParseNumber(text));
        }

        if (DateTimeOffset.TryParseExact(
                text,
                HttpDateFormats,
                CultureInfo.InvariantCulture,
                DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                out var date))
        {
            return Until(date, now);
        }

        // Not standard, but some proxies send an RFC 3339 instant.
        return ParseFutureTimestamp(text, now);
    }

    private static TimeSpan? ParseMilliseconds(string? value)
    {
        var text = value?.Trim();
        return !string.IsNullOrEmpty(text) && SafeMatch(PlainNumber, text) is not null
            ? Seconds(ParseNumber(text) / 1000d)
            : null;
    }

    private static TimeSpan? ParseFutureTimestamp(string? value, DateTimeOffset now)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text) || SafeMatch(Rfc3339, text) is not { } m)
        {
            return null;
        }

        try
        {
            var offset = TimeSpan.Zero;
            var zone = m.Groups["z"].Value;
            if (zone is not ("Z" or "z"))
            {
                var sign = zone[0] == '-' ? -1 : 1;
                offset = sign * new TimeSpan(Int(zone[1..3]), Int(zone[4..6]), 0);
            }

            var instant = new DateTimeOffset(
                Int(m.Groups["y"].Value), Int(m.Groups["mo"].Value), Int(m.Groups["d"].Value),
                Int(m.Groups["h"].Value), Int(m.Groups["mi"].Value), Int(m.Groups["s"].Value),
                offset);

            if (m.Groups["f"].Success)
            {
                // Up to nanoseconds on the wire; ticks are 100 ns.
                var fraction = m.Groups["f"].Value.PadRight(7, '0')[..7];
                instant = instant.AddTicks(Int(fraction));
            }

            return Until(instant, now);
        }
        catch (ArgumentException)
        {
            // Out-of-range month/day/hour/offset (ArgumentOutOfRangeException derives from ArgumentException).
            return null;
        }
    }

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
                    longest = Longer(longest, RetryDelayOf(item));
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
                longest = Longer(longest, ParseDuration(delay.GetString()));
            }
        }

        return longest;
    }

    private static bool IsZero(string? value) =>
        decimal.TryParse(value?.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var remaining)
        && remaining == 0m;

    private static TimeSpan? Until(DateTimeOffset instant, DateTimeOffset now)
    {
        var delta = instant - now;
        return delta < TimeSpan.Zero || delta > MaxHint ? null : delta;
    }

    private static TimeSpan? Seconds(double seconds) =>
        double.IsFinite(seconds) && seconds >= 0 && seconds <= MaxHint.TotalSeconds
            ? TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond))
            : null;

    private static TimeSpan? Longer(TimeSpan? current, TimeSpan? candidate) =>
        candidate is null ? current : current is null || candidate > current ? candidate : current;

    private static double ParseNumber(string text) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            ? value
            : double.NaN;

    private static int Int(string digits) => int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);

    private static Match? SafeMatch(Regex regex, string text)
    {
        try
        {
            var match = regex.Match(text);
            return match.Success ? match : null;
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }
    }

    private sealed record Bucket(string RemainingHeader, string ResetHeader, ResetFormat Format);
}
