using System.Text.RegularExpressions;
using P = Durar.Actors.Resilience.ClassificationPatterns;

namespace Durar.Actors.Resilience;

/// <summary>
/// The text rules of <see cref="FailureClassifier"/>: the item-41 walk over <see cref="ClassificationPatterns"/> (first match
/// wins, in the reference's order), the payment-required (402) wording, and the rate-limit, key-rotation and billing text
/// tests the status rules consult. Text arrives prepared: trimmed, non-empty, capped at
/// <see cref="FailureClassifier.MaxClassifiedLength"/>.
/// </summary>
internal static class MessageRules
{
    private static readonly Regex Leading402Wrapper = new(
        @"^(?:error[:\s-]+)?(?:(?:http\s*)?402(?:\s+payment required)?|payment required)(?:[:\s-]+|$)",
        PatternTable.Options,
        PatternTable.MatchTimeout);

    /// <summary>The item-41 walk over prepared (trimmed, non-empty, length-capped) text.</summary>
    public static FailoverReason? Classify(string text, string? providerId)
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
            return ClassifyPaymentRequired(text);
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

    /// <summary>402 rules (item 40): billing unless the text shows a refresh window, rate-limit or retryable wording.</summary>
    public static FailoverReason ClassifyPaymentRequired(string? message)
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

    public static bool IsRateLimitText(string text) =>
        P.RateLimit.IsMatch(text) || P.TokensPerMinute.IsMatch(text);

    public static bool IsKeyRotationText(string text) =>
        IsRateLimitText(text)
        || P.BareRateLimitStatus.IsMatch(text)
        || P.ProviderRateLimit.IsMatch(text)
        || P.PeriodicUsageLimit.IsMatch(text);

    /// <summary>Billing text: hard markers at any length, soft wording only up to <see cref="FailureClassifier.BillingTextMaxLength"/>.</summary>
    public static bool IsBillingText(string? text) =>
        text is not null
        && (P.PaymentRequiredMarkers.IsMatch(text)
            || P.ProviderBillingCodes.IsMatch(text)
            || (text.Length <= FailureClassifier.BillingTextMaxLength && P.Billing.IsMatch(text)));

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
