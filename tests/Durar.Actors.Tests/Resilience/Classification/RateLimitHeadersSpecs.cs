using Durar.Actors.Resilience;

namespace Durar.Actors.Tests.Resilience.Classification;

/// <summary>Retry-After, OpenAI/Anthropic rate-limit headers and Gemini retryDelay parsing.</summary>
public class RateLimitHeadersSpecs
{
    // A Sunday; HTTP-dates carry the day name and .NET checks it.
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly Dictionary<string, string> RemainingHeaderOf = new()
    {
        ["x-ratelimit-reset-requests"] = "x-ratelimit-remaining-requests",
        ["x-ratelimit-reset-tokens"] = "x-ratelimit-remaining-tokens",
        ["anthropic-ratelimit-requests-reset"] = "anthropic-ratelimit-requests-remaining",
        ["anthropic-ratelimit-tokens-reset"] = "anthropic-ratelimit-tokens-remaining",
        ["anthropic-ratelimit-input-tokens-reset"] = "anthropic-ratelimit-input-tokens-remaining",
        ["anthropic-ratelimit-output-tokens-reset"] = "anthropic-ratelimit-output-tokens-remaining",
    };

    /// <summary>(header, value, expected RetryAfter in seconds or null when the value must be ignored).</summary>
    public static TheoryData<string, string, double?> SingleHintRows { get; } = new()
    {
        { "retry-after", "30", 30 },
        { "retry-after", "0", 0 },
        { "retry-after", " 12 ", 12 },
        { "retry-after", "1.5", 1.5 },
        { "retry-after", "Sun, 01 Mar 2026 12:01:30 GMT", 90 },
        { "retry-after", "Sunday, 01-Mar-26 12:02:00 GMT", 120 },
        { "retry-after", "Sun Mar  1 12:03:00 2026", 180 },
        { "retry-after", "Sun, 01 Mar 2026 12:00:00 GMT", 0 },
        { "retry-after", "2026-03-01T12:00:10Z", 10 },
        { "retry-after", "Sun, 01 Mar 2026 11:59:00 GMT", null },
        { "retry-after", "Mon, 01 Mar 2026 12:01:30 GMT", null },
        { "retry-after", "-5", null },
        { "retry-after", "soon", null },
        { "retry-after", "", null },
        { "retry-after", "1e3", null },
        { "retry-after", "99999999999", null },
        { "retry-after-ms", "1500", 1.5 },
        { "retry-after-ms", "250.5", 0.2505 },
        { "retry-after-ms", "abc", null },
        { "retry-after-ms", "-1", null },
    };

