using System.Globalization;
using System.Text.RegularExpressions;
using P = Durar.Actors.Resilience.ClassificationPatterns;

namespace Durar.Actors.Resilience;

/// <summary>
/// Turns an <see cref="UpstreamFailure"/> into a <see cref="FailoverReason"/> (reference items 40–47), decides
/// whether it should rotate to the next API key (item 36), detects long-window quota text (item 70) and produces
/// the user-facing copy (item 48). Pure functions over <see cref="ClassificationPatterns"/>, so the actor layer
/// can call them from any thread and tests can pin every rule.
/// </summary>
/// <remarks>
/// Precedence, top to bottom:
/// <list type="number">
/// <item>a transport fault → <c>timeout</c> (unless the text carried a rate-limit/overload/server-error event);</item>
/// <item>a decisive code (<c>auth_permanent</c>, <c>refusal</c>);</item>
/// <item>nothing at all (no status or a 2xx, no text, no code) → <c>empty_response</c>;</item>
/// <item>the HTTP status mapping (item 40), which may consult the message, code and type classification;</item>
/// <item>the message classification (item 41 order), then the code, then the error type;</item>
/// <item><c>unclassified</c> when an HTTP status was present, else <c>unknown</c>.</item>
/// </list>
/// </remarks>
public static class FailureClassifier
{
    /// <summary>Messages longer than this only count as billing through hard markers (item 44).</summary>
    public const int BillingTextMaxLength = 512;

    /// <summary>Only this many leading characters are matched; bodies beyond it add cost, not signal.</summary>
    public const int MaxClassifiedLength = 8192;

    private static readonly Regex LeadingHttpStatus = new(
        @"^\s*(?:error:?\s*)?(?:http(?:/\d(?:\.\d)?)?\s*)?(?:status(?:\s*code)?\s*[:=]?\s*)?(?<code>[1-5]\d{2})\b(?![.,]\d)(?!\s*(?:tokens?|chars?|characters?|requests?|ms|seconds?|s|%)\b)",
        PatternTable.Options,
        PatternTable.MatchTimeout);

    private static readonly Regex Leading402Wrapper = new(
        @"^(?:error[:\s-]+)?(?:(?:http\s*)?402(?:\s+payment required)?|payment required)(?:[:\s-]+|$)",
        PatternTable.Options,
        PatternTable.MatchTimeout);

    /// <summary>Classifies one failed upstream call.</summary>
    public static FailoverReason Classify(UpstreamFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);

        var message = Prepare(failure.Message);
        var messageReason = message is null ? null : ClassifyPrepared(message, failure.ProviderId);
        var codeReason = ClassifyStructured(failure.Code, P.CodeRules);
        var typeReason = ClassifyStructured(failure.ErrorType, P.ErrorTypeRules);

        if (failure.Transport is { } transport && transport != UpstreamTransportError.None)
        {
            // A transport fault is a timeout (the reference maps malformed_response/network_error stop reasons to
            // timeout too). Only a provider error event that arrived on the broken stream is more specific.
            return messageReason is FailoverReason.RateLimit or FailoverReason.Overloaded or FailoverReason.ServerError
                ? messageReason.Value
                : FailoverReason.Timeout;
        }

        if (codeReason is FailoverReason.AuthPermanent or FailoverReason.Refusal)
        {
            return codeReason.Value;
        }

        var status = ValidStatus(failure.Status) ?? StatusFromCode(failure.Code) ?? InferLeadingStatus(message);
        var hasContent = message is not null
            || !string.IsNullOrWhiteSpace(failure.Code)
            || !string.IsNullOrWhiteSpace(failure.ErrorType);
        if (!hasContent && status is null or (>= 200 and < 300))
        {
            return FailoverReason.EmptyResponse;
        }

        var signal = messageReason ?? codeReason ?? typeReason;
        if (status is { } code && FromStatus(code, message, signal) is { } byStatus)
        {
            return byStatus;
        }

