using Durar.Actors.Resilience;
using static Durar.Actors.Resilience.FailoverReason;

namespace Durar.Actors.Tests.Resilience.Classification;

/// <summary>User-facing copy (item 48).</summary>
public class UserMessageSpecs
{
    private const string BillingWithModel =
        "⚠️ openai (gpt-4o) returned a billing error — your API key has run out of credits or has an insufficient balance. Check your openai billing dashboard and top up or switch to a different API key.";

    private const string BillingWithProvider =
        "⚠️ openai returned a billing error — your API key has run out of credits or has an insufficient balance. Check your openai billing dashboard and top up or switch to a different API key.";

    private const string BillingAnonymous =
        "⚠️ API provider returned a billing error — your API key has run out of credits or has an insufficient balance. Check your provider's billing dashboard and top up or switch to a different API key.";

    /// <summary>(reason, status, message, transport (an <see cref="UpstreamTransportError"/>, internal), provider, model, expected copy).</summary>
    public static TheoryData<FailoverReason, int?, string?, Enum?, string, string, string> CopyRows { get; } = new()
    {
        { RateLimit, 429, "Too Many Requests", null, "openai", "gpt-4o", "⚠️ API rate limit reached. Please try again later." },
        { RateLimit, 429, null, null, "openai", "gpt-4o", "⚠️ API rate limit reached. Please try again later." },
        { RateLimit, 429, "Rate limit exceeded. " + new string('z', 300) + " Try again in 5 minutes.", null, "openai", "gpt-4o", "⚠️ API rate limit reached. Please try again later." },
        { RateLimit, 429, """{"error":{"message":"{\"nested\":\"quota\"}"}}""", null, "openai", "gpt-4o", "⚠️ API rate limit reached. Please try again later." },
        { RateLimit, 429, "<html><body>429 Too Many Requests, retry in 30 seconds</body></html>", null, "openai", "gpt-4o", "⚠️ API rate limit reached. Please try again later." },
        { RateLimit, 429, "Quota exceeded: please try again in 42s (reset at 12:00)", null, "gemini", "gemini-2.5-pro", "⚠️ Quota exceeded: please try again in 42s (reset at 12:00)" },
        { Overloaded, 529, "Overloaded", null, "anthropic", "claude", "The AI service is temporarily overloaded. Please try again in a moment." },
        { Overloaded, 503, "Selected model is at capacity", null, "openai", "gpt-4o", "⚠️ Selected model is at capacity. Try a different model, or wait and retry." },
        { Billing, 402, "Insufficient credits", null, "openai", "gpt-4o", BillingWithModel },
        { Billing, 402, null, null, " openai ", "  ", BillingWithProvider },
        { Billing, 402, null, null, "", "gpt-4o", BillingAnonymous },
        { FailoverReason.Timeout, 408, null, null, "openai", "gpt-4o", "LLM request timed out." },
        { FailoverReason.Timeout, 504, "Gateway Timeout", null, "openai", "gpt-4o", "LLM request timed out." },
        { FailoverReason.Timeout, null, "request timed out", null, "openai", "gpt-4o", "LLM request timed out." },
        { FailoverReason.Timeout, 502, "Bad Gateway", null, "openai", "gpt-4o", "The AI service is temporarily unavailable (HTTP 502). Please try again in a moment." },
        { FailoverReason.Timeout, null, null, UpstreamTransportError.Timeout, "openai", "gpt-4o", "LLM request timed out." },
        { FailoverReason.Timeout, null, null, UpstreamTransportError.ConnectionRefused, "ollama", "llama3", "LLM request failed: connection refused by the provider endpoint." },
        { FailoverReason.Timeout, null, null, UpstreamTransportError.ConnectionReset, "openai", "gpt-4o", "LLM request failed: network connection was interrupted." },
        { FailoverReason.Timeout, null, null, UpstreamTransportError.HostUnreachable, "openai", "gpt-4o", "LLM request failed: the provider endpoint is unreachable from this host." },
        { FailoverReason.Timeout, null, null, UpstreamTransportError.DnsFailure, "openai", "gpt-4o", "LLM request failed: DNS lookup for the provider endpoint failed." },
        { FailoverReason.Timeout, 200, null, UpstreamTransportError.StreamCut, "openai", "gpt-4o", "LLM request failed: the provider stream ended before the response was complete." },
        { FailoverReason.Timeout, 200, null, UpstreamTransportError.MalformedStream, "openai", "gpt-4o", "LLM streaming response contained a malformed fragment. Please try again." },
        { ContextOverflow, 400, "prompt is too long", null, "anthropic", "claude", "Context overflow: prompt too large for the model. Try /reset (or /new) to start a fresh session, or use a larger-context model." },
        { Auth, 401, "Invalid API key", null, "openai", "gpt-4o", "⚠️ openai (gpt-4o) rejected the credentials. Check the API key or re-authenticate, then try again." },
        { Auth, 401, null, null, "", "", "⚠️ The API provider rejected the credentials. Check the API key or re-authenticate, then try again." },
        { AuthPermanent, 401, "API key revoked", null, "openai", "", "⚠️ openai reports the API key or account is revoked or deactivated. Replace the credential for this provider." },
        { Format, 400, "tool_use_id mismatch", null, "anthropic", "claude", "LLM request failed: provider rejected the request schema or tool payload." },
        { ModelNotFound, 404, null, null, "openai", "gpt-9", "The selected model was not found by the provider. Check the model id or choose a different model." },
        { SessionExpired, 410, "session expired", null, "claude-cli", "opus", "The provider session has expired. Start a new session (/new) and try again." },
        { ServerError, 500, """{"type":"server_error"}""", null, "openai", "gpt-4o", "The AI service reported an internal error. Please try again in a moment." },
        { EmptyResponse, null, null, null, "openai", "gpt-4o", "LLM request failed: the provider returned an empty response." },
        { NoErrorDetails, 400, null, null, "openai", "gpt-4o", "LLM request failed: the provider returned an error without details." },
        { Unclassified, 418, "teapot", null, "openai", "gpt-4o", "LLM request failed (HTTP 418)." },
        { Unclassified, null, "odd", null, "openai", "gpt-4o", "LLM request failed." },
        { Unknown, null, "something odd happened", null, "openai", "gpt-4o", "LLM request failed." },
        { Refusal, 400, "content_filter", null, "azure", "gpt-4o", "The model declined to generate this response. Try rephrasing your request, or switch to a different model." },
    };

