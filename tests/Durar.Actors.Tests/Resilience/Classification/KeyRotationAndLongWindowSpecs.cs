using Durar.Actors.Resilience;

namespace Durar.Actors.Tests.Resilience.Classification;

/// <summary>Key rotation triggers (item 36) and long-window evidence (item 70).</summary>
public class KeyRotationAndLongWindowSpecs
{
    /// <summary>(status, message, code, provider, rotates).</summary>
    public static TheoryData<int?, string?, string?, string?, bool> RotationRows { get; } = new()
    {
        // Item 36's default matcher and documented extras.
        { null, "rate_limit_error", null, null, true },
        { null, "Rate limit reached for requests", null, null, true },
        { null, "Error 429", null, null, true },
        { null, "Quota exceeded for metric", null, null, true },
        { null, "quota_exceeded", null, null, true },
        { null, "Resource exhausted", null, null, true },
        { null, "RESOURCE_EXHAUSTED", null, null, true },
        { null, "Too many requests", null, null, true },
        { null, "Too many concurrent requests", null, null, true },
        { null, "ThrottlingException: Rate exceeded", null, null, true },
        { null, "Concurrency limit reached", null, null, true },
        { null, "workers_ai: quota limit exceeded", null, null, true },
        { null, "You have reached your weekly usage limit", null, null, true },
        // Statuses and codes.
        { 429, null, null, null, true },
        { 429, "Insufficient balance", null, null, true },
        { null, null, "RATE_LIMIT_EXCEEDED", null, true },
        { 400, "ThrottlingException", null, null, true },
        { 402, "You have reached your daily limit", null, null, true },
        { 413, "Request too large on tokens per minute (TPM)", null, null, true },
        // Rate-limit text wins over the status for rotation (the matcher is text-based).
        { 401, "Rate limit exceeded", null, null, true },
        { 402, "Monthly usage limit reached; insufficient credits", null, null, true },
        // Everything else fails without rotation.
        { 401, "Invalid API key", null, null, false },
        { 402, "Insufficient credits", null, null, false },
        { 400, "Invalid request format", null, null, false },
        { 500, "Internal Server Error", null, null, false },
        { 503, "Service Unavailable", null, null, false },
        { 404, "model_not_found", null, null, false },
        { null, "fetch failed", null, null, false },
        { 403, "Key limit exceeded", null, "openrouter", false },
        // Overloads and context overflows never rotate, even at 429 or with rate-limit words.
        { 429, "The service may be temporarily overloaded, please try again later", null, null, false },
        { 529, "Overloaded", null, null, false },
        { null, "prompt is too long (rate limit guard)", null, null, false },
    };

    [Theory]
    [MemberData(nameof(RotationRows))]
    public void Should_rotate_keys_only_on_rate_limits(int? status, string? message, string? code, string? provider, bool expected)
    {
        var failure = new UpstreamFailure(status, message, Code: code, ProviderId: provider);

        Assert.Equal(expected, FailureClassifier.IsKeyRotationTrigger(failure));
    }

    [Theory]
    [InlineData(UpstreamTransportError.Timeout)]
    [InlineData(UpstreamTransportError.ConnectionReset)]
    public void Should_not_rotate_keys_on_transport_faults(Enum error) // Enum: the internal enum cannot be a public parameter
    {
        var transport = (UpstreamTransportError)error;
        var failure = new UpstreamFailure(429, "rate limit", Transport: transport);

        Assert.False(FailureClassifier.IsKeyRotationTrigger(failure));
    }

    [Theory]
    [InlineData("You have reached your daily usage limit", true)]
    [InlineData("Weekly/monthly limits exhausted", true)]
    [InlineData("Rate limit reached: 100000 tokens per day (TPD)", true)]
    [InlineData("Quota exceeded for GenerateRequestsPerDayPerProjectPerModel", true)]
    [InlineData("Monthly quota used up", true)]
    [InlineData("Rate limit reached for requests per min (RPM)", false)]
    [InlineData("Too many requests, try again in 20s", false)]
    [InlineData("tokens per minute (TPM) limit reached", false)]
    [InlineData("", false)]
    public void Should_detect_daily_weekly_and_monthly_windows(string message, bool expected)
    {
        Assert.Equal(expected, FailureClassifier.HasLongWindowEvidence(message));
    }
}