        return signal ?? (status is null ? FailoverReason.Unknown : FailoverReason.Unclassified);
    }

    /// <summary>
    /// Classifies error text alone, walking <see cref="ClassificationPatterns"/> in the item-41 order; null when
    /// nothing matches (or for image size/dimension errors, which no failover fixes).
    /// </summary>
    public static FailoverReason? ClassifyMessage(string message, string? providerId = null)
    {
        var prepared = Prepare(message);
        return prepared is null ? null : ClassifyPrepared(prepared, providerId);
    }

    /// <summary>
    /// Whether this failure should move to the next API key immediately (item 36): rate-limit text or code, a 429
    /// (including a 429 billing quota, since another key may sit on another account), or periodic usage-limit text.
    /// Overloads and context overflows never rotate: another key of the same provider does not help them.
    /// </summary>
    public static bool IsKeyRotationTrigger(UpstreamFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (failure.Transport is { } transport && transport != UpstreamTransportError.None)
        {
            return false;
        }

        var reason = Classify(failure);
        if (reason == FailoverReason.RateLimit)
        {
            return true;
        }

        if (reason is FailoverReason.Overloaded or FailoverReason.ContextOverflow)
        {
            return false;
        }

        var message = Prepare(failure.Message);
        return failure.Status == 429
            || P.RateLimitCodes.IsMatch(failure.Code?.Trim())
            || (message is not null && IsKeyRotationText(message));
    }

    /// <summary>The user-facing text for a classified failure (item 48).</summary>
    /// <param name="reason">The classification of <paramref name="failure"/>.</param>
    /// <param name="failure">The failure itself (its text may be quoted for rate limits that name a reset time or plan).</param>
    /// <param name="provider">The provider id or display name; blank for "API provider".</param>
    /// <param name="model">The model id; may be blank.</param>
    public static string UserMessage(FailoverReason reason, UpstreamFailure failure, string provider, string model) =>
        FailureCopy.For(reason, failure, provider, model);

    /// <summary>
    /// Whether rate-limit text shows a daily/weekly/monthly window (item 70): such limits are not retried on the
    /// same model, the request fails over instead.
    /// </summary>
    public static bool HasLongWindowEvidence(string message)
    {
        var prepared = Prepare(message);
        return prepared is not null
            && (P.PeriodicUsageLimit.IsMatch(prepared)
                || P.LongWindowLimit.IsMatch(prepared));
    }

    /// <summary>The HTTP status mapping (item 40). Null when the status has no rule of its own.</summary>
    private static FailoverReason? FromStatus(int status, string? message, FailoverReason? signal)
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
                return signal == FailoverReason.Billing || IsBillingText(message)
                    ? FailoverReason.Billing
                    : FailoverReason.Auth;

            case 402:
                return Classify402(message);

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
                if (signal == FailoverReason.Billing || (message is not null && IsBillingText(message)))
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

    /// <summary>402 rules (item 40): billing unless the text shows a refresh window, rate-limit or retryable wording.</summary>
    private static FailoverReason Classify402(string? message)
    {
        if (message is null)
        {
            return FailoverReason.Billing;
        }

        var text = SafeReplace(Leading402Wrapper, message).Trim();
        if (text.Length == 0)
        {
            return FailoverReason.Billing;
        }

        if (P.QuotaRefreshWindow.IsMatch(text))
        {
            return FailoverReason.RateLimit;
        }

        if (P.PaymentRequiredBilling.IsMatch(text))
        {
            return FailoverReason.Billing;
        }

        return IsRateLimitText(text)
            || P.PeriodicUsageLimit.IsMatch(text)
            || P.Retryable402.IsMatch(text)
            ? FailoverReason.RateLimit
            : FailoverReason.Billing;
    }

    /// <summary>The item-41 walk over prepared (trimmed, non-empty, length-capped) text.</summary>
    private static FailoverReason? ClassifyPrepared(string text, string? providerId)
    {
        if (P.ImageRejection.IsMatch(text))
        {
            return null;
        }

        if (P.SessionExpired.IsMatch(text))
        {
            return FailoverReason.SessionExpired;
        }

        if (P.ModelNotFound.IsMatch(text))
        {
            return FailoverReason.ModelNotFound;
        }

        if (P.ContextOverflow.IsMatch(text) && !P.TokensPerMinute.IsMatch(text))
        {
            return FailoverReason.ContextOverflow;
        }

        if (P.PaymentRequiredMarkers.IsMatch(text))
        {
            return Classify402(text);
        }

        if (P.Refusal.IsMatch(text))
        {
            return FailoverReason.Refusal;
        }

        if (P.OpenRouterKeyLimit.IsMatch(text, providerId))
        {
            return FailoverReason.Billing;
        }

        if (P.PeriodicUsageLimit.IsMatch(text))
        {
            return IsBillingText(text) ? FailoverReason.Billing : FailoverReason.RateLimit;
        }

        if (IsRateLimitText(text))
        {
            return FailoverReason.RateLimit;
        }

        if (P.ModelAtCapacity.IsMatch(text) || P.Overloaded.IsMatch(text))
        {
            return FailoverReason.Overloaded;
        }

        if (P.BareRateLimitStatus.IsMatch(text))
        {
            return FailoverReason.RateLimit;
        }

        if (P.StructuredServerError.IsMatch(text)
            && !IsBillingText(text)
            && !P.AuthPermanent.IsMatch(text)
            && !P.Auth.IsMatch(text))
        {
            return FailoverReason.ServerError;
        }

        if (P.OverloadedLeadingHttpCode.IsMatch(text))
        {
            return FailoverReason.Overloaded;
        }

        if (P.TransientLeadingHttpCode.IsMatch(text))
        {
            return FailoverReason.Timeout;
        }

        if (P.AuthExpiry.IsMatch(text))
        {
            return FailoverReason.Auth;
        }

        if (IsBillingText(text))
        {
            return FailoverReason.Billing;
        }

        if (P.AuthPermanent.IsMatch(text))
        {
            return FailoverReason.AuthPermanent;
        }

        if (P.Auth.IsMatch(text))
        {
            return FailoverReason.Auth;
        }

        if (P.UnknownStreamError.IsMatch(text)
            || P.OpenRouterProviderError.IsMatch(text, providerId)
            || P.ServerErrorText.IsMatch(text)
            || P.JsonApiInternalError.IsMatch(text))
        {
            return FailoverReason.Timeout;
        }

        if (P.Format.IsMatch(text))
        {
            return FailoverReason.Format;
        }

        if (P.NoErrorDetails.IsMatch(text))
        {
            return FailoverReason.NoErrorDetails;
        }

        if (P.Timeout.IsMatch(text))
        {
            return FailoverReason.Timeout;
        }

        if (P.ProviderRateLimit.IsMatch(text))
        {
            return FailoverReason.RateLimit;
        }

        if (P.ProviderOverloaded.IsMatch(text))
        {
            return FailoverReason.Overloaded;
        }

        return null;
    }

    private static bool IsRateLimitText(string text) =>
        P.RateLimit.IsMatch(text) || P.TokensPerMinute.IsMatch(text);

    private static bool IsKeyRotationText(string text) =>
        IsRateLimitText(text)
        || P.BareRateLimitStatus.IsMatch(text)
        || P.ProviderRateLimit.IsMatch(text)
        || P.PeriodicUsageLimit.IsMatch(text);

    /// <summary>Billing text: hard markers at any length, soft wording only up to <see cref="BillingTextMaxLength"/>.</summary>
    private static bool IsBillingText(string? text) =>
        text is not null
        && (P.PaymentRequiredMarkers.IsMatch(text)
            || P.ProviderBillingCodes.IsMatch(text)
            || (text.Length <= BillingTextMaxLength && P.Billing.IsMatch(text)));

    private static FailoverReason? ClassifyStructured(string? value, IReadOnlyList<PatternRule> rules)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            return null;
        }

        foreach (var rule in rules)
        {
            if (rule.Table.IsMatch(trimmed))
            {
                return rule.Reason;
            }
        }

        return null;
    }

    private static string? Prepare(string? message)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            return null;
        }

        var trimmed = message.Trim();
        // A capped text is still far over BillingTextMaxLength, so the long-message rule is unaffected.
        return trimmed.Length > MaxClassifiedLength ? trimmed[..MaxClassifiedLength] : trimmed;
    }

    private static int? ValidStatus(int? status) => status is >= 100 and <= 599 ? status : null;

    private static int? StatusFromCode(string? code)
    {
        var trimmed = code?.Trim();
        return trimmed is { Length: 3 }
            && int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            && value is >= 400 and <= 599
            ? value
            : null;
    }

    private static int? InferLeadingStatus(string? message)
    {
        if (message is null)
        {
            return null;
        }

        try
        {
            var match = LeadingHttpStatus.Match(message);
            return match.Success
                && int.TryParse(match.Groups["code"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                && value is >= 400 and <= 599
                ? value
                : null;
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }
    }

    private static string SafeReplace(Regex regex, string input)
    {
        try
        {
            return regex.Replace(input, string.Empty, 1);
        }
        catch (RegexMatchTimeoutException)
        {
            return input;
        }
    }
}