    [Theory]
    [MemberData(nameof(CopyRows))]
    public void Should_produce_the_user_facing_copy_for_each_reason(
        FailoverReason reason, int? status, string? message, Enum? transport, string provider, string model, string expected)
    {
        var failure = new UpstreamFailure(status, message, Transport: (UpstreamTransportError?)transport);

        Assert.Equal(expected, FailureClassifier.UserMessage(reason, failure, provider, model));
    }

    [Fact]
    public void Should_have_copy_for_every_reason()
    {
        var failure = new UpstreamFailure(500, "boom");

        foreach (var reason in FailoverReasons.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(FailureClassifier.UserMessage(reason, failure, "openai", "gpt-4o")));
        }
    }

    [Fact]
    public void Should_never_echo_raw_provider_text_outside_rate_limits()
    {
        const string secret = "sk-live-123 internal trace at db01";
        var failure = new UpstreamFailure(500, secret + " quota reset in 5 minutes");

        foreach (var reason in FailoverReasons.All.Where(r => r != RateLimit))
        {
            Assert.DoesNotContain("sk-live-123", FailureClassifier.UserMessage(reason, failure, "openai", "gpt-4o"));
        }
    }

    [Fact]
    public void Should_quote_at_most_300_characters_of_provider_rate_limit_text()
    {
        var atLimit = "Rate limit: try again in 5 minutes " + new string('x', FailureCopy.MaxQuotedRateLimitLength - 35);
        Assert.Equal(FailureCopy.MaxQuotedRateLimitLength, atLimit.Length);

        Assert.Equal("⚠️ " + atLimit, FailureClassifier.UserMessage(RateLimit, new UpstreamFailure(429, atLimit), "openai", "gpt-4o"));
        Assert.Equal(FailureCopy.RateLimit, FailureClassifier.UserMessage(RateLimit, new UpstreamFailure(429, atLimit + "x"), "openai", "gpt-4o"));
    }
}
