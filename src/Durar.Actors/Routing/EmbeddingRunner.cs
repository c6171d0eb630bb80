using Durar.Actors.Configuration;
using Durar.Actors.Embeddings;
using Durar.Actors.Models;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Transports;

namespace Durar.Actors.Routing;

/// <summary>A successful embeddings run: the answer, the model that gave it and how many attempts it took.</summary>
public sealed record EmbeddingRun(EmbeddingResult Result, ResolvedModel Model, int Attempts)
{
    public string? KeyId { get; init; }
}

/// <summary>
/// Runs one embeddings request over its candidate chain: the same <see cref="RunLoop"/> as chat (key leases, rotation on a
/// rate limit, retries, cooldowns, the failover budget), with an attempt that is one call to the wire's embeddings endpoint,
/// whose usage and cost are reported on the key that served it.
/// </summary>
public sealed class EmbeddingRunner
{
    private readonly RunLoop _run;
    private readonly TransportRegistry _transports;
    private readonly Func<string, IEmbeddingTransport?> _transportFor;

    public EmbeddingRunner(RunLoop run, TransportRegistry transports)
    {
        _run = run;
        _transports = transports;
        _transportFor = transports.FindEmbeddings;
    }

    public Task<RunResult<EmbeddingRun>> EmbedAsync(RunPlan plan, EmbeddingRequest request, CancellationToken ct) =>
        _run.RunAsync<IEmbeddingTransport, EmbeddingRun>(plan, _transportFor, async (candidate, transport, key, attemptCt, attempts) =>
        {
            var result = await transport.EmbedAsync(new EmbeddingCall(candidate, key.Secret, request, _run.IdleTimeout(candidate)), attemptCt)
                .ConfigureAwait(false);
            _run.Keys.Report(key, candidate, new AttemptOutcome.Succeeded(result.Hints, result.Usage) { Cost = ModelPricing.Cost(result.Usage, candidate) });
            return new EmbeddingRun(result, candidate, attempts) { KeyId = key.KeyId };
        }, ct);

    /// <summary>
    /// The candidate chain of an embeddings request (see <see cref="RunPlanner"/>): every candidate must be able to embed (not
    /// marked as a chat model, on a wire with an embeddings endpoint) and its wire must carry every field of
    /// <paramref name="request"/>.
    /// </summary>
    /// <exception cref="PlanException">A model or a fallback cannot serve (400/403/404 naming it), or a field cannot be carried (400 naming it).</exception>
    public RunPlan Plan(ModelResolver resolver, string model, IReadOnlyList<string>? fallbacks, EmbeddingRequest request)
    {
        var plan = RunPlanner.Plan(resolver, model, fallbacks, ModelKind.Embedding, NoEndpoint);
        foreach (var candidate in plan.Candidates)
            if (_transports.FindEmbeddings(candidate.Provider.Api)!.Unsupported(request, candidate) is { } field)
                throw new PlanException(400, $"`{field}` cannot be sent to `{candidate}`: its {candidate.Provider.Api} embeddings endpoint has no such field.",
                    "unsupported_parameter", field);
        return plan;
    }

    private string? NoEndpoint(ResolvedModel candidate) =>
        _transports.FindEmbeddings(candidate.Provider.Api) is null
            ? $"`{candidate}` cannot embed: provider `{candidate.Provider.Id}` speaks {candidate.Provider.Api}, which has no embeddings endpoint."
            : null;
}
