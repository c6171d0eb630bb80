using System.Collections.Immutable;
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
/// intent, not filtered). An explicit model without fallbacks is strict. Shared by the HTTP API and the <c>IChatClient</c>.
/// </summary>
internal static class RunPlanner
{
    /// <summary>
    /// The most fallbacks a request may name (<c>fallbacks</c>, OpenRouter's <c>models</c>): more only adds upstream calls
    /// one client can make the gateway spend, and parsing cost. The HTTP parser refuses a longer list naming its field.
    /// </summary>
    public const int MaxFallbacks = 16;

    public static RunPlan Plan(ModelResolver resolver, string model, IReadOnlyList<string>? fallbacks)
    {
        if (fallbacks is { Count: > MaxFallbacks })
            throw new PlanException(400, $"`fallbacks` may list at most {MaxFallbacks} models, got {fallbacks.Count}.", "too_many_fallbacks", "fallbacks");
        var candidates = ImmutableArray.CreateBuilder<ResolvedModel>();
        var seen = new HashSet<ModelRef>();
        var isDefault = ModelResolver.IsDefaultTarget(model);
        var requested = resolver.Resolve(model);
        if (!requested.Success)
            throw requested.Failure == ResolveFailure.Malformed
                ? new PlanException(400, requested.Message!, "invalid_model", "model")
                : new PlanException(404, requested.Message!, "model_not_found", "model");
        if (!isDefault && !resolver.Policy.IsAllowed(requested.Model!.Ref))
            throw new PlanException(403, ModelPolicy.RejectionMessage(requested.Model.Ref), "model_not_allowed", "model");
        candidates.Add(requested.Model!);
        seen.Add(requested.Model!.Ref);

        IEnumerable<string> chain = fallbacks ?? (isDefault ? resolver.ConfiguredFallbacks : []);
        var i = 0;
        foreach (var name in chain)
        {
            var resolved = resolver.Resolve(name);
            if (!resolved.Success) throw new PlanException(400, $"fallbacks[{i}]: {resolved.Message}", "invalid_fallback", "fallbacks");
            if (fallbacks is not null && !resolver.Policy.IsAllowed(resolved.Model!.Ref))
                throw new PlanException(403, ModelPolicy.RejectionMessage(resolved.Model.Ref), "model_not_allowed", "fallbacks");
            if (seen.Add(resolved.Model!.Ref)) candidates.Add(resolved.Model!);
            i++;
        }
        return new RunPlan(candidates.ToImmutable());
    }
}
