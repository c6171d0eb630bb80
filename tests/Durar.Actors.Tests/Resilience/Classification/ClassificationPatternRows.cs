using Durar.Actors.Resilience;
using static Durar.Actors.Resilience.FailoverReason;
using T = Durar.Actors.Resilience.ClassificationPatterns;

namespace Durar.Actors.Tests.Resilience.Classification;

/// <summary>
/// Test rows proving every pattern in <see cref="ClassificationPatterns"/> matches something real and yields the
/// intended result. <see cref="ClassificationPatternSpecs"/> runs them and checks that every regex of every
/// table is matched by at least one row of its own table.
/// </summary>
public static class ClassificationPatternRows
{
    /// <summary>
    /// (table, sample message, expected reason, HTTP status, provider). With no status the row is checked with
    /// <see cref="FailureClassifier.ClassifyMessage"/>, otherwise with <see cref="FailureClassifier.Classify"/>.
    /// </summary>
    public static TheoryData<string, string, FailoverReason, int?, string?> MessageRows { get; } = new()
    {
        // Image errors are "no reason"; with a 400 they become format.
        { nameof(T.ImageRejection), "Image dimensions exceed max allowed size for many-image requests: 2000 pixels", Format, 400, null },
        { nameof(T.ImageRejection), "messages.0.content.1.image: image exceeds 5 MB maximum", Format, 400, null },

        { nameof(T.SessionExpired), "Session not found: 7f3a", SessionExpired, null, null },
        { nameof(T.SessionExpired), "conversation id not found", SessionExpired, null, null },
        { nameof(T.SessionExpired), "Your session has expired", SessionExpired, null, null },
        { nameof(T.SessionExpired), "No such session: abc", SessionExpired, null, null },
        { nameof(T.SessionExpired), "no conversation found for id 9", SessionExpired, null, null },
        { nameof(T.SessionExpired), "Invalid session id supplied", SessionExpired, null, null },

        { nameof(T.ModelNotFound), "No endpoints found for meta-llama/llama-3-70b.", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "router not found", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "Unknown model: gpt-9", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "The model claude-2.0 was retired on 2025-01-01", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "llama2:7b was retired at 2025-01-01 00:00:00 +0000 UTC (ref: abc)", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "model_not_found", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "Requested model foo-bar was not found", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "404 page not found", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), """{"type":"error","error":{"type":"not_found_error","message":"claude-x"}}""", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "not supported model: qwen-max-9", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "The 'gpt-5-pro' model is not supported when using Codex with a ChatGPT account.", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "models/gemini-9-pro is not found for API version v1beta", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "The model `gpt-5` does not exist or you do not have access to it.", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "The model text-davinci-003 has been deprecated, please transition to gpt-3.5-turbo-instruct", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "'gpt-x' is not a valid model ID", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "Invalid model: foo", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "model_is_deactivated", ModelNotFound, null, null },
        { nameof(T.ModelNotFound), "The model `mixtral-8x7b` has been deactivated", ModelNotFound, null, null },

        // Groq's TPM 413 is a rate limit, not an overflow.
        { nameof(T.TokensPerMinute), "Request too large for model `llama3-70b-8192` in organization `org_1` on tokens per minute (TPM): Limit 6000, Requested 7000", RateLimit, 413, null },
        { nameof(T.TokensPerMinute), "413 Request too large: tokens per min exceeded", RateLimit, null, null },
        { nameof(T.TokensPerMinute), "Limit reached: 30000 TPM", RateLimit, null, null },

