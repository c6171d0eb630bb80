using System.Collections.Immutable;
using Durar.Actors.Configuration;
using Durar.Actors.Models;

namespace Durar.Actors.Routing;

/// <summary>Why a plan could not be built, with the HTTP status the gateway answers.</summary>
internal sealed class PlanException(int status, string message, string code, string? param) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string? Param { get; } = param;
}

/// <summary>
/// Builds the candidate chain of a stateless request: the requested model (checked against the allowlist unless it is
/// <c>durar</c>), then the request's own fallbacks (each checked against the allowlist too: a client-chosen candidate is a
/// client-chosen model, whichever field names it), or for <c>durar</c> the configured fallbacks and primary (operator
/// intent, not filtered). An explicit model without fallbacks is strict. Every candidate must serve the request's kind
/// (<see cref="ModelKind"/>): chat on an embedding model, or embeddings on a chat model, is a 400 naming it before any call.
/// Shared by the HTTP API, the <c>IChatClient</c> and the <c>IEmbeddingGenerator</c>.
/// </summary>
internal static class RunPlanner
{
    /// <summary>
    /// The most fallbacks a request may name (<c>fallbacks</c>, OpenRouter's <c>models</c>): more only adds upstream calls
    /// one client can make the gateway spend, and parsing cost. The HTTP parser refuses a longer list naming its field.
    /// </summary>
    public const int MaxFallbacks = 16;

    /// <summary>The plan of a chat request.</summary>
    public static RunPlan Plan(ModelResolver resolver, string model, IReadOnlyList<string>? fallbacks) =>
        Plan(resolver, model, fallbacks, ModelKind.Chat, null);

    /// <summary>The plan of a request of <paramref name="kind"/>.</summary>
    /// <param name="refuse">A further check of each candidate (e.g. its wire has no embeddings): the reason it cannot serve, or null.</param>
    public static RunPlan Plan(ModelResolver resolver, string model, IReadOnlyList<string>? fallbacks, ModelKind kind, Func<ResolvedModel, string?>? refuse)
    {
        if (fallbacks is { Count: > MaxFallbacks })
            throw new PlanException(400, $"`fallbacks` may list at most {MaxFallbacks} models, got {fallbacks.Count}.", "too_many_fallbacks", "fallbacks");
        var isDefault = ModelResolver.IsDefaultTarget(model);
        var requested = resolver.Resolve(model);
        if (!requested.Success)
            throw requested.Failure == ResolveFailure.Malformed
                ? new PlanException(400, requested.Message!, "invalid_model", "model")
                : new PlanException(404, requested.Message!, "model_not_found", "model");
        if (!isDefault && !resolver.Policy.IsAllowed(requested.Model!.Ref))
            throw new PlanException(403, ModelPolicy.RejectionMessage(requested.Model.Ref), "model_not_allowed", "model");
        if (Refusal(requested.Model!, kind, refuse) is { } refused)
            throw new PlanException(400, isDefault ? $"`{model}` is {requested.Model}: {refused}" : refused, "unsupported_model", "model");
        // Most requests name one model and no fallbacks: their plan is that model, with no list or set built for a chain.
        if (fallbacks is { Count: 0 } || (fallbacks is null && !isDefault)) return new RunPlan([requested.Model!]) { Kind = kind };
        IEnumerable<string> chain = fallbacks ?? resolver.ConfiguredFallbacks;
        var candidates = ImmutableArray.CreateBuilder<ResolvedModel>();
        var seen = new HashSet<ModelRef>();
        candidates.Add(requested.Model!);
        seen.Add(requested.Model!.Ref);
        var i = -1;
        foreach (var name in chain)
        {
            i++;
            var resolved = resolver.Resolve(name);
            if (!resolved.Success) throw new PlanException(400, $"fallbacks[{i}]: {resolved.Message}", "invalid_fallback", "fallbacks");
            if (fallbacks is not null && !resolver.Policy.IsAllowed(resolved.Model!.Ref))
                throw new PlanException(403, ModelPolicy.RejectionMessage(resolved.Model.Ref), "model_not_allowed", "fallbacks");
            if (Refusal(resolved.Model!, kind, refuse) is { } refusedFallback)
            {
                // A configured chain (durar) may mix kinds: it keeps what can serve. A client's own list is refused by name.
                if (fallbacks is null) continue;
                throw new PlanException(400, $"fallbacks[{i}]: {refusedFallback}", "invalid_fallback", "fallbacks");
            }
            if (seen.Add(resolved.Model!.Ref)) candidates.Add(resolved.Model!);
        }
        return new RunPlan(candidates.ToImmutable()) { Kind = kind };
    }

    /// <summary>Why <paramref name="model"/> cannot serve a request of <paramref name="kind"/>, or null.</summary>
    public static string? Refusal(ResolvedModel model, ModelKind kind, Func<ResolvedModel, string?>? refuse = null) =>
        model.Model.Kind is { } marked && marked != kind
            ? marked == ModelKind.Embedding
                ? $"`{model}` is an embedding model: use POST /v1/embeddings."
                : $"`{model}` is a chat model, not an embedding model: use POST /v1/chat/completions."
            : refuse?.Invoke(model);
}
