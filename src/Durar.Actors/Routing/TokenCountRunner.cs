using System.Collections.Immutable;
using Durar.Actors.Chat;
using Durar.Actors.Models;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;

namespace Durar.Actors.Routing;

/// <summary>A counted request: the input tokens, the model that counted them and how many attempts it took.</summary>
internal sealed record TokenCountRun(long InputTokens, ResolvedModel Model, int Attempts);

/// <summary>
/// Counts a chat request's input tokens with the provider's own endpoint (<see cref="ITokenCountTransport"/>, Anthropic's
/// <c>count_tokens</c>) through the same <see cref="RunLoop"/> as chat: a leased key, rotation on a rate limit, cooldowns, the
/// failover budget. Only candidates whose wire can count take part (<see cref="Countable"/>); the caller estimates when none
/// can. A count uses no tokens: the key's success is reported without usage.
/// </summary>
internal sealed class TokenCountRunner(RunLoop run, TransportRegistry transports)
{
    private readonly RunWire<ITokenCountTransport, ChatRequest> _wire = new(
        api => transports.Find(api) as ITokenCountTransport,
        static (transport, request, candidate) => ((IChatTransport)transport).Unsupported(request, candidate));

    /// <summary>The plan's candidates whose wire counts tokens, in order; empty when none does.</summary>
    public ImmutableArray<ResolvedModel> Countable(RunPlan plan) =>
        [.. plan.Candidates.Where(c => transports.Find(c.Provider.Api) is ITokenCountTransport)];

    /// <summary>Counts over <paramref name="plan"/>'s countable candidates (there must be one: see <see cref="Countable"/>).</summary>
    public Task<RunResult<TokenCountRun>> CountAsync(RunPlan plan, ChatRequest request, CancellationToken ct) =>
        run.RunAsync(plan with { Candidates = Countable(plan) }, request, _wire, run.StartDeadline(),
            async (candidate, transport, key, attemptCt, state, trace) =>
            {
                var count = await transport.CountTokensAsync(new UpstreamCall(candidate, key.Secret, request, run.IdleTimeout(candidate)), attemptCt)
                    .ConfigureAwait(false);
                run.Keys.Report(key, candidate, new AttemptOutcome.Succeeded(RateLimitHints.None, null));
                trace.Succeeded(null, 0, null);
                return new TokenCountRun(count, candidate, state.Attempts.Count + 1);
            }, ct);
}
