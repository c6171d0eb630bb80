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

/// <summary>What a failure of one reason does to the key that was used (reference section G).</summary>
internal enum KeyEffect
{
    /// <summary>The request was the problem, not the key (format, unknown model, context overflow, expired session, refusal).</summary>
    None,

    /// <summary>Cools the key down at once (rate limit, auth): the cooldown schedule, or a longer provider hint.</summary>
    CoolDown,

    /// <summary>
    /// Transient upstream trouble, usually not the key's fault: counted, but cools the key only from
    /// <c>auth.cooldowns.transientThreshold</c> consecutive failures on (or for as long as a provider hint asks).
    /// </summary>
    CoolDownFromThreshold,

    /// <summary>Disables the key on the billing schedule (<c>auth.cooldowns.billingBase</c> doubling to <c>billingMax</c>).</summary>
    DisableBilling,

    /// <summary>Disables the key on the revoked-key schedule (<c>auth.cooldowns.authPermanentBase</c> doubling to <c>authPermanentMax</c>).</summary>
    DisableAuthPermanent,
}

/// <summary>
/// Facts about <see cref="FailoverReason"/> values, one row per reason: the snake_case wire name, the synthetic HTTP status
/// a gateway reports for it, whether it moves the request to the next candidate or deserves a same-model retry, and what
/// it does to the key. Kept apart from the enum so the policy is one table that tests can read row by row; a new reason is
/// a new row here (then its detection in <see cref="FailureClassifier"/> and its copy in <see cref="FailureCopy"/>).
/// </summary>
internal static class FailoverReasons
{
    /// <summary>One reason's facts.</summary>
    /// <param name="SyntheticStatus">
    /// The HTTP status used when a failure of this reason is surfaced without a usable upstream status (item 39). Additions
    /// the reference leaves open: <c>context_overflow</c> and <c>refusal</c> are 400 (what LiteLLM clients get for
    /// ContextWindowExceeded / ContentPolicyViolation); <c>empty_response</c>, <c>no_error_details</c>, <c>unclassified</c>
    /// and <c>unknown</c> are 502 because the upstream, not the client, misbehaved.
    /// </param>
    /// <param name="Failover">
    /// Moves the request to the next candidate (item 61): everything but context overflow (rethrown to compaction) and safety
    /// refusals. Whether an unknown error on the <em>last</em> candidate is rethrown raw is the chain's business.
    /// </param>
    /// <param name="Transient">A same-model retry with backoff may help (item 69).</param>
    public sealed record Facts(FailoverReason Reason, string Wire, int SyntheticStatus, bool Failover, bool Transient, KeyEffect Key);

    private static readonly Facts[] Table =
    [
        new(FailoverReason.Auth, "auth", 401, true, false, KeyEffect.CoolDown),
        new(FailoverReason.AuthPermanent, "auth_permanent", 403, true, false, KeyEffect.DisableAuthPermanent),
        new(FailoverReason.Format, "format", 400, true, false, KeyEffect.None),
        new(FailoverReason.RateLimit, "rate_limit", 429, true, true, KeyEffect.CoolDown),
        new(FailoverReason.Overloaded, "overloaded", 503, true, true, KeyEffect.CoolDownFromThreshold),
        new(FailoverReason.Billing, "billing", 402, true, false, KeyEffect.DisableBilling),
        new(FailoverReason.ServerError, "server_error", 500, true, true, KeyEffect.CoolDownFromThreshold),
        new(FailoverReason.Timeout, "timeout", 408, true, true, KeyEffect.CoolDownFromThreshold),
        new(FailoverReason.ContextOverflow, "context_overflow", 400, false, false, KeyEffect.None),
        new(FailoverReason.ModelNotFound, "model_not_found", 404, true, false, KeyEffect.None),
        new(FailoverReason.SessionExpired, "session_expired", 410, true, false, KeyEffect.None),
        new(FailoverReason.EmptyResponse, "empty_response", 502, true, false, KeyEffect.CoolDownFromThreshold),
        new(FailoverReason.NoErrorDetails, "no_error_details", 502, true, false, KeyEffect.CoolDownFromThreshold),
        new(FailoverReason.Unclassified, "unclassified", 502, true, false, KeyEffect.CoolDownFromThreshold),
        new(FailoverReason.Unknown, "unknown", 502, true, false, KeyEffect.CoolDownFromThreshold),
        new(FailoverReason.Refusal, "refusal", 400, false, false, KeyEffect.None),
    ];

    private static readonly Facts[] ByReason = Index();

    private static readonly Dictionary<string, FailoverReason> FromWire =
        Table.ToDictionary(p => p.Wire, p => p.Reason, StringComparer.OrdinalIgnoreCase);

    private static Facts[] Index()
    {
        var values = Enum.GetValues<FailoverReason>();
        var index = new Facts[values.Max(v => (int)v) + 1];
        foreach (var row in Table) index[(int)row.Reason] = row;
        foreach (var v in values)
            if (index[(int)v] is null) throw new InvalidOperationException($"FailoverReason.{v} has no row in FailoverReasons.Table.");
        return index;
    }

    /// <summary>Every reason, in declaration order.</summary>
    public static IReadOnlyList<FailoverReason> All { get; } = Table.Select(p => p.Reason).ToArray();

    /// <summary>The row of <paramref name="reason"/>.</summary>
    public static Facts Of(FailoverReason reason) =>
        (uint)reason < (uint)ByReason.Length && ByReason[(int)reason] is { } row
            ? row
            : throw new ArgumentOutOfRangeException(nameof(reason), reason, "Not a defined failover reason.");

    /// <summary>The snake_case wire name, e.g. <c>rate_limit</c>, <c>auth_permanent</c>.</summary>
    public static string ToWireName(this FailoverReason reason) => Of(reason).Wire;

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

    /// <inheritdoc cref="Facts.SyntheticStatus"/>
    public static int SyntheticStatus(FailoverReason reason) => Of(reason).SyntheticStatus;

    /// <inheritdoc cref="Facts.Failover"/>
    public static bool IsFailover(FailoverReason reason) => Of(reason).Failover;

    /// <inheritdoc cref="Facts.Transient"/>
    public static bool IsTransient(FailoverReason reason) => Of(reason).Transient;

    /// <summary>What a failure of this reason does to the key (see <see cref="KeyEffect"/>).</summary>
    public static KeyEffect KeyEffectOf(FailoverReason reason) => Of(reason).Key;
}
