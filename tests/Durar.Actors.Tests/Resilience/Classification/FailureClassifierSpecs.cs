using Durar.Actors.Resilience;
using static Durar.Actors.Resilience.FailoverReason;

namespace Durar.Actors.Tests.Resilience.Classification;

/// <summary>HTTP status mapping (item 40), precedence (item 41), codes (item 42), transport faults and the edges.</summary>
public class FailureClassifierSpecs
{
    /// <summary>(status, message, expected): one or more rows per branch of the status mapping.</summary>
    public static TheoryData<int, string?, FailoverReason> StatusRows { get; } = new()
    {
        // 400/422: the message classification if any, else format; a body-less one is no_error_details.
        { 400, "Unexpected field 'foo' in request", Format },
        { 422, "Unprocessable entity: messages[0].role", Format },
        { 400, null, NoErrorDetails },
        { 422, "   ", NoErrorDetails },
        { 400, "400 status code (no body)", NoErrorDetails },
        { 400, "prompt is too long: 250000 tokens > 200000 maximum", ContextOverflow },
        { 400, "Rate limit exceeded", RateLimit },
        { 400, "Invalid API key provided", Auth },
        { 400, "finish_reason: error", Format },

        // 401/403: permanent text, then token expiry, then billing text, else auth.
        { 401, "Unauthorized", Auth },
        { 401, null, Auth },
        { 403, "Forbidden", Auth },
        { 403, null, Auth },
        { 401, "API key revoked", AuthPermanent },
        { 403, "Your account has been deactivated", AuthPermanent },
        { 401, "Insufficient credits", Billing },
        { 403, "Your credit balance is too low", Billing },
        { 401, "Token has expired", Auth },
        { 401, "OAuth access token expired; usage limit reached", Auth },

        // 402: billing by default; rate_limit for refresh windows, rate-limit text and retryable wording.
        { 402, null, Billing },
        { 402, "402 Payment Required", Billing },
        { 402, "Payment Required", Billing },
        { 402, "Insufficient credits", Billing },
        { 402, "You have reached your daily limit", RateLimit },
        { 402, "Weekly usage limit reached", RateLimit },
        { 402, "You have hit your limit, please try again later", RateLimit },
        { 402, "Payment required, please try again", Billing },
        { 402, "Your organization has exceeded its monthly usage", Billing },
        { 402, "Your organization has reached its usage limit", RateLimit },
        { 402, "Rate limit exceeded", RateLimit },
        { 402, "You have reached your subscription quota limit; quota is restored by automatic quota refresh", RateLimit },

        // 404: model_not_found unless the text says session/billing/auth/overflow.
        { 404, null, ModelNotFound },
        { 404, "Not Found", ModelNotFound },
        { 404, "Session not found", SessionExpired },
        { 404, "Insufficient credits", Billing },
        { 404, "Invalid API key", Auth },
        { 404, "API key revoked", AuthPermanent },
        { 404, "prompt is too long", ContextOverflow },
        { 404, "Rate limit exceeded", ModelNotFound },

        { 408, null, FailoverReason.Timeout },
        { 408, "Rate limit exceeded", FailoverReason.Timeout },

        // 410: a generic 410 is a transport-like failure.
        { 410, null, FailoverReason.Timeout },
        { 410, "Gone", FailoverReason.Timeout },
        { 410, "session expired", SessionExpired },
        { 410, "Insufficient credits", Billing },
        { 410, "Invalid API key", Auth },
        { 410, "API key revoked", AuthPermanent },

        // 413: TPM → rate_limit (Groq), any other "too large" → context_overflow.
        { 413, "Request too large for model on tokens per minute (TPM): Limit 6000, Requested 7000", RateLimit },
        { 413, "Request Entity Too Large", ContextOverflow },
        { 413, null, ContextOverflow },

        // 429: rate_limit, except billing text and overload text.
        { 429, null, RateLimit },
        { 429, "Too Many Requests", RateLimit },
        { 429, """{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}""", RateLimit },
        { 429, "The service may be temporarily overloaded, please try again later", Overloaded },
        { 429, "429 The service may be temporarily overloaded, please try again later", Overloaded },
        { 429, "Insufficient balance", Billing },
        { 429, """{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota"}}""", Billing },
        { 429, "Rate limit reached; the service is overloaded", RateLimit },

        // 499/503: overloaded with overload text, else timeout.
        { 499, null, FailoverReason.Timeout },
        { 499, "Client closed request: upstream overloaded", Overloaded },
        { 503, null, FailoverReason.Timeout },
        { 503, "Service Unavailable", FailoverReason.Timeout },
        { 503, "The server is overloaded", Overloaded },
        { 503, "Service unavailable: no capacity", Overloaded },
        { 503, "Service unavailable due to high demand", Overloaded },
        { 503, "The model is at capacity", Overloaded },
        { 503, "Rate limit exceeded", FailoverReason.Timeout },

        // 500/502/504 and Cloudflare 520–524: timeout unless a structured server error.
        { 500, null, FailoverReason.Timeout },
        { 500, "Internal Server Error", FailoverReason.Timeout },
        { 500, """{"error":{"type":"server_error","message":"boom"}}""", ServerError },
        { 502, "Bad Gateway", FailoverReason.Timeout },
        { 502, "upstream overloaded", FailoverReason.Timeout },
        { 504, "Gateway Timeout", FailoverReason.Timeout },
        { 520, null, FailoverReason.Timeout },
        { 522, "Connection timed out", FailoverReason.Timeout },
        { 524, "A timeout occurred", FailoverReason.Timeout },

        { 529, null, Overloaded },
        { 529, "Rate limit exceeded", Overloaded },

        // Other 5xx: the message classification, else server_error.
        { 501, null, ServerError },
        { 505, "HTTP Version Not Supported", ServerError },
        { 507, "Rate limit exceeded", RateLimit },

        // Statuses without a rule: the message classification, else unclassified.
        { 409, null, Unclassified },
        { 418, "I'm a teapot", Unclassified },
        { 409, "Rate limit exceeded", RateLimit },
        { 200, "finish_reason: error", ServerError },
        { 200, "I'm fine", Unclassified },
    };

