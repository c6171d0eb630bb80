using System.Collections.Immutable;

namespace Durar.Actors.ClientTokens.Messages;

/// <summary>A message for one client token's entity (the shard region routes it by <see cref="TokenId"/>).</summary>
internal interface IClientTokenCommand : IDurarWireMessage
{
    string TokenId { get; }
}

/// <summary>A message for the index of client tokens (one entity, <see cref="ClientTokensHosting.IndexEntityId"/>).</summary>
internal interface IClientTokenIndexCommand : IDurarWireMessage;

/// <summary>
/// The client-token protocol: the admin API creates, rotates, revokes and reads tokens; the gateway's access check asks a
/// token to authorize a request (counting it against the token's rpm) and reports what the request used. Every command but
/// <see cref="ReportUsage"/> is answered with a <see cref="ClientTokenReply"/> or an <see cref="AuthorizeReply"/>.
/// </summary>
internal static class ClientTokenCommands
{
    /// <summary>Creates the token (answered <c>exists</c> when the id is taken).</summary>
    public sealed record Create(string TokenId, ClientTokenSpec Spec, string SecretHash) : IClientTokenCommand;

    /// <summary>Replaces the token's secret (answered <c>not_found</c> or <c>revoked</c> when it cannot).</summary>
    public sealed record Rotate(string TokenId, string SecretHash) : IClientTokenCommand;

    /// <summary>Revokes the token (again: the same answer).</summary>
    public sealed record Revoke(string TokenId) : IClientTokenCommand;

    /// <summary>The token's view with its usage.</summary>
    public sealed record Get(string TokenId) : IClientTokenCommand;

    /// <summary>May a request presenting a secret with this hash go on? Counted against the rpm when it may.</summary>
    public sealed record Authorize(string TokenId, string SecretHash) : IClientTokenCommand;

    /// <summary>
    /// What an authorized request used (tokens and cost are zero when it produced no answer), or, with
    /// <paramref name="Requests"/> = 0, what a session run of the token's namespace spent (the session reports it once per
    /// run: merged collect turns and compaction included, whoever still reads the reply). Not answered.
    /// </summary>
    public sealed record ReportUsage(string TokenId, long PromptTokens, long CompletionTokens, decimal Cost, int Requests = 1) : IClientTokenCommand;

    /// <summary>Adds a token id to the index (answered with <see cref="TokenIds"/>).</summary>
    public sealed record Register(string Registered) : IClientTokenIndexCommand;

    /// <summary>Every token id (answered with <see cref="TokenIds"/>).</summary>
    public sealed record List : IClientTokenIndexCommand
    {
        public static List Instance { get; } = new();
        private List() { }
    }
}

/// <summary>What a token looks like to the operator: everything but its secret, with its usage and the current period's spend.</summary>
internal sealed record ClientTokenView(
    string Id,
    ClientTokenSpec Spec,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RotatedAt,
    DateTimeOffset? RevokedAt,
    ClientTokenUsage Usage,
    decimal PeriodSpend,
    DateTimeOffset PeriodResetsAt);

/// <summary>The answer to a create, rotate, revoke or get: the view, or why there is none (<c>not_found</c>, <c>exists</c>, <c>revoked</c>).</summary>
internal sealed record ClientTokenReply(ClientTokenView? Token, string? Error) : IDurarWireMessage;

/// <summary>Every token id the index holds.</summary>
internal sealed record TokenIds(ImmutableArray<string> Ids) : IDurarWireMessage;

/// <summary>
/// The answer to <see cref="ClientTokenCommands.Authorize"/>. <see cref="Verdict"/> is one of <see cref="AuthorizeVerdicts"/>;
/// <see cref="Spec"/> is set when it is <c>ok</c>; <see cref="RetryAt"/> says when a limited token has room again (the end
/// of the minute window, or the start of the next budget period).
/// </summary>
internal sealed record AuthorizeReply(string Verdict, ClientTokenSpec? Spec, DateTimeOffset? RetryAt) : IDurarWireMessage;

/// <summary>The verdicts of <see cref="AuthorizeReply"/>.</summary>
internal static class AuthorizeVerdicts
{
    public const string Ok = "ok";
    /// <summary>No such token, or the secret does not match it (the two are not told apart).</summary>
    public const string Unknown = "unknown";
    public const string Revoked = "revoked";
    public const string Expired = "expired";
    public const string RateLimited = "rate_limited";
    public const string BudgetExceeded = "budget_exceeded";
}