    /// <summary>
    /// (reset header, reset value, the same bucket's remaining count, expected RetryAfter and ResetIn in seconds or null).
    /// A reset counts only when its bucket is used up; malformed resets are ignored.
    /// </summary>
    public static TheoryData<string, string, string, double?> ResetHintRows { get; } = new()
    {
        { "x-ratelimit-reset-requests", "1s", "0", 1 },
        { "x-ratelimit-reset-requests", "6m0s", "0", 360 },
        { "x-ratelimit-reset-requests", "20ms", "0", 0.02 },
        { "x-ratelimit-reset-requests", "1h2m3.5s", "0", 3723.5 },
        { "x-ratelimit-reset-requests", "0.5s", "0", 0.5 },
        { "x-ratelimit-reset-requests", "60", "0", 60 },
        { "x-ratelimit-reset-requests", "1x", "0", null },
        { "x-ratelimit-reset-requests", "s", "0", null },
        { "x-ratelimit-reset-requests", "1h-2m", "0", null },
        { "x-ratelimit-reset-requests", "1 s", "0", null },
        { "x-ratelimit-reset-requests", "5M", "0", null },
        { "x-ratelimit-reset-requests", "-1s", "0", null },
        { "x-ratelimit-reset-tokens", "7.66s", "0", 7.66 },
        { "x-ratelimit-reset-tokens", "100us", "0", 0.0001 },
        { "x-ratelimit-reset-tokens", "1500000ns", "0", 0.0015 },
        { "x-ratelimit-reset-tokens", "9000h", "0", null },
        { "anthropic-ratelimit-requests-reset", "2026-03-01T12:00:30Z", "0", 30 },
        { "anthropic-ratelimit-tokens-reset", "2026-03-01T13:00:45+01:00", "0", 45 },
        { "anthropic-ratelimit-input-tokens-reset", "2026-03-01T12:00:05.250Z", "0", 5.25 },
        { "anthropic-ratelimit-output-tokens-reset", "2026-03-01T12:01:00.123456789Z", "0", 60.1234567 },
        { "anthropic-ratelimit-requests-reset", "2026-03-01T11:00:00Z", "0", null },
        { "anthropic-ratelimit-requests-reset", "2026-13-01T00:00:00Z", "0", null },
        { "anthropic-ratelimit-requests-reset", "2026-03-01T12:00:30", "0", null },
        { "anthropic-ratelimit-requests-reset", "2026-03-01T12:00:30+25:00", "0", null },
        { "anthropic-ratelimit-requests-reset", "tomorrow", "0", null },
        { "x-ratelimit-reset-tokens", "6m0s", "1200", null },
        { "x-ratelimit-reset-requests", "1s", "1", null },
        { "anthropic-ratelimit-tokens-reset", "2026-03-01T12:00:45Z", "5000", null },
    };

    /// <summary>(Gemini error body, expected RetryAfter in seconds or null).</summary>
    public static TheoryData<string?, double?> GeminiBodyRows { get; } = new()
    {
        { """{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure"},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"30s"}]}}""", 30 },
        { """{"error":{"details":[{"retryDelay":"1.5s"}]}}""", 1.5 },
        { """[{"error":{"details":[{"retryDelay":"12s"}]}}]""", 12 },
        { """{"error":{"details":[{"retryDelay":"5s"},{"retryDelay":"40s"}]}}""", 40 },
        { """  {"error":{"details":[{"retryDelay":"0.500s"}]}}  """, 0.5 },
        { """{"error":{"details":[{"retryDelay":"soon"}]}}""", null },
        { """{"error":{"details":[{"retryDelay":30}]}}""", null },
        { """{"error":{"details":{"retryDelay":"30s"}}}""", null },
        { """{"error":{"message":"Resource has been exhausted"}}""", null },
        { """{"error":"quota"}""", null },
        { """{"error":{"details":[{"retryDelay":"30s"}]""", null },
        { "not json", null },
        { "null", null },
        { "", null },
        { null, null },
    };

    [Theory]
    [MemberData(nameof(SingleHintRows))]
    public void Should_read_each_kind_of_hint_and_ignore_malformed_values(string name, string value, double? expectedSeconds)
    {
        var hints = Parse(new() { [name] = value });

        Assert.Equal(Seconds(expectedSeconds), hints.RetryAfter);
        Assert.False(hints.Exhausted);
        Assert.Null(hints.ResetIn);
    }

    [Theory]
    [MemberData(nameof(ResetHintRows))]
    public void Should_count_a_reset_only_when_its_bucket_is_exhausted(string resetHeader, string value, string remaining, double? expectedSeconds)
    {
        var hints = Parse(new() { [resetHeader] = value, [RemainingHeaderOf[resetHeader]] = remaining });

        Assert.Equal(Seconds(expectedSeconds), hints.RetryAfter);
        Assert.Equal(Seconds(expectedSeconds), hints.ResetIn);
        Assert.Equal(remaining == "0", hints.Exhausted);
    }

    [Theory]
    [MemberData(nameof(GeminiBodyRows))]
    public void Should_read_gemini_retry_delay_from_the_error_body(string? body, double? expectedSeconds)
    {
        var hints = RateLimitHeaders.Parse(_ => null, body, Now);

        Assert.Equal(Seconds(expectedSeconds), hints.RetryAfter);
    }