    /// <summary>(status, message, provider, expected): precedence between competing signals.</summary>
    public static TheoryData<int?, string, string?, FailoverReason> PrecedenceRows { get; } = new()
    {
        // Context overflow beats rate-limit text; TPM hints veto context overflow.
        { null, "Rate limit guard: prompt is too long: 250000 tokens > 200000 maximum", null, ContextOverflow },
        { null, "413 request too large: 12000 tokens per minute limit", null, RateLimit },
        // Session expiry and model-not-found beat everything textual.
        { null, "Session expired; rate limit exceeded", null, SessionExpired },
        { null, "Unknown model: gpt-9 (rate limit)", null, ModelNotFound },
        // 402 text beats generic billing/rate limit.
        { null, "HTTP 402: you hit the rate limit", null, RateLimit },
        // Refusal beats rate-limit and billing text.
        { null, "content_filter triggered; insufficient credits", null, Refusal },
        // OpenRouter key limit beats rate-limit text, only for OpenRouter.
        { 403, "Key limit exceeded", "openrouter", Billing },
        { 403, "Key limit exceeded", "anthropic", Auth },
        { 401, "Key limit exceeded", "openrouter/auto", Billing },
        // Periodic usage limits are billing when billing text is present.
        { null, "Daily usage limit reached. Insufficient credits.", null, Billing },
        { null, "Daily usage limit reached.", null, RateLimit },
        // Rate-limit text beats overload text; overload beats a bare 429 (#97009).
        { null, "Too many requests: the server is overloaded", null, RateLimit },
        { null, "Error 429: upstream overloaded", null, Overloaded },
        // Overload text beats structured server error and a leading 5xx.
        { null, """503 {"type":"server_error","message":"overloaded"}""", null, Overloaded },
        // Structured server errors beat leading 5xx, but not billing/auth text.
        { null, """500 {"type":"server_error","message":"boom"}""", null, ServerError },
        { null, """{"type":"server_error","message":"invalid api key"}""", null, Auth },
        { null, """{"type":"server_error","message":"insufficient credits"}""", null, Billing },
        // Leading transient codes beat billing and auth text.
        { null, "503 insufficient credits", null, FailoverReason.Timeout },
        { null, "529 Unauthorized", null, Overloaded },
        // Token expiry beats billing text; billing beats auth text; permanent auth beats auth.
        { null, "Token has expired; credit balance unaffected", null, Auth },
        { null, "Unauthorized: insufficient credits", null, Billing },
        { null, "Unauthorized: API key revoked", null, AuthPermanent },
        // Auth beats server-error and timeout text.
        { null, "Invalid API key (request timed out)", null, Auth },
        // Format beats timeout text; server-error text and timeout text both mean timeout.
        { null, "Invalid request format (stream closed)", null, Format },
        // Bedrock throttling at 400 is a rate limit; Volcengine InvalidSubscription at 400 is billing.
        { 400, "ThrottlingException: Too many tokens, please wait before trying again.", null, RateLimit },
        { 400, """{"error":{"code":"InvalidSubscription","message":"The coding plan has expired"}}""", null, Billing },
        // Z.ai 1311 is billing even at 403.
        { 403, """{"error":{"code":"1311","message":"The current plan does not include glm-5"}}""", null, Billing },
    };

