namespace Durar.Actors.Resilience;

/// <summary>
/// Why an upstream model call failed, as far as failover, cooldowns and retries care. It exists so every part
/// of the gateway (retry policy, key rotation, profile cooldowns, the fallback chain, client error mapping)
/// reasons about the same small vocabulary instead of raw status codes and provider prose.
/// The values and their wire names follow the reference model layer (item 38).
/// </summary>
public enum FailoverReason
{
    /// <summary>Credentials rejected, possibly transiently (bad or expired key/token). Wire: <c>auth</c>.</summary>
    Auth,

    /// <summary>Credentials revoked, deactivated or deleted with high confidence. Wire: <c>auth_permanent</c>.</summary>
    AuthPermanent,

    /// <summary>The provider rejected the request shape (schema, tool ids, role order). Wire: <c>format</c>.</summary>
    Format,

    /// <summary>Request/token rate or quota window hit. Wire: <c>rate_limit</c>.</summary>
    RateLimit,

    /// <summary>The provider is temporarily out of capacity. Wire: <c>overloaded</c>.</summary>
    Overloaded,

    /// <summary>Out of credits, balance or plan entitlement. Wire: <c>billing</c>.</summary>
    Billing,

    /// <summary>The provider reported a structured internal error (or finished with <c>finish_reason: error</c>). Wire: <c>server_error</c>.</summary>
    ServerError,

    /// <summary>Timeouts, transport failures and generic transient 5xx responses. Wire: <c>timeout</c>.</summary>
    Timeout,

    /// <summary>The prompt does not fit the model's context window; handled by compaction, not failover. Wire: <c>context_overflow</c>.</summary>
    ContextOverflow,

    /// <summary>The model id is unknown, retired or not served. Wire: <c>model_not_found</c>.</summary>
    ModelNotFound,

    /// <summary>A provider-side session or conversation no longer exists. Wire: <c>session_expired</c>.</summary>
    SessionExpired,

    /// <summary>The upstream answered with nothing at all (no status worth the name, no body). Wire: <c>empty_response</c>.</summary>
    EmptyResponse,

    /// <summary>The upstream reported an error but gave no details (e.g. a 400 with no body). Wire: <c>no_error_details</c>.</summary>
    NoErrorDetails,

    /// <summary>An HTTP error status that no rule maps, with nothing recognisable in the body. Wire: <c>unclassified</c>.</summary>
    Unclassified,

    /// <summary>A failure without an HTTP status whose text matched nothing. Wire: <c>unknown</c>.</summary>
    Unknown,

    /// <summary>The model declined on safety/content-policy grounds; not a failover trigger. Wire: <c>refusal</c>.</summary>
    Refusal,
}

/// <summary>
/// Facts about <see cref="FailoverReason"/> values: their snake_case wire names (both ways), the synthetic HTTP
/// status a gateway reports for them, and whether they move the request to the next candidate or deserve a
/// same-model retry. Kept apart from the enum so the policy is one table that tests can read row by row.
/// </summary>
public static class FailoverReasons
{
    private static readonly (FailoverReason Reason, string Wire)[] WireNames =
    [
        (FailoverReason.Auth, "auth"),
        (FailoverReason.AuthPermanent, "auth_permanent"),
        (FailoverReason.Format, "format"),
        (FailoverReason.RateLimit, "rate_limit"),
        (FailoverReason.Overloaded, "overloaded"),
        (FailoverReason.Billing, "billing"),
        (FailoverReason.ServerError, "server_error"),
        (FailoverReason.Timeout, "timeout"),
        (FailoverReason.ContextOverflow, "context_overflow"),
        (FailoverReason.ModelNotFound, "model_not_found"),
        (FailoverReason.SessionExpired, "session_expired"),
        (FailoverReason.EmptyResponse, "empty_response"),
        (FailoverReason.NoErrorDetails, "no_error_details"),
        (FailoverReason.Unclassified, "unclassified"),
        (FailoverReason.Unknown, "unknown"),
        (FailoverReason.Refusal, "refusal"),
    ];

    private static readonly Dictionary<FailoverReason, string> ToWire = WireNames.ToDictionary(p => p.Reason, p => p.Wire);

    private static readonly Dictionary<string, FailoverReason> FromWire =
        WireNames.ToDictionary(p => p.Wire, p => p.Reason, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every reason, in declaration order.</summary>
    public static IReadOnlyList<FailoverReason> All { get; } = WireNames.Select(p => p.Reason).ToArray();

    /// <summary>The snake_case wire name, e.g. <c>rate_limit</c>, <c>auth_permanent</c>.</summary>
    public static string ToWireName(this FailoverReason reason) =>
        ToWire.TryGetValue(reason, out var wire)
            ? wire
            : throw new ArgumentOutOfRangeException(nameof(reason), reason, "Not a defined failover reason.");

    /// <summary>Parses a wire name (case-insensitive, surrounding whitespace ignored).</summary>
    public static bool TryParseWireName(string? wireName, out FailoverReason reason)
    {
        reason = default;
        return wireName is not null && FromWire.TryGetValue(wireName.Trim(), out reason);
    }

    /// <summary>Parses a wire name or throws <see cref="ArgumentException"/>.</summary>
    public static FailoverReason ParseWireName(string wireName) =>
        TryParseWireName(wireName, out var reason)
            ? reason
            : throw new ArgumentException($"Unknown failover reason '{wireName}'.", nameof(wireName));

    /// <summary>
    /// The HTTP status used when a failure of this reason is surfaced without a usable upstream status (item 39).
    /// Additions the reference leaves open: <c>context_overflow</c> and <c>refusal</c> are 400 (what LiteLLM
    /// clients get for ContextWindowExceeded / ContentPolicyViolation); <c>empty_response</c>,
    /// <c>no_error_details</c>, <c>unclassified</c> and <c>unknown</c> are 502 because the upstream, not the
    /// client, misbehaved.
    /// </summary>
    public static int SyntheticStatus(FailoverReason reason) => reason switch
    {
        FailoverReason.Billing => 402,
        FailoverReason.ServerError => 500,
        FailoverReason.RateLimit => 429,
        FailoverReason.Overloaded => 503,
        FailoverReason.Auth => 401,
        FailoverReason.AuthPermanent => 403,
        FailoverReason.Timeout => 408,
        FailoverReason.Format => 400,
        FailoverReason.ModelNotFound => 404,
        FailoverReason.SessionExpired => 410,
        FailoverReason.ContextOverflow => 400,
        FailoverReason.Refusal => 400,
        FailoverReason.EmptyResponse => 502,
        FailoverReason.NoErrorDetails => 502,
        FailoverReason.Unclassified => 502,
        FailoverReason.Unknown => 502,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Not a defined failover reason."),
    };

    /// <summary>
    /// Whether this failure moves the request to the next candidate (item 61). Everything does except context
    /// overflow (rethrown to compaction) and safety refusals. Whether an unknown error on the <em>last</em>
    /// candidate is rethrown raw is the fallback chain's business, not this table's.
    /// </summary>
    public static bool IsFailover(FailoverReason reason) =>
        reason is not (FailoverReason.ContextOverflow or FailoverReason.Refusal);

    /// <summary>Whether a same-model retry with backoff may help (item 69): rate limit, overload, server error, timeout.</summary>
    public static bool IsTransient(FailoverReason reason) =>
        reason is FailoverReason.RateLimit or FailoverReason.Overloaded or FailoverReason.ServerError or FailoverReason.Timeout;
}
