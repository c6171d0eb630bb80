using System.Globalization;
using System.Text.RegularExpressions;
using P = Durar.Actors.Resilience.ClassificationPatterns;

namespace Durar.Actors.Resilience;

/// <summary>
/// Turns an <see cref="UpstreamFailure"/> into a <see cref="FailoverReason"/> (reference items 40–47), decides
/// whether it should rotate to the next API key (item 36), detects long-window quota text (item 70) and produces
/// the user-facing copy (item 48). Pure functions over <see cref="ClassificationPatterns"/>, so the actor layer
/// can call them from any thread and tests can pin every rule. This type holds the entry points and the precedence
/// below; the status table is <see cref="StatusRules"/> and the text walk <see cref="MessageRules"/>.
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
internal static class FailureClassifier
{
    /// <summary>Messages longer than this only count as billing through hard markers (item 44).</summary>
    public const int BillingTextMaxLength = 512;

    /// <summary>Only this many leading characters are matched; bodies beyond it add cost, not signal.</summary>
    public const int MaxClassifiedLength = 8192;

    private static readonly Regex LeadingHttpStatus = new(
        @"^\s*(?:error:?\s*)?(?:http(?:/\d(?:\.\d)?)?\s*)?(?:status(?:\s*code)?\s*[:=]?\s*)?(?<code>[1-5]\d{2})\b(?![.,]\d)(?!\s*(?:tokens?|chars?|characters?|requests?|ms|seconds?|s|%)\b)",
        PatternTable.Options,
        PatternTable.MatchTimeout);

    /// <summary>Classifies one failed upstream call.</summary>
    /// <remarks>The reason steers failover and the client's copy; what the key is charged is <see cref="KeyReason"/>.</remarks>
    public static FailoverReason Classify(UpstreamFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);

        var message = Prepare(failure.Message);
        var messageReason = message is null ? null : MessageRules.Classify(message, failure.ProviderId);
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
        if (status is { } code && StatusRules.Classify(code, message, signal) is { } byStatus)
        {
            return byStatus;
        }

        return signal ?? (status is null ? FailoverReason.Unknown : FailoverReason.Unclassified);
    }

    /// <summary>
    /// The reason the key is charged with for <paramref name="failure"/> classified as <paramref name="reason"/>. Free text
    /// can echo what the client sent (a model name, a prompt, a tool argument), so on a 4xx (the response's status, or a
    /// status-shaped structured code) it may refine the reason but never make the key's penalty heavier than the status
    /// and the provider's structured code and type say without it: a 400 whose message mentions billing or a revoked key,
    /// or a 429 whose message mentions a balance, cannot disable or cool a key every other client shares.
    /// </summary>
    public static FailoverReason KeyReason(UpstreamFailure failure, FailoverReason reason)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (failure.Transport is { } transport && transport != UpstreamTransportError.None) return reason;
        if ((ValidStatus(failure.Status) ?? StatusFromCode(failure.Code)) is not (>= 400 and < 500 and var status)) return reason;
        var penalty = Penalty(reason);
        if (penalty == 0) return reason;
        var codeReason = ClassifyStructured(failure.Code, P.CodeRules);
        var typeReason = ClassifyStructured(failure.ErrorType, P.ErrorTypeRules);
        if (codeReason is FailoverReason.AuthPermanent or FailoverReason.Refusal) return reason;
        var structural = StatusRules.Classify(status, null, codeReason ?? typeReason) ?? codeReason ?? typeReason ?? FailoverReason.Unclassified;
        // With a body the status table says format, not a body-less proxy hiccup.
        if (structural == FailoverReason.NoErrorDetails && Prepare(failure.Message) is { } message && !P.NoBody.IsMatch(message))
            structural = FailoverReason.Format;
        return Penalty(structural) >= penalty ? reason : structural;
    }

    /// <summary>How heavy a reason's effect on the key is: none, cooled from a threshold, cooled at once, disabled.</summary>
    private static int Penalty(FailoverReason reason) => FailoverReasons.KeyEffectOf(reason) switch
    {
        KeyEffect.None => 0,
        KeyEffect.CoolDownFromThreshold => 1,
        KeyEffect.CoolDown => 2,
        _ => 3,
    };

    /// <summary>
    /// Classifies error text alone, walking <see cref="ClassificationPatterns"/> in the item-41 order; null when
    /// nothing matches (or for image size/dimension errors, which no failover fixes).
    /// </summary>
    public static FailoverReason? ClassifyMessage(string message, string? providerId = null)
    {
        var prepared = Prepare(message);
        return prepared is null ? null : MessageRules.Classify(prepared, providerId);
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
            || (message is not null && MessageRules.IsKeyRotationText(message));
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

}