    [Theory]
    [MemberData(nameof(StatusRows))]
    public void Should_map_each_http_status_branch(int status, string? message, FailoverReason expected)
    {
        Assert.Equal(expected, FailureClassifier.Classify(new UpstreamFailure(status, message)));
    }

    [Theory]
    [MemberData(nameof(PrecedenceRows))]
    public void Should_resolve_competing_signals_in_item_41_order(int? status, string message, string? provider, FailoverReason expected)
    {
        Assert.Equal(expected, FailureClassifier.Classify(new UpstreamFailure(status, message, ProviderId: provider)));
    }

    [Theory]
    [InlineData("401 Unauthorized", Auth)]
    [InlineData("HTTP 429 Too Many Requests", RateLimit)]
    [InlineData("Error: 404 Not Found", ModelNotFound)]
    [InlineData("400 Bad Request", Format)]
    [InlineData("status code 402", Billing)]
    [InlineData("HTTP/1.1 503 Service Unavailable", FailoverReason.Timeout)]
    [InlineData("418 I'm a teapot", Unclassified)]
    public void Should_infer_the_status_from_a_leading_http_code_when_none_is_given(string message, FailoverReason expected)
    {
        Assert.Equal(expected, FailureClassifier.Classify(new UpstreamFailure(null, message)));
    }

    [Theory]
    [InlineData("500 tokens were requested")]
    [InlineData("404.5 points scored")]
    [InlineData("the request had 400 messages")]
    public void Should_not_infer_a_status_from_numbers_that_are_not_http_codes(string message)
    {
        Assert.Equal(Unknown, FailureClassifier.Classify(new UpstreamFailure(null, message)));
    }

    [Theory]
    [InlineData("429", RateLimit)]
    [InlineData("503", FailoverReason.Timeout)]
    [InlineData("401", Auth)]
    public void Should_use_a_numeric_http_code_as_the_status_when_none_is_given(string code, FailoverReason expected)
    {
        Assert.Equal(expected, FailureClassifier.Classify(new UpstreamFailure(null, null, Code: code)));
    }

    [Theory]
    [InlineData(400, "RESOURCE_EXHAUSTED", RateLimit)]
    [InlineData(429, "RESOURCE_EXHAUSTED", RateLimit)]
    [InlineData(400, "context_length_exceeded", ContextOverflow)]
    [InlineData(503, "overloaded", Overloaded)]
    [InlineData(400, "1311", Billing)]
    [InlineData(429, "DEACTIVATED_WORKSPACE", AuthPermanent)]
    [InlineData(200, "provider_refusal", Refusal)]
    [InlineData(429, "content_filter", Refusal)]
    [InlineData(500, "ECONNRESET", FailoverReason.Timeout)]
    [InlineData(418, "rate_limit_exceeded", RateLimit)]
    [InlineData(null, "no_such_code", Unknown)]
    [InlineData(418, "no_such_code", Unclassified)]
    public void Should_combine_error_codes_with_the_status(int? status, string code, FailoverReason expected)
    {
        Assert.Equal(expected, FailureClassifier.Classify(new UpstreamFailure(status, null, Code: code)));
    }

    [Fact]
    public void Should_prefer_message_text_over_the_code()
    {
        var failure = new UpstreamFailure(null, "Invalid API key provided", Code: "rate_limit_exceeded");

        Assert.Equal(Auth, FailureClassifier.Classify(failure));
    }

    [Theory]
    [InlineData(500, "server_error", ServerError)]
    [InlineData(503, "overloaded_error", Overloaded)]
    [InlineData(500, "overloaded_error", FailoverReason.Timeout)]
    [InlineData(400, "authentication_error", Auth)]
    [InlineData(413, "request_too_large", ContextOverflow)]
    [InlineData(529, "api_error", Overloaded)]
    public void Should_combine_error_types_with_the_status(int status, string errorType, FailoverReason expected)
    {
        Assert.Equal(expected, FailureClassifier.Classify(new UpstreamFailure(status, null, ErrorType: errorType)));
    }

    [Theory]
    [InlineData(UpstreamTransportError.ConnectionRefused)]
    [InlineData(UpstreamTransportError.ConnectionReset)]
    [InlineData(UpstreamTransportError.HostUnreachable)]
    [InlineData(UpstreamTransportError.DnsFailure)]
    [InlineData(UpstreamTransportError.Timeout)]
    [InlineData(UpstreamTransportError.StreamCut)]
    [InlineData(UpstreamTransportError.MalformedStream)]
    public void Should_classify_every_transport_fault_as_timeout(Enum error) // Enum: the internal enum cannot be a public parameter
    {
        var transport = (UpstreamTransportError)error;
        Assert.Equal(FailoverReason.Timeout, FailureClassifier.Classify(new UpstreamFailure(null, null, Transport: transport)));
        Assert.Equal(FailoverReason.Timeout, FailureClassifier.Classify(new UpstreamFailure(200, "Invalid token in JSON at position 4", Transport: transport)));
    }

