using System.Collections.Immutable;
using Durar.Actors.Configuration;
using Durar.Actors.Embeddings;
using Durar.Actors.Models;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Transports;

namespace Durar.Actors.Routing;

/// <summary>A successful embeddings run: the answer, the model that gave it and how many attempts it took.</summary>
internal sealed record EmbeddingRun(EmbeddingResult Result, ResolvedModel Model, int Attempts)
{
    public string? KeyId { get; init; }

    /// <summary>The attempts that failed before the one that answered (each with its reason, status and upstream headers).</summary>
    public ImmutableArray<AttemptRecord> Failures { get; init; } = [];
}

/// <summary>
/// Runs one embeddings request over its candidate chain: the same <see cref="RunLoop"/> as chat (key leases, rotation on a
/// rate limit, retries, cooldowns, the failover budget and the run's time limit, telemetry), with an attempt that is one call
/// to the wire's embeddings endpoint, whose usage and cost are reported on the key that served it. A candidate whose wire
/// cannot carry a field of the request (<see cref="IEmbeddingTransport.Unsupported"/>) is skipped before any key is leased,
/// as chat skips one; the run answers 400 naming the field when no candidate can carry it.
/// </summary>
internal sealed class EmbeddingRunner
{
    private readonly RunLoop _run;
    private readonly TransportRegistry _transports;
    private readonly RunWire<IEmbeddingTransport, EmbeddingRequest> _wire;

    public EmbeddingRunner(RunLoop run, TransportRegistry transports)
    {
        _run = run;
        _transports = transports;
        _wire = new(transports.FindEmbeddings, static (transport, request, candidate) => transport.Unsupported(request, candidate));
    }

    public Task<RunResult<EmbeddingRun>> EmbedAsync(RunPlan plan, EmbeddingRequest request, CancellationToken ct) =>
        _run.RunAsync(plan, request, _wire, _run.StartDeadline(), async (candidate, transport, key, attemptCt, run, trace) =>
        {
            var result = await transport.EmbedAsync(new EmbeddingCall(candidate, key.Secret, request, _run.IdleTimeout(candidate)), attemptCt)
                .ConfigureAwait(false);
            var cost = ModelPricing.Cost(result.Usage, candidate);
            _run.Keys.Report(key, candidate, new AttemptOutcome.Succeeded(result.Hints, result.Usage) { Cost = cost });
            trace.Succeeded(result.Usage, cost, result.UpstreamModel);
            return new EmbeddingRun(result, candidate, run.Attempts.Count + 1) { KeyId = key.KeyId, Failures = run.Failures };
        }, ct);

    /// <summary>
    /// The candidate chain of an embeddings request (see <see cref="RunPlanner"/>): every candidate must be able to embed (not
    /// marked as a chat model, on a wire with an embeddings endpoint). The fields a wire cannot carry are the run's to check.
    /// </summary>
    /// <exception cref="PlanException">A model or a fallback cannot serve (400/403/404 naming it).</exception>
    public RunPlan Plan(ModelResolver resolver, string model, IReadOnlyList<string>? fallbacks) =>
        RunPlanner.Plan(resolver, model, fallbacks, ModelKind.Embedding, NoEndpoint);

    private string? NoEndpoint(ResolvedModel candidate) =>
        _transports.FindEmbeddings(candidate.Provider.Api) is null
            ? $"`{candidate}` cannot embed: provider `{candidate.Provider.Id}` speaks {candidate.Provider.Api}, which has no embeddings endpoint."
            : null;
}
