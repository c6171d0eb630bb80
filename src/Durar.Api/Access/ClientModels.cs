using System.Collections.Immutable;
using Durar.Actors.Models;
using Durar.Actors.Routing;
using Durar.Actors.Sessions.Messages;
using Durar.Api.Apis;

namespace Durar.Api.Access;

/// <summary>
/// A client token's model allowlist, checked on every candidate of a plan as the gateway's own allowlist is: a model the
/// client named (<c>model</c>, <c>fallbacks</c>/<c>models</c>, a session turn's or PATCH's <c>model</c>) outside it is a 403
/// naming it; a candidate of the configured chain (<c>durar</c>) outside it is dropped, and a chain left empty is a 403.
/// And the session namespace seen from outside: the prefix <see cref="ClientAccess"/> added is taken off every key it writes.
/// </summary>
internal static class ClientModels
{
    /// <exception cref="ApiErrorException">A client-named candidate, or every configured one, is outside the token's allowlist.</exception>
    public static RunPlan Restrict(HttpContext context, RunPlan plan, string requested, bool clientFallbacks)
    {
        if (ClientPrincipal.Of(context) is not { } principal || !principal.Models.IsRestricted) return plan;
        var isDefault = ModelResolver.IsDefaultTarget(requested);
        var kept = ImmutableArray.CreateBuilder<ResolvedModel>();
        for (var i = 0; i < plan.Candidates.Length; i++)
        {
            var candidate = plan.Candidates[i];
            if (principal.Models.IsAllowed(candidate.Ref)) kept.Add(candidate);
            else if (i == 0 && !isDefault) throw NotAllowed(candidate, "model");
            else if (clientFallbacks) throw NotAllowed(candidate, "fallbacks");
        }
        if (kept.Count == 0) throw NotAllowed(plan.Candidates[0], "model");
        return kept.Count == plan.Candidates.Length ? plan : plan with { Candidates = kept.ToImmutable() };
    }

    /// <summary>A model a client names outside a plan (a session turn's or PATCH's <c>model</c>), once resolved.</summary>
    /// <exception cref="ApiErrorException">It is outside the token's allowlist.</exception>
    public static void Check(HttpContext context, ResolvedModel model, string param)
    {
        if (ClientPrincipal.Of(context) is { } principal && !principal.Models.IsAllowed(model.Ref)) throw NotAllowed(model, param);
    }

    private static ApiErrorException NotAllowed(ResolvedModel model, string param) =>
        new(new ApiError(403, $"Model \"{model.Ref}\" is not allowed for this client token.", "permission_error", "model_not_allowed", param));

    /// <summary>A session key as the client knows it (without its token's namespace prefix).</summary>
    public static string OutwardKey(HttpContext context, string key) =>
        ClientPrincipal.Of(context) is { } p && key.StartsWith(p.SessionPrefix, StringComparison.Ordinal) ? key[p.SessionPrefix.Length..] : key;

    /// <summary>A session answer with its key as the client knows it.</summary>
    public static object Outward(HttpContext context, object answer) => answer switch
    {
        SessionView v => v with { SessionKey = OutwardKey(context, v.SessionKey) },
        TranscriptPage p => p with { SessionKey = OutwardKey(context, p.SessionKey) },
        SessionDeleted d => d with { SessionKey = OutwardKey(context, d.SessionKey) },
        _ => answer,
    };
}