    [Theory]
    [InlineData("""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", Overloaded)]
    [InlineData("""{"type":"error","error":{"type":"rate_limit_error","message":"Rate limit"}}""", RateLimit)]
    [InlineData("""{"type":"server_error","message":"boom"}""", ServerError)]
    [InlineData("insufficient credits", FailoverReason.Timeout)]
    [InlineData("prompt is too long", FailoverReason.Timeout)]
    public void Should_keep_a_transient_provider_event_that_arrived_on_a_broken_stream(string message, FailoverReason expected)
    {
        var failure = new UpstreamFailure(200, message, Transport: UpstreamTransportError.StreamCut);

        Assert.Equal(expected, FailureClassifier.Classify(failure));
    }

    [Fact]
    public void Should_classify_normally_when_the_transport_is_none()
    {
        var failure = new UpstreamFailure(401, "Unauthorized", Transport: UpstreamTransportError.None);

        Assert.Equal(Auth, FailureClassifier.Classify(failure));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(null, "")]
    [InlineData(null, "  \n ")]
    [InlineData(200, null)]
    [InlineData(204, " ")]
    public void Should_report_an_empty_response_when_nothing_arrived(int? status, string? message)
    {
        Assert.Equal(EmptyResponse, FailureClassifier.Classify(new UpstreamFailure(status, message)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1000)]
    public void Should_ignore_a_status_outside_the_http_range(int status)
    {
        Assert.Equal(EmptyResponse, FailureClassifier.Classify(new UpstreamFailure(status, null)));
        Assert.Equal(Auth, FailureClassifier.Classify(new UpstreamFailure(status, "Unauthorized")));
    }

    [Theory]
    [InlineData(null, "something odd happened", Unknown)]
    [InlineData(418, "something odd happened", Unclassified)]
    [InlineData(302, null, Unclassified)]
    public void Should_tell_unknown_from_unclassified(int? status, string? message, FailoverReason expected)
    {
        Assert.Equal(expected, FailureClassifier.Classify(new UpstreamFailure(status, message)));
    }

    [Fact]
    public void Should_only_count_hard_markers_as_billing_in_messages_over_512_characters()
    {
        var padding = new string('x', FailureClassifier.BillingTextMaxLength);

        Assert.Equal(Billing, FailureClassifier.ClassifyMessage("insufficient credits " + padding[..100]));
        Assert.Null(FailureClassifier.ClassifyMessage("insufficient credits " + padding));
        Assert.Equal(Auth, FailureClassifier.Classify(new UpstreamFailure(401, "insufficient credits " + padding)));
        Assert.Equal(Billing, FailureClassifier.ClassifyMessage("HTTP 402: insufficient credits " + padding));
        Assert.Equal(Billing, FailureClassifier.ClassifyMessage("""{"code":1311} """ + padding));
        Assert.Equal(Billing, FailureClassifier.ClassifyMessage("InvalidSubscription " + padding));
    }

    [Fact]
    public void Should_count_a_message_of_exactly_512_characters_as_short()
    {
        var text = "insufficient credits ";
        text += new string('x', FailureClassifier.BillingTextMaxLength - text.Length);

        Assert.Equal(FailureClassifier.BillingTextMaxLength, text.Length);
        Assert.Equal(Billing, FailureClassifier.ClassifyMessage(text));
        Assert.Null(FailureClassifier.ClassifyMessage(text + "x"));
    }

    [Fact]
    public void Should_only_match_the_first_8_kilobytes_of_a_huge_body()
    {
        var head = new string(' ', 1) + new string('y', FailureClassifier.MaxClassifiedLength);

        Assert.Null(FailureClassifier.ClassifyMessage(head + " rate limit exceeded"));
        Assert.Equal(RateLimit, FailureClassifier.ClassifyMessage("rate limit exceeded " + head));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("all good, nothing to see")]
    public void Should_return_null_from_ClassifyMessage_when_nothing_matches(string message)
    {
        Assert.Null(FailureClassifier.ClassifyMessage(message));
    }

    [Fact]
    public void Should_reject_a_null_failure()
    {
        Assert.Throws<ArgumentNullException>(() => FailureClassifier.Classify(null!));
        Assert.Throws<ArgumentNullException>(() => FailureClassifier.IsKeyRotationTrigger(null!));
    }
}
