using System.Globalization;
using System.Text.RegularExpressions;

namespace Durar.Actors.Resilience;

/// <summary>
/// The value formats rate-limit hints arrive in (Go/OpenAI durations, plain or millisecond seconds, HTTP-dates, RFC 3339
/// instants), read forgivingly for <see cref="RateLimitHeaders"/>: a malformed, negative, past or implausibly long value
/// (over <see cref="RateLimitHeaders.MaxHint"/>) is null, never an exception.
/// </summary>
internal static class HintValues
{
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

    /// <summary>A Go/OpenAI duration ("6m0s", "20ms", "1h2m3.5s") or plain seconds ("30"); null when malformed.</summary>
    public static TimeSpan? Duration(string? value)
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

    /// <summary>A <c>Retry-After</c> value: delta seconds or an HTTP-date (or, from some proxies, an RFC 3339 instant).</summary>
    public static TimeSpan? RetryAfter(string? value, DateTimeOffset now)
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
        return FutureTimestamp(text, now);
    }

    /// <summary>A <c>retry-after-ms</c> value: milliseconds.</summary>
    public static TimeSpan? Milliseconds(string? value)
    {
        var text = value?.Trim();
        return !string.IsNullOrEmpty(text) && SafeMatch(PlainNumber, text) is not null
            ? Seconds(ParseNumber(text) / 1000d)
            : null;
    }

    /// <summary>An RFC 3339 instant, as the time left until it; null when it is past or malformed.</summary>
    public static TimeSpan? FutureTimestamp(string? value, DateTimeOffset now)
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

    /// <summary>A remaining-requests/tokens value of zero.</summary>
    public static bool IsZero(string? value) =>
        decimal.TryParse(value?.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var remaining)
        && remaining == 0m;

    private static TimeSpan? Until(DateTimeOffset instant, DateTimeOffset now)
    {
        var delta = instant - now;
        return delta < TimeSpan.Zero || delta > RateLimitHeaders.MaxHint ? null : delta;
    }

    private static TimeSpan? Seconds(double seconds) =>
        double.IsFinite(seconds) && seconds >= 0 && seconds <= RateLimitHeaders.MaxHint.TotalSeconds
            ? TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond))
            : null;

    /// <summary>The longer of two optional waits.</summary>
    public static TimeSpan? Longer(TimeSpan? current, TimeSpan? candidate) =>
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
}