        { nameof(T.ContextOverflow), """{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum size"}}""", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "INVALID_ARGUMENT: The input token count exceeds the maximum number of tokens allowed", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "request exceeds the maximum size", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "Ollama error: context length exceeded, too many tokens", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "prompt is too long: 210000 tokens > 200000 maximum", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "Input exceeds model context window", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "Request exceeds the model's maximum context", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "model token limit reached", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "Input exceeds the maximum number of tokens", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "The context window ran out of room", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "Request size exceeds the context window", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "Context overflow: prompt too large", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "messages exceed context limit", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "max_tokens would exceed the context of the model", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "input length and max_tokens exceed context limit (i.e 120000 + 9000 > 128000)", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "413 Payload too large", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "Unhandled stop reason: model_context_window_exceeded", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), """{"error":{"code":"context_length_exceeded"}}""", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "上下文过长，请压缩上下文", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "The input token count exceeds the maximum number of input tokens", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "Input is too long for this model", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "tokens in request more than max tokens allowed", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "too many tokens: total tokens (12000) exceeds the maximum", ContextOverflow, null, null },
        { nameof(T.ContextOverflow), "request (66202 tokens) exceeds the available context size (65536 tokens), try increasing it", ContextOverflow, null, null },

        { nameof(T.PaymentRequiredMarkers), """{"error":{"code":402,"message":"This request needs a paid account"}}""", Billing, null, null },
        { nameof(T.PaymentRequiredMarkers), "HTTP 402: insufficient credits", Billing, null, null },
        { nameof(T.PaymentRequiredMarkers), "error code: 402", Billing, null, null },
        { nameof(T.PaymentRequiredMarkers), "provider returned 402 for this key", Billing, null, null },
        { nameof(T.PaymentRequiredMarkers), "402 Payment Required", Billing, null, null },
        { nameof(T.PaymentRequiredMarkers), "HTTP 402: daily usage limit reached, try again tomorrow", RateLimit, null, null },

        { nameof(T.QuotaRefreshWindow), "You have reached your subscription quota limit. It refills on an automatic quota refresh.", RateLimit, 402, null },
        { nameof(T.QuotaRefreshWindow), "402 subscription quota limit hit; usage is measured over a rolling time window", RateLimit, null, null },

        { nameof(T.PaymentRequiredBilling), "Insufficient balance. Please try again after the daily limit resets", Billing, 402, null },
        { nameof(T.PaymentRequiredBilling), "Your credit balance is too low to access the API", Billing, 402, null },
        { nameof(T.PaymentRequiredBilling), "Go to plans & billing to continue", Billing, 402, null },
        { nameof(T.PaymentRequiredBilling), "Please add more credits to continue", Billing, 402, null },
        { nameof(T.PaymentRequiredBilling), "Top up your account to continue", Billing, 402, null },
        { nameof(T.PaymentRequiredBilling), "Upgrade your plan to raise this limit", Billing, 402, null },
        { nameof(T.PaymentRequiredBilling), "Billing hard limit has been reached", Billing, 402, null },
        { nameof(T.PaymentRequiredBilling), "You reached the maximum allowed spend limit", Billing, 402, null },

        { nameof(T.Retryable402), "You have hit your limit, please try again later", RateLimit, 402, null },
        { nameof(T.Retryable402), "Daily spend limit reached for this key", RateLimit, 402, null },
        { nameof(T.Retryable402), "The weekly request limit will reset on Monday", RateLimit, 402, null },
        { nameof(T.Retryable402), "Your organization has exceeded its spending limit for this billing period", RateLimit, 402, null },

        { nameof(T.Refusal), "provider_refusal", Refusal, null, null },
        { nameof(T.Refusal), "The response was filtered due to the prompt triggering Azure OpenAI's content filtering policy", Refusal, null, null },
        { nameof(T.Refusal), """{"stop_reason":"refusal"}""", Refusal, null, null },
        { nameof(T.Refusal), "ResponsibleAIPolicyViolation", Refusal, 400, null },

        { nameof(T.OpenRouterKeyLimit), "Key limit exceeded", Billing, null, "openrouter" },
        { nameof(T.OpenRouterKeyLimit), "API key budget limit reached", Billing, 403, "openrouter" },

        { nameof(T.PeriodicUsageLimit), "You have reached your daily usage limit", RateLimit, null, null },
        { nameof(T.PeriodicUsageLimit), "Monthly limit reached: insufficient credits", Billing, null, null },
        { nameof(T.PeriodicUsageLimit), "您已达到每周使用上限", RateLimit, null, null },
        { nameof(T.PeriodicUsageLimit), "You have hit your ChatGPT usage limit (plus plan)", RateLimit, null, null },

        { nameof(T.RateLimit), "Rate limit reached for gpt-4o in organization org-1 on requests per min", RateLimit, null, null },
        { nameof(T.RateLimit), "Too many concurrent requests", RateLimit, null, null },
        { nameof(T.RateLimit), "ThrottlingException: Rate exceeded", RateLimit, 400, null },
        { nameof(T.RateLimit), "model_cooldown: try later", RateLimit, null, null },
        { nameof(T.RateLimit), "You exceeded your current quota, please check your plan and billing details.", RateLimit, null, null },
        { nameof(T.RateLimit), "Resource has been exhausted (e.g. check quota).", RateLimit, null, null },
        { nameof(T.RateLimit), "Quota exceeded for quota metric 'Generate Content API requests'", RateLimit, null, null },
        { nameof(T.RateLimit), """{"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}""", RateLimit, null, null },
        { nameof(T.RateLimit), "usage limit reached", RateLimit, null, null },
        { nameof(T.RateLimit), "Limit on tokens per day reached", RateLimit, null, null },
        { nameof(T.RateLimit), "You sent more than 60 requests per minute", RateLimit, null, null },
        { nameof(T.RateLimit), "请求过于频繁，请稍后再试", RateLimit, null, null },
        { nameof(T.RateLimit), "触发限流", RateLimit, null, null },
        { nameof(T.RateLimit), "额度不足", RateLimit, null, null },

        { nameof(T.ModelAtCapacity), "Selected model is at capacity. Please try a different model.", Overloaded, null, null },

        { nameof(T.Overloaded), """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", Overloaded, null, null },
        { nameof(T.Overloaded), "503 service_unavailable: high_demand", Overloaded, null, null },
        { nameof(T.Overloaded), "We are experiencing high demand", Overloaded, null, null },
        { nameof(T.Overloaded), "Server under high load", Overloaded, null, null },
        { nameof(T.Overloaded), "The engine is currently over capacity", Overloaded, 503, null },
        { nameof(T.Overloaded), "服务过载", Overloaded, null, null },
        { nameof(T.Overloaded), "model llama3 is not loaded yet", Overloaded, null, null },
        { nameof(T.Overloaded), "No model loaded", Overloaded, null, null },
        { nameof(T.Overloaded), "模型加载中", Overloaded, null, null },

        { nameof(T.BareRateLimitStatus), "Error 429 from upstream", RateLimit, null, null },

        { nameof(T.StructuredServerError), """{"error":{"type":"server_error","message":"boom"}}""", ServerError, null, null },
        { nameof(T.StructuredServerError), "finish_reason: error", ServerError, null, null },
        { nameof(T.StructuredServerError), """{"choices":[{"finish_reason":"error"}]}""", ServerError, 200, null },

        { nameof(T.TransientLeadingHttpCode), "502 Bad Gateway", FailoverReason.Timeout, null, null },
        { nameof(T.TransientLeadingHttpCode), "HTTP 521 origin is down", FailoverReason.Timeout, null, null },

        { nameof(T.OverloadedLeadingHttpCode), "529 site is busy", Overloaded, null, null },

        // Expired tokens beat billing text at 401 (#18624).
        { nameof(T.AuthExpiry), "OAuth token has expired. Check your credit balance.", Auth, 401, null },
        { nameof(T.AuthExpiry), "expired access token; payment required for renewal", Auth, 401, null },
        { nameof(T.AuthExpiry), "OAuth credentials expired", Auth, null, null },

        { nameof(T.ProviderBillingCodes), """{"error":{"code":1311,"message":"The current plan does not include GLM-5"}}""", Billing, null, null },
        { nameof(T.ProviderBillingCodes), """{"error":{"code":"InvalidSubscription","message":"Coding Plan missing"}}""", Billing, 400, null },

        { nameof(T.Billing), "Payment Required", Billing, null, null },
        { nameof(T.Billing), "Insufficient credits", Billing, null, null },
        { nameof(T.Billing), "You have used all available credits", Billing, null, null },
        { nameof(T.Billing), "Monthly spending limit reached", Billing, null, null },
        { nameof(T.Billing), "insufficient_quota", Billing, null, null },
        { nameof(T.Billing), "Your credit balance is too low", Billing, null, null },
        { nameof(T.Billing), "Visit plans & billing", Billing, null, null },
        { nameof(T.Billing), "Insufficient balance", Billing, null, null },
        { nameof(T.Billing), "Insufficient MBT balance", Billing, null, null },
        { nameof(T.Billing), "insufficient USD or Diem balance", Billing, null, null },
        { nameof(T.Billing), "This request requires more credits", Billing, null, null },
        { nameof(T.Billing), "You have run out of credits", Billing, null, null },
        { nameof(T.Billing), "Your subscription has expired", Billing, null, null },
        { nameof(T.Billing), "Plan expired: renew to continue", Billing, 403, null },
        { nameof(T.Billing), "You're out of extra usage", Billing, null, null },
        { nameof(T.Billing), "账户余额不足", Billing, null, null },
        { nameof(T.Billing), "Your account does not have a valid coding plan subscription", Billing, null, null },
        { nameof(T.Billing), "The current subscription plan does not include access to this model", Billing, null, null },
        { nameof(T.Billing), "The model glm-5 is not available on your current plan", Billing, null, null },
        { nameof(T.Billing), "Billing error: please upgrade your plan", Billing, null, null },

        { nameof(T.AuthPermanent), "API key revoked", AuthPermanent, null, null },
        { nameof(T.AuthPermanent), "deactivated_workspace", AuthPermanent, null, null },
        { nameof(T.AuthPermanent), "This key has been disabled", AuthPermanent, null, null },
        { nameof(T.AuthPermanent), "Your account has been deactivated", AuthPermanent, null, null },
        { nameof(T.AuthPermanent), "Model access not allowed for this organization", AuthPermanent, null, null },

        { nameof(T.Auth), "Invalid API key provided", Auth, null, null },
        { nameof(T.Auth), "Could not validate your credentials", Auth, null, null },
        { nameof(T.Auth), "permission_error", Auth, null, null },
        { nameof(T.Auth), "Incorrect API key provided: sk-xxx", Auth, null, null },
        { nameof(T.Auth), "invalid token", Auth, null, null },
        { nameof(T.Auth), "authentication_error", Auth, null, null },
        { nameof(T.Auth), "Please re-authenticate", Auth, null, null },
        { nameof(T.Auth), "OAuth token refresh failed", Auth, null, null },
        { nameof(T.Auth), "Unauthorized", Auth, null, null },
        { nameof(T.Auth), "Forbidden", Auth, null, null },
        { nameof(T.Auth), "Access denied", Auth, null, null },
        { nameof(T.Auth), "Insufficient permissions for this operation", Auth, null, null },
        { nameof(T.Auth), "missing scopes: api.responses.write", Auth, null, null },
        { nameof(T.Auth), "credential expired", Auth, null, null },
        { nameof(T.Auth), "upstream said 401", Auth, null, null },
        { nameof(T.Auth), "got 403 from provider", Auth, null, null },
        { nameof(T.Auth), "No API key found for provider", Auth, null, null },
        { nameof(T.Auth), "failed to decode the bearer token", Auth, null, null },
        { nameof(T.Auth), """{"error":{"code":1113,"message":"wrong endpoint"}}""", Auth, null, null },
        { nameof(T.Auth), "认证失败", Auth, null, null },
        { nameof(T.Auth), "CE-011", Auth, null, null },

        { nameof(T.UnknownStreamError), "An unknown error occurred", FailoverReason.Timeout, null, null },

        { nameof(T.OpenRouterProviderError), "Provider returned error", FailoverReason.Timeout, null, "openrouter" },

        { nameof(T.ServerErrorText), "An error occurred while processing your request", FailoverReason.Timeout, null, null },
        { nameof(T.ServerErrorText), "Internal Server Error", FailoverReason.Timeout, null, null },
        { nameof(T.ServerErrorText), "internal_error", FailoverReason.Timeout, null, null },
        { nameof(T.ServerErrorText), "server_error", FailoverReason.Timeout, null, null },
        { nameof(T.ServerErrorText), "Service temporarily unavailable", FailoverReason.Timeout, null, null },
        { nameof(T.ServerErrorText), "Bad Gateway", FailoverReason.Timeout, null, null },
        { nameof(T.ServerErrorText), "Gateway Timeout", FailoverReason.Timeout, null, null },
        { nameof(T.ServerErrorText), "upstream connect error or disconnect/reset before headers", FailoverReason.Timeout, null, null },
        { nameof(T.ServerErrorText), "connection reset by peer", FailoverReason.Timeout, null, null },
        { nameof(T.ServerErrorText), "the origin answered HTTP 500", FailoverReason.Timeout, null, null },
        { nameof(T.ServerErrorText), "系统繁忙", FailoverReason.Timeout, null, null },

        { nameof(T.JsonApiInternalError), """{"type":"error","error":{"type":"api_error","message":"unexpected error, 520 (1000)"}}""", FailoverReason.Timeout, null, null },

        { nameof(T.Format), "String should match pattern '^[a-zA-Z0-9_-]+$'", Format, null, null },
        { nameof(T.Format), "messages.1.content.1.tool_use.id: invalid", Format, null, null },
        { nameof(T.Format), "Invalid request format", Format, null, null },
        { nameof(T.Format), "Tool call id was call_abc but must be alphanumeric", Format, null, null },
        { nameof(T.Format), "This model does not support assistant message prefill", Format, null, null },
        { nameof(T.Format), "Conversation must end with a user message", Format, null, null },
        { nameof(T.Format), "Roles must alternate between user and assistant", Format, null, null },

        { nameof(T.NoErrorDetails), "Unknown error (no error details in response)", NoErrorDetails, null, null },

        { nameof(T.Timeout), "Request timeout", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "The request timed out", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "Service Unavailable", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "context deadline exceeded", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), """got status: INTERNAL. {"code": 500}""", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), """{"status":"INTERNAL","code":500}""", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "fetch failed", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "Connection refused (api.openai.com:443)", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "Network is unreachable", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "No such host is known. (api.openai.com:443)", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "The response ended prematurely. (ResponseEnded)", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "请求超时", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "connect ECONNREFUSED 127.0.0.1:11434", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "connect EHOSTUNREACH 10.0.0.1:443", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "ESOCKETTIMEDOUT", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "write EPIPE", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "getaddrinfo ENOTFOUND api.example.com", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "Ollama stream ended without sending any chunks", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "Unhandled stop reason: malformed_response", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "reason: network_error", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "finish_reason: network_error", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "This operation was aborted", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "stream was closed", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "terminated", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "stream_read_error", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "UND_ERR_SOCKET", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "Request failed", FailoverReason.Timeout, null, null },
        { nameof(T.Timeout), "request failed after repeated internal retries", FailoverReason.Timeout, null, null },

        { nameof(T.ProviderRateLimit), "Concurrency limit reached", RateLimit, null, null },
        { nameof(T.ProviderRateLimit), "workers_ai: quota limit exceeded", RateLimit, null, null },

        { nameof(T.ProviderOverloaded), "ModelNotReadyException: the model is warming up", Overloaded, null, null },

        { nameof(T.NoBody), "400 status code (no body)", NoErrorDetails, 400, null },
        { nameof(T.NoBody), "no body", NoErrorDetails, 422, null },
    };

    /// <summary>(table, code, expected reason), checked with <c>Classify(new(null, null, Code: code))</c>.</summary>
    public static TheoryData<string, string, FailoverReason> CodeRows { get; } = new()
    {
        { nameof(T.AuthPermanentCodes), "DEACTIVATED_WORKSPACE", AuthPermanent },
        { nameof(T.RefusalCodes), "provider_refusal", Refusal },
        { nameof(T.RefusalCodes), "content_policy_violation", Refusal },
        { nameof(T.RefusalCodes), "content_filter", Refusal },
        { nameof(T.RateLimitCodes), "RESOURCE_EXHAUSTED", RateLimit },
        { nameof(T.RateLimitCodes), "RATE_LIMIT", RateLimit },
        { nameof(T.RateLimitCodes), "RATE_LIMITED", RateLimit },
        { nameof(T.RateLimitCodes), "rate_limit_exceeded", RateLimit },
        { nameof(T.RateLimitCodes), "TOO_MANY_REQUESTS", RateLimit },
        { nameof(T.RateLimitCodes), "THROTTLED", RateLimit },
        { nameof(T.RateLimitCodes), "THROTTLING", RateLimit },
        { nameof(T.RateLimitCodes), "ThrottlingException", RateLimit },
        { nameof(T.RateLimitCodes), "THROTTLING_EXCEPTION", RateLimit },
        { nameof(T.OverloadedCodes), "OVERLOADED", Overloaded },
        { nameof(T.OverloadedCodes), "OVERLOADED_ERROR", Overloaded },
        { nameof(T.OverloadedCodes), "server_is_overloaded", Overloaded },
        { nameof(T.TimeoutCodes), "ETIMEDOUT", FailoverReason.Timeout },
        { nameof(T.TimeoutCodes), "ESOCKETTIMEDOUT", FailoverReason.Timeout },
        { nameof(T.TimeoutCodes), "ECONNRESET", FailoverReason.Timeout },
        { nameof(T.TimeoutCodes), "ECONNABORTED", FailoverReason.Timeout },
        { nameof(T.TimeoutCodes), "ECONNREFUSED", FailoverReason.Timeout },
        { nameof(T.TimeoutCodes), "ENETUNREACH", FailoverReason.Timeout },
        { nameof(T.TimeoutCodes), "EHOSTUNREACH", FailoverReason.Timeout },
        { nameof(T.TimeoutCodes), "EHOSTDOWN", FailoverReason.Timeout },
        { nameof(T.TimeoutCodes), "ENETRESET", FailoverReason.Timeout },
        { nameof(T.TimeoutCodes), "EPIPE", FailoverReason.Timeout },
        { nameof(T.TimeoutCodes), "EAI_AGAIN", FailoverReason.Timeout },
        { nameof(T.TimeoutCodes), "ENOTFOUND", FailoverReason.Timeout },
        { nameof(T.TimeoutCodes), "UNAVAILABLE", FailoverReason.Timeout },
        { nameof(T.TimeoutCodes), "DEADLINE_EXCEEDED", FailoverReason.Timeout },
        { nameof(T.BillingCodes), "1311", Billing },
        { nameof(T.BillingCodes), "InvalidSubscription", Billing },
        { nameof(T.BillingCodes), "billing_hard_limit_reached", Billing },
        { nameof(T.AuthCodes), "1113", Auth },
        { nameof(T.AuthCodes), "invalid_api_key", Auth },
        { nameof(T.AuthCodes), "UNAUTHENTICATED", Auth },
        { nameof(T.AuthCodes), "PERMISSION_DENIED", Auth },
        { nameof(T.ContextOverflowCodes), "context_length_exceeded", ContextOverflow },
        { nameof(T.ContextOverflowCodes), "request_too_large", ContextOverflow },
        { nameof(T.ModelNotFoundCodes), "model_not_found", ModelNotFound },
    };

    /// <summary>(table, error type, expected reason), checked with <c>Classify(new(null, null, ErrorType: type))</c>.</summary>
    public static TheoryData<string, string, FailoverReason> ErrorTypeRows { get; } = new()
    {
        { nameof(T.ServerErrorTypes), "server_error", ServerError },
        { nameof(T.ServerErrorTypes), "upstream_error", ServerError },
        { nameof(T.ServerErrorTypes), "api_error", ServerError },
        { nameof(T.OverloadedTypes), "overloaded_error", Overloaded },
        { nameof(T.RateLimitTypes), "rate_limit_error", RateLimit },
        { nameof(T.AuthTypes), "authentication_error", Auth },
        { nameof(T.AuthTypes), "permission_error", Auth },
        { nameof(T.BillingTypes), "billing_error", Billing },
        { nameof(T.ContextOverflowTypes), "request_too_large", ContextOverflow },
        { nameof(T.ModelNotFoundTypes), "not_found_error", ModelNotFound },
    };

    /// <summary>(table, message) rows that <see cref="FailureClassifier.HasLongWindowEvidence"/> must accept.</summary>
    public static TheoryData<string, string> LongWindowRows { get; } = new()
    {
        { nameof(T.LongWindowLimit), "Limit 100000 tokens per day reached" },
        { nameof(T.LongWindowLimit), "Quota exceeded for metric GenerateRequestsPerDayPerProjectPerModel-FreeTier" },
        { nameof(T.LongWindowLimit), "Rate limit reached on TPD" },
        { nameof(T.LongWindowLimit), "daily quota exhausted" },
        { nameof(T.LongWindowLimit), "Your limit resets at midnight" },
        { nameof(T.LongWindowLimit), "今日每日调用上限已达到" },
        { nameof(T.PeriodicUsageLimit), "Weekly usage limit reached" },
        { nameof(T.PeriodicUsageLimit), "您已达到每月使用上限" },
    };

    /// <summary>(table, 429 message, expected copy) rows for rate-limit copy that quotes the provider.</summary>
    public static TheoryData<string, string, string> RateLimitCopyRows { get; } = new()
    {
        { nameof(T.RateLimitCopyDetail), "429 Rate limit reached for requests. Please try again in 20 seconds.", "⚠️ Rate limit reached for requests. Please try again in 20 seconds." },
        { nameof(T.RateLimitCopyDetail), "Error: Too many requests, wait 2 minutes", "⚠️ Too many requests, wait 2 minutes" },
        { nameof(T.RateLimitCopyDetail), """{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota"}}""", "⚠️ You exceeded your current quota, please check your plan and billing details." },
        { nameof(T.RateLimitCopyDetail), "Rate limit hit; your limit will reset soon", "⚠️ Rate limit hit; your limit will reset soon" },
    };
}