    [Fact]
    public void Should_return_no_hints_when_nothing_is_present()
    {
        Assert.Equal(RateLimitHints.None, RateLimitHeaders.Parse(_ => null, null, Now));
    }

    [Fact]
    public void Should_take_the_longest_hint_present()
    {
        var hints = Parse(
            new()
            {
                ["retry-after"] = "10",
                ["retry-after-ms"] = "90000",
                ["x-ratelimit-reset-requests"] = "1s",
                ["x-ratelimit-remaining-tokens"] = "0",
                ["x-ratelimit-reset-tokens"] = "6m0s",
                ["anthropic-ratelimit-tokens-remaining"] = "0",
                ["anthropic-ratelimit-tokens-reset"] = "2026-03-01T12:02:00Z",
            },
            """{"error":{"details":[{"retryDelay":"30s"}]}}""");

        Assert.Equal(TimeSpan.FromMinutes(6), hints.RetryAfter);
    }

    [Theory]
    [InlineData("45", "40s", 45)]
    [InlineData("45", "50s", 50)]
    [InlineData("garbage", "50s", 50)]
    public void Should_let_a_gemini_retry_delay_win_when_it_is_longest(string retryAfter, string retryDelay, double expected)
    {
        var hints = Parse(
            new() { ["retry-after"] = retryAfter },
            $$$"""{"error":{"details":[{"retryDelay":"{{{retryDelay}}}"}]}}""");

        Assert.Equal(TimeSpan.FromSeconds(expected), hints.RetryAfter);
    }

    [Fact]
    public void Should_mark_exhausted_requests_and_report_their_reset()
    {
        var hints = Parse(new()
        {
            ["x-ratelimit-remaining-requests"] = "0",
            ["x-ratelimit-reset-requests"] = "1s",
            ["x-ratelimit-remaining-tokens"] = "1200",
            ["x-ratelimit-reset-tokens"] = "6m0s",
        });

        Assert.True(hints.Exhausted);
        Assert.Equal(TimeSpan.FromSeconds(1), hints.ResetIn);
        // The token bucket still has tokens: its 6m reset must not stretch the wait.
        Assert.Equal(TimeSpan.FromSeconds(1), hints.RetryAfter);
    }

    [Fact]
    public void Should_report_the_longest_reset_among_exhausted_buckets()
    {
        var hints = Parse(new()
        {
            ["x-ratelimit-remaining-requests"] = "0",
            ["x-ratelimit-reset-requests"] = "1s",
            ["x-ratelimit-remaining-tokens"] = "0",
            ["x-ratelimit-reset-tokens"] = "6m0s",
        });

        Assert.True(hints.Exhausted);
        Assert.Equal(TimeSpan.FromMinutes(6), hints.ResetIn);
    }

