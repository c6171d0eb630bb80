using System.Text.Json;
using System.Text.RegularExpressions;
using P = Durar.Actors.Resilience.ClassificationPatterns;

namespace Durar.Actors.Resilience;

/// <summary>
/// User-facing text for classified upstream failures (reference item 48). It exists so clients see stable,
/// actionable sentences instead of raw provider bodies; the only provider text ever quoted is a short rate-limit
/// message that names a reset time, plan or quota.
/// </summary>
internal static class FailureCopy
{
    /// <summary>Generic rate-limit copy.</summary>
    public const string RateLimit = "⚠️ API rate limit reached. Please try again later.";

    /// <summary>Overload copy.</summary>
    public const string Overloaded = "The AI service is temporarily overloaded. Please try again in a moment.";

    /// <summary>Copy for "model at capacity".</summary>
    public const string ModelAtCapacity = "⚠️ Selected model is at capacity. Try a different model, or wait and retry.";

    /// <summary>Timeout copy.</summary>
    public const string Timeout = "LLM request timed out.";

    /// <summary>Context-overflow copy.</summary>
    public const string ContextOverflow =
        "Context overflow: prompt too large for the model. Try /reset (or /new) to start a fresh session, or use a larger-context model.";

    /// <summary>Format (schema) copy.</summary>
    public const string Format = "LLM request failed: provider rejected the request schema or tool payload.";

    /// <summary>Model-not-found copy.</summary>
    public const string ModelNotFound =
        "The selected model was not found by the provider. Check the model id or choose a different model.";

    /// <summary>Session-expired copy.</summary>
    public const string SessionExpired = "The provider session has expired. Start a new session (/new) and try again.";

    /// <summary>Server-error copy.</summary>
    public const string ServerError = "The AI service reported an internal error. Please try again in a moment.";

    /// <summary>Empty-response copy.</summary>
    public const string EmptyResponse = "LLM request failed: the provider returned an empty response.";

    /// <summary>No-error-details copy.</summary>
    public const string NoErrorDetails = "LLM request failed: the provider returned an error without details.";

    /// <summary>Refusal copy.</summary>
    public const string Refusal =
        "The model declined to generate this response. Try rephrasing your request, or switch to a different model.";

    /// <summary>Generic failure copy.</summary>
    public const string Generic = "LLM request failed.";

    /// <summary>Provider rate-limit text longer than this is never quoted.</summary>
    public const int MaxQuotedRateLimitLength = 300;

    private static readonly Regex ErrorPrefix = new(
        @"^(?:error|(?:[a-z][\w-]*\s+)?api\s*error|openai\s*error|anthropic\s*error|gateway\s*error|request failed|failed|exception)(?:\s+\d{3})?[:\s-]+",
        PatternTable.Options,
        PatternTable.MatchTimeout);

    private static readonly Regex LeadingStatus = new(
        @"^(?:http\s*)?\d{3}\b[:\s-]*",
        PatternTable.Options,
        PatternTable.MatchTimeout);

    /// <summary>The copy for <paramref name="reason"/>; see <see cref="FailureClassifier.UserMessage"/>.</summary>
    public static string For(FailoverReason reason, UpstreamFailure failure, string provider, string model)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var providerName = provider?.Trim() ?? string.Empty;
        var modelName = model?.Trim() ?? string.Empty;
        var label = providerName.Length == 0
            ? null
            : modelName.Length == 0 ? providerName : $"{providerName} ({modelName})";

        return reason switch
        {
            FailoverReason.RateLimit => QuotedRateLimitDetail(failure.Message) ?? RateLimit,
            FailoverReason.Overloaded => P.ModelAtCapacity.IsMatch(failure.Message) ? ModelAtCapacity : Overloaded,
            FailoverReason.Billing => Billing(label, providerName),
            FailoverReason.Timeout => TimeoutCopy(failure),
            FailoverReason.ContextOverflow => ContextOverflow,
            FailoverReason.Auth =>
                $"⚠️ {label ?? "The API provider"} rejected the credentials. Check the API key or re-authenticate, then try again.",
            FailoverReason.AuthPermanent =>
                $"⚠️ {label ?? "The API provider"} reports the API key or account is revoked or deactivated. Replace the credential for this provider.",
            FailoverReason.Format => Format,
            FailoverReason.ModelNotFound => ModelNotFound,
            FailoverReason.SessionExpired => SessionExpired,
            FailoverReason.ServerError => ServerError,
            FailoverReason.EmptyResponse => EmptyResponse,
            FailoverReason.NoErrorDetails => NoErrorDetails,
            FailoverReason.Refusal => Refusal,
            FailoverReason.Unclassified when failure.Status is { } status => $"LLM request failed (HTTP {status}).",
            _ => Generic,
        };
    }

    private static string Billing(string? label, string providerName) =>
        label is null
            ? "⚠️ API provider returned a billing error — your API key has run out of credits or has an insufficient balance. Check your provider's billing dashboard and top up or switch to a different API key."
            : $"⚠️ {label} returned a billing error — your API key has run out of credits or has an insufficient balance. Check your {providerName} billing dashboard and top up or switch to a different API key.";

    private static string TimeoutCopy(UpstreamFailure failure)
    {
        switch (failure.Transport)
        {
            case UpstreamTransportError.ConnectionRefused:
                return "LLM request failed: connection refused by the provider endpoint.";
            case UpstreamTransportError.ConnectionReset:
                return "LLM request failed: network connection was interrupted.";
            case UpstreamTransportError.HostUnreachable:
                return "LLM request failed: the provider endpoint is unreachable from this host.";
            case UpstreamTransportError.DnsFailure:
                return "LLM request failed: DNS lookup for the provider endpoint failed.";
            case UpstreamTransportError.StreamCut:
                return "LLM request failed: the provider stream ended before the response was complete.";
            case UpstreamTransportError.MalformedStream:
                return "LLM streaming response contained a malformed fragment. Please try again.";
        }

        // "Timed out" would be wrong for a 502 or 503: say what happened instead.
        return failure.Status is { } status and not (408 or 504) and >= 400
            ? $"The AI service is temporarily unavailable (HTTP {status}). Please try again in a moment."
            : Timeout;
    }

    /// <summary>The provider's own rate-limit text, when it is short and names a reset time, plan or quota.</summary>
    private static string? QuotedRateLimitDetail(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        var text = raw.Trim();
        text = SafeStrip(ErrorPrefix, text);
        text = SafeStrip(LeadingStatus, text);
        var candidate = (JsonErrorMessage(text) ?? text).Trim();

        if (candidate.Length == 0
            || candidate.Length > MaxQuotedRateLimitLength
            || candidate.StartsWith('{')
            || candidate.StartsWith('[')
            || candidate.StartsWith('<')
            || !P.RateLimitCopyDetail.IsMatch(candidate))
        {
            return null;
        }

        return $"⚠️ {candidate}";
    }

    /// <summary><c>error.message</c> or <c>message</c> of a JSON error body (first element of an array body).</summary>
    private static string? JsonErrorMessage(string text)
    {
        if (!(text.StartsWith('{') || text.StartsWith('[')))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0)
            {
                root = root[0];
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            if (root.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var nested)
                && nested.ValueKind == JsonValueKind.String)
            {
                return nested.GetString();
            }

            return root.TryGetProperty("message", out var flat) && flat.ValueKind == JsonValueKind.String
                ? flat.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string SafeStrip(Regex regex, string input)
    {
        try
        {
            return regex.Replace(input, string.Empty, 1).TrimStart();
        }
        catch (RegexMatchTimeoutException)
        {
            return input;
        }
    }
}
