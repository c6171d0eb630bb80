using P = Durar.Actors.Resilience.ClassificationPatterns;

namespace Durar.Actors.Resilience;

/// <summary>
/// The HTTP status mapping of <see cref="FailureClassifier"/> (reference item 40): what a status means, refined by what the
/// message, code or type already said. Kept apart from the text rules so the status table reads as one table.
/// </summary>
internal static class StatusRules
{
    /// <summary>The reason <paramref name="status"/> gives, in the light of the text and code <paramref name="signal"/>; null when the status has no rule of its own.</summary>
    public static FailoverReason? Classify(int status, string? message, FailoverReason? signal)
    {
        switch (status)
        {
            case 400 or 422:
                if (signal is { } reason && reason != FailoverReason.ServerError)
                {
                    return reason;
                }

                // A body-less 400/422 is usually a proxy hiccup; "format" would send it into a compaction loop.
                return message is null || P.NoBody.IsMatch(message)
                    ? FailoverReason.NoErrorDetails
                    : FailoverReason.Format;

            case 401 or 403:
                if (signal == FailoverReason.AuthPermanent || P.AuthPermanent.IsMatch(message))
                {
                    return FailoverReason.AuthPermanent;
                }

                if (P.AuthExpiry.IsMatch(message))
                {
                    return FailoverReason.Auth; // an expired token is never billing (#18624)
                }

                // OpenRouter "Key limit exceeded" and "insufficient credits" arrive as 401/403 too.
                return signal == FailoverReason.Billing || MessageRules.IsBillingText(message)
                    ? FailoverReason.Billing
                    : FailoverReason.Auth;

            case 402:
                return MessageRules.ClassifyPaymentRequired(message);

            case 404:
                return signal is FailoverReason.ContextOverflow or FailoverReason.SessionExpired
                    or FailoverReason.Billing or FailoverReason.Auth or FailoverReason.AuthPermanent
                    ? signal
                    : FailoverReason.ModelNotFound;

            case 408:
                return FailoverReason.Timeout;

            case 410:
                // A generic 410 behaves like a transport failure, not a session expiry.
                return signal is FailoverReason.SessionExpired or FailoverReason.Billing
                    or FailoverReason.Auth or FailoverReason.AuthPermanent
                    ? signal
                    : FailoverReason.Timeout;

            case 413:
                // Groq reports TPM limits as 413; every other "entity too large" is a prompt that does not fit.
                return signal == FailoverReason.RateLimit || P.TokensPerMinute.IsMatch(message)
                    ? FailoverReason.RateLimit
                    : FailoverReason.ContextOverflow;

            case 429:
                // Balance/quota 429s are billing (#43447, #32828); "temporarily overloaded" 429s are overloads (#97009).
                if (signal == FailoverReason.Billing || (message is not null && MessageRules.IsBillingText(message)))
                {
                    return FailoverReason.Billing;
                }

                return signal == FailoverReason.Overloaded ? FailoverReason.Overloaded : FailoverReason.RateLimit;

            case 499 or 503:
                return signal == FailoverReason.Overloaded ? FailoverReason.Overloaded : FailoverReason.Timeout;

            case 500 or 502 or 504 or (>= 520 and <= 524):
                return signal == FailoverReason.ServerError ? FailoverReason.ServerError : FailoverReason.Timeout;

            case 529:
                return FailoverReason.Overloaded;

            case >= 500 and <= 599:
                // 501, 505, ...: not in the reference; LiteLLM/Portkey treat any 5xx as a retryable server error.
                return signal ?? FailoverReason.ServerError;

            default:
                return null;
        }
    }
}
