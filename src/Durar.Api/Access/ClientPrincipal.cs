using Durar.Actors.Chat;
using Durar.Actors.ClientTokens;
using Durar.Actors.Models;

namespace Durar.Api.Access;

/// <summary>
/// The client token a request was authorized with (a request feature; absent for the operator token and an open gateway):
/// what it may do (scopes, its model allowlist), the prefix of its session namespace, and what the request used, which
/// <see cref="ClientAccess"/> reports to the token's actor when the request ends.
/// </summary>
internal sealed class ClientPrincipal(string tokenId, ClientTokenSpec spec)
{
    private long _prompt;
    private long _completion;
    private decimal _cost;

    public string TokenId { get; } = tokenId;

    public ClientTokenSpec Spec { get; } = spec;

    /// <summary>The token's own allowlist (unrestricted when the token names no models).</summary>
    public ModelPolicy Models { get; } = new(spec.Models.IsDefault ? [] : spec.Models);

    /// <summary>
    /// What the token's session keys are prefixed with inside the gateway: a token's <c>demo</c> is the entity
    /// <c>ct-&lt;id&gt;:demo</c>, so two tokens never share (or see) a session and the client never sees the prefix.
    /// </summary>
    public string SessionPrefix { get; } = ClientTokenSessions.Prefix(tokenId);

    public bool Has(string scope) => Spec.Has(scope);

    /// <summary>Adds what an answer used (called by the handlers that produce one).</summary>
    public void Record(TokenUsage? usage, decimal cost)
    {
        if (usage is not null)
        {
            Interlocked.Add(ref _prompt, usage.Prompt);
            Interlocked.Add(ref _completion, usage.Output);
        }
        lock (this) _cost += cost;
    }

    /// <summary>What the request used: prompt and completion tokens and cost.</summary>
    public (long Prompt, long Completion, decimal Cost) Used
    {
        get
        {
            lock (this) return (Interlocked.Read(ref _prompt), Interlocked.Read(ref _completion), _cost);
        }
    }

    /// <summary>The client token of <paramref name="context"/>'s request, or null (the operator, or no auth).</summary>
    public static ClientPrincipal? Of(HttpContext context) => context.Features.Get<ClientPrincipal>();

    /// <summary>Records an answer's usage against the request's client token, if it has one.</summary>
    public static void RecordUse(HttpContext context, TokenUsage? usage, ResolvedModel model) =>
        Of(context)?.Record(usage, ModelPricing.Cost(usage, model));
}