    [Theory]
    [InlineData("anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset", "2026-03-01T12:00:42Z")]
    [InlineData("anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset", "2026-03-01T12:00:42Z")]
    [InlineData("anthropic-ratelimit-input-tokens-remaining", "anthropic-ratelimit-input-tokens-reset", "2026-03-01T12:00:42Z")]
    [InlineData("anthropic-ratelimit-output-tokens-remaining", "anthropic-ratelimit-output-tokens-reset", "2026-03-01T12:00:42Z")]
    [InlineData("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", "42s")]
    [InlineData("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", "42s")]
    public void Should_detect_each_exhausted_bucket_with_its_own_reset(string remaining, string reset, string resetValue)
    {
        var headers = new Dictionary<string, string> { [remaining] = "0", [reset] = resetValue };
        // A later reset of a bucket that is not exhausted counts for neither ResetIn nor RetryAfter.
        if (reset == "x-ratelimit-reset-requests")
        {
            headers["x-ratelimit-reset-tokens"] = "10m0s";
        }
        else
        {
            headers["x-ratelimit-reset-requests"] = "10m0s";
        }

        var hints = Parse(headers);

        Assert.True(hints.Exhausted);
        Assert.Equal(TimeSpan.FromSeconds(42), hints.ResetIn);
        Assert.Equal(TimeSpan.FromSeconds(42), hints.RetryAfter);
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData(" 0 ", true)]
    [InlineData("0.0", true)]
    [InlineData("00", true)]
    [InlineData("1", false)]
    [InlineData("5000", false)]
    [InlineData("-1", false)]
    [InlineData("zero", false)]
    [InlineData("", false)]
    public void Should_only_treat_a_remaining_count_of_zero_as_exhausted(string remaining, bool expected)
    {
        var hints = Parse(new() { ["x-ratelimit-remaining-requests"] = remaining, ["x-ratelimit-reset-requests"] = "3s" });

        Assert.Equal(expected, hints.Exhausted);
        Assert.Equal(expected ? TimeSpan.FromSeconds(3) : null, hints.ResetIn);
        Assert.Equal(expected ? TimeSpan.FromSeconds(3) : null, hints.RetryAfter);
    }

    [Fact]
    public void Should_leave_reset_unknown_when_an_exhausted_bucket_has_no_usable_reset()
    {
        var hints = Parse(new()
        {
            ["anthropic-ratelimit-tokens-remaining"] = "0",
            ["anthropic-ratelimit-tokens-reset"] = "not a timestamp",
            ["retry-after"] = "7",
        });

        Assert.True(hints.Exhausted);
        Assert.Null(hints.ResetIn);
        Assert.Equal(TimeSpan.FromSeconds(7), hints.RetryAfter);
    }

    [Fact]
    public void Should_ask_for_header_names_in_lower_case_only()
    {
        var asked = new List<string>();

        RateLimitHeaders.Parse(name => { asked.Add(name); return null; }, null, Now);

        Assert.NotEmpty(asked);
        Assert.All(asked, name => Assert.Equal(name.ToLowerInvariant(), name));
        Assert.Equal(RateLimitHeaders.HeaderNames.OrderBy(n => n), asked.Distinct().OrderBy(n => n));
    }

    [Fact]
    public void Should_work_with_a_case_insensitive_lookup_over_mixed_case_headers()
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["Retry-After"] = "20",
            ["X-RateLimit-Remaining-Tokens"] = "0",
            ["X-RateLimit-Reset-Tokens"] = "25s",
        };

        var hints = RateLimitHeaders.Parse(name => headers.GetValueOrDefault(name), null, Now);

        Assert.Equal(new RateLimitHints(TimeSpan.FromSeconds(25), true, TimeSpan.FromSeconds(25)), hints);
    }

    [Fact]
    public void Should_reject_a_null_header_lookup()
    {
        Assert.Throws<ArgumentNullException>(() => RateLimitHeaders.Parse(null!, null, Now));
    }

    [Theory]
    [InlineData("2h", 7200)]
    [InlineData("1m30s", 90)]
    [InlineData("1.5h", 5400)]
    [InlineData("3µs", 0.000003)]
    [InlineData("0s", 0)]
    public void Should_parse_go_style_durations(string value, double expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromTicks((long)Math.Round(expectedSeconds * TimeSpan.TicksPerSecond)), RateLimitHeaders.ParseDuration(value));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ms")]
    [InlineData("1d")]
    [InlineData("1.s")]
    public void Should_reject_malformed_durations(string? value)
    {
        Assert.Null(RateLimitHeaders.ParseDuration(value));
    }

    private static RateLimitHints Parse(Dictionary<string, string> headers, string? body = null) =>
        RateLimitHeaders.Parse(name => headers.GetValueOrDefault(name), body, Now);

    private static TimeSpan? Seconds(double? seconds) =>
        seconds is { } s ? TimeSpan.FromTicks((long)Math.Round(s * TimeSpan.TicksPerSecond)) : null;
}
