using System.Collections.Immutable;

namespace Durar.Actors.ClientTokens;

/// <summary>
/// The scopes a client token can hold. A token reaches only the routes of its scopes: <c>chat</c> the model routes (chat
/// completions, embeddings, models), <c>sessions</c> the sessions API (and a chat completion in a session), <c>admin</c> the
/// operator routes other than client-token management, which only the operator token reaches.
/// </summary>
internal static class ClientTokenScopes
{
    public const string Chat = "chat";
    public const string Sessions = "sessions";
    public const string Admin = "admin";

    /// <summary>Every scope, in the order they are listed.</summary>
    public static readonly ImmutableArray<string> All = [Chat, Sessions, Admin];
}

/// <summary>The periods a spend budget can cover; each starts at 00:00 UTC (a day) or on the 1st at 00:00 UTC (a month).</summary>
internal static class BudgetPeriods
{
    public const string Day = "day";
    public const string Month = "month";

    /// <summary>The start of the period of <paramref name="period"/> that holds <paramref name="at"/>.</summary>
    public static DateTimeOffset StartOf(string period, DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return period == Month ? new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero) : new DateTimeOffset(utc.Date, TimeSpan.Zero);
    }

    /// <summary>When the period that holds <paramref name="at"/> ends (the budget resets).</summary>
    public static DateTimeOffset EndOf(string period, DateTimeOffset at)
    {
        var start = StartOf(period, at);
        return period == Month ? start.AddMonths(1) : start.AddDays(1);
    }
}

/// <summary>
/// What an operator chose for a client token when creating it: a name (for people), its scopes, the models it may use
/// (exact refs or <c>provider/*</c>; empty = every model the gateway allows), its per-minute limits, its spend budget per
/// period and its expiry. Persisted inside <c>ClientTokenEvents.Created</c>: it never holds the secret.
/// </summary>
/// <param name="Name">A label for people (shown in lists); not unique.</param>
/// <param name="Scopes">Some of <see cref="ClientTokenScopes.All"/>.</param>
/// <param name="Models">The model allowlist of this token; empty = no restriction beyond the gateway's own.</param>
/// <param name="Rpm">Requests per minute, counted by the token's actor (cluster-wide); null = no limit.</param>
/// <param name="Tpm">Tokens per minute (prompt plus completion, as answered); null = no limit.</param>
/// <param name="Budget">Spend (in the catalog's currency, USD by default) per <paramref name="BudgetPeriod"/>; null = no budget.</param>
/// <param name="BudgetPeriod"><see cref="BudgetPeriods.Day"/> or <see cref="BudgetPeriods.Month"/>.</param>
/// <param name="ExpiresAt">When the token stops working; null = never.</param>
internal sealed record ClientTokenSpec(
    string Name,
    ImmutableArray<string> Scopes,
    ImmutableArray<string> Models,
    int? Rpm,
    long? Tpm,
    decimal? Budget,
    string BudgetPeriod,
    DateTimeOffset? ExpiresAt)
{
    public bool Has(string scope) => !Scopes.IsDefault && Scopes.Contains(scope);
}

/// <summary>A token's usage since it was created: requests answered, tokens and cost.</summary>
internal sealed record ClientTokenUsage(long Requests, long PromptTokens, long CompletionTokens, decimal Cost)
{
    public static readonly ClientTokenUsage None = new(0, 0, 0, 0m);

    public ClientTokenUsage Add(long requests, long prompt, long completion, decimal cost) =>
        new(Requests + requests, PromptTokens + prompt, CompletionTokens + completion, Cost + cost);
}
