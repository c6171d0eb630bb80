using Durar.Actors.ClientTokens.Messages;

namespace Durar.Actors.ClientTokens;

/// <summary>
/// One client token as its journal tells it: the spec, the hash of the current secret, when it was rotated or revoked,
/// its usage since creation and the spend of its current budget period. Pure: <see cref="Apply"/> folds an event,
/// <see cref="Decide"/> answers an authorization given the time and the minute window's verdict. The actor only orchestrates.
/// </summary>
internal sealed record ClientTokenState(
    string Id,
    ClientTokenSpec Spec,
    string SecretHash,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RotatedAt,
    DateTimeOffset? RevokedAt,
    ClientTokenUsage Usage,
    DateTimeOffset PeriodStart,
    decimal PeriodSpend)
{
    /// <summary>The state after <paramref name="e"/> (a token that does not exist yet is null).</summary>
    public static ClientTokenState? Apply(ClientTokenState? state, IClientTokenEvent e) => (state, e) switch
    {
        (null, ClientTokenEvents.Created c) => new ClientTokenState(c.TokenId, c.Spec, c.SecretHash, c.At, null, null, ClientTokenUsage.None,
            BudgetPeriods.StartOf(c.Spec.BudgetPeriod, c.At), 0m),
        (null, _) => null,
        (_, ClientTokenEvents.Rotated r) => state with { SecretHash = r.SecretHash, RotatedAt = r.At },
        (_, ClientTokenEvents.Revoked r) => state with { RevokedAt = state.RevokedAt ?? r.At },
        (_, ClientTokenEvents.Used u) => state.WithUse(u),
        _ => state,
    };

    private ClientTokenState WithUse(ClientTokenEvents.Used u)
    {
        var start = BudgetPeriods.StartOf(Spec.BudgetPeriod, u.At);
        // A use in a later period opens it; one from an earlier period (a late report) counts in the totals only.
        var spend = start > PeriodStart ? u.Cost : start == PeriodStart ? PeriodSpend + u.Cost : PeriodSpend;
        return this with
        {
            Usage = Usage.Add(u.Requests, u.PromptTokens, u.CompletionTokens, u.Cost),
            PeriodStart = start > PeriodStart ? start : PeriodStart,
            PeriodSpend = spend,
        };
    }

    /// <summary>The spend of the period that holds <paramref name="now"/> (zero once a new period has begun).</summary>
    public decimal SpendAt(DateTimeOffset now) => BudgetPeriods.StartOf(Spec.BudgetPeriod, now) == PeriodStart ? PeriodSpend : 0m;

    /// <summary><c>active</c>, <c>revoked</c> or <c>expired</c> at <paramref name="now"/>.</summary>
    public string StatusAt(DateTimeOffset now) =>
        RevokedAt is not null ? "revoked" : Spec.ExpiresAt is { } expires && now >= expires ? "expired" : "active";

    /// <summary>
    /// The verdict on a request presenting <paramref name="secretHash"/> at <paramref name="now"/>, given when the minute window
    /// has room again (<paramref name="limitedUntil"/>, null = now). In this order: the secret, revoked, expired, the budget,
    /// the rpm/tpm window.
    /// </summary>
    public AuthorizeReply Decide(string secretHash, DateTimeOffset now, DateTimeOffset? limitedUntil)
    {
        if (!ClientTokenSecrets.SameHash(secretHash, SecretHash)) return new AuthorizeReply(AuthorizeVerdicts.Unknown, null, null);
        if (RevokedAt is not null) return new AuthorizeReply(AuthorizeVerdicts.Revoked, null, null);
        if (Spec.ExpiresAt is { } expires && now >= expires) return new AuthorizeReply(AuthorizeVerdicts.Expired, null, null);
        if (Spec.Budget is { } budget && SpendAt(now) >= budget)
            return new AuthorizeReply(AuthorizeVerdicts.BudgetExceeded, null, BudgetPeriods.EndOf(Spec.BudgetPeriod, now));
        if (limitedUntil is { } until) return new AuthorizeReply(AuthorizeVerdicts.RateLimited, null, until);
        return new AuthorizeReply(AuthorizeVerdicts.Ok, Spec, null);
    }

    /// <summary>The operator's view at <paramref name="now"/>.</summary>
    public ClientTokenView ViewAt(DateTimeOffset now) =>
        new(Id, Spec, StatusAt(now), CreatedAt, RotatedAt, RevokedAt, Usage, SpendAt(now), BudgetPeriods.EndOf(Spec.BudgetPeriod, now));
}
