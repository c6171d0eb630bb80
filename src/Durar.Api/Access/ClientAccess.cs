using System.Globalization;
using Akka.Actor;
using Akka.Hosting;
using Durar.Actors.ClientTokens;
using Durar.Actors.ClientTokens.Messages;
using Durar.Actors.Configuration;
using Durar.Actors.Sessions;
using Durar.Api.Apis;

namespace Durar.Api.Access;

/// <summary>
/// Who may call <c>/v1</c>: the operator token (everything), a client token (its scopes, limits, budget and session
/// namespace, decided by the token's actor), or anyone when no operator token is configured (loopback binds only, see
/// <see cref="StartupRules"/>). A secret shaped like a client token (<c>sk-durar-...</c>) is always checked as one. Every
/// failed authentication counts against the client address (<see cref="AuthFailureLimiter"/>), which is the TCP peer unless
/// a trusted proxy (<c>gateway.trustedProxies</c>) forwarded it.
/// </summary>
internal sealed partial class ClientAccess(GatewayAuth auth, AuthFailureLimiter limiter, IRequiredActor<ClientTokenRegionKey> tokens,
    GatewaySettings gateway, ILogger<ClientAccess> logger)
{
    /// <summary>
    /// Not async: a request that needs no check (outside <c>/v1</c>) or passes as the operator's (or as anyone's, without an
    /// operator token) goes on in the caller's frame; only a refusal or a client token's check awaits here.
    /// </summary>
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.Request.Path.StartsWithSegments("/v1")) return next(context);
        var address = context.Connection.RemoteIpAddress;
        if (limiter.Wait(address) is { } wait) return TooManyFailures(wait).WriteAsync(context.Response);
        var presented = GatewayAuth.PresentedToken(context.Request);
        if (ClientTokenSecrets.TryParse(presented, out var tokenId)) return AsClientAsync(context, next, tokenId, presented!);
        if (auth.Enabled && !auth.IsOperatorToken(presented))
        {
            Failed(context);
            return ApiError.Unauthorized().WriteAsync(context.Response);
        }
        if (auth.Enabled) limiter.Succeeded(address);
        return next(context);
    }

    private async Task AsClientAsync(HttpContext context, RequestDelegate next, string tokenId, string secret)
    {
        AuthorizeReply reply;
        try
        {
            reply = await tokens.ActorRef.Ask<AuthorizeReply>(new ClientTokenCommands.Authorize(tokenId, ClientTokenSecrets.Hash(secret)),
                gateway.AskTimeout, context.RequestAborted);
        }
        catch (AskTimeoutException)
        {
            await new ApiError(503, "The client token could not be checked in time; try again.", "api_error", "token_unavailable") { RetryAfter = TimeSpan.FromSeconds(1) }
                .WriteAsync(context.Response);
            return;
        }
        switch (reply.Verdict)
        {
            case AuthorizeVerdicts.Ok:
                break;
            case AuthorizeVerdicts.RateLimited:
                await new ApiError(429, "This client token's rate limit (rpm/tpm) is reached; retry after the Retry-After delay.", "rate_limit_error",
                    "token_rate_limited") { RetryAfter = Until(reply.RetryAt) }.WriteAsync(context.Response);
                return;
            case AuthorizeVerdicts.BudgetExceeded:
                var resets = reply.RetryAt!.Value.ToUniversalTime();
                context.Response.Headers["x-durar-budget-resets"] = resets.ToString("O", CultureInfo.InvariantCulture);
                await new ApiError(429, $"This client token's budget is spent; it resets at {resets.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}.",
                    "rate_limit_error", "budget_exceeded") { RetryAfter = Until(reply.RetryAt) }.WriteAsync(context.Response);
                return;
            default:
                Failed(context);
                await (reply.Verdict switch
                {
                    AuthorizeVerdicts.Revoked => new ApiError(401, "This client token has been revoked.", "authentication_error", "token_revoked"),
                    AuthorizeVerdicts.Expired => new ApiError(401, "This client token has expired.", "authentication_error", "token_expired"),
                    _ => ApiError.Unauthorized(),
                }).WriteAsync(context.Response);
                return;
        }
        limiter.Succeeded(context.Connection.RemoteIpAddress);
        var principal = new ClientPrincipal(tokenId, reply.Spec!);
        if (Refusal(context, principal) is { } refused)
        {
            await refused.WriteAsync(context.Response);
            return;
        }
        context.Features.Set(principal);
        EnterNamespace(context, principal);
        try
        {
            await next(context);
        }
        finally
        {
            Report(principal);
        }
    }

    /// <summary>The scope a route needs (token management needs the operator token: null here, refused by its route group).</summary>
    internal static string ScopeOf(HttpRequest request)
    {
        var path = request.Path;
        if (path.StartsWithSegments("/v1/sessions")) return ClientTokenScopes.Sessions;
        if (path.StartsWithSegments("/v1/chat") || path.StartsWithSegments("/v1/embeddings") || path.StartsWithSegments("/v1/models")
            || path.StartsWithSegments("/v1/messages") || path.StartsWithSegments("/v1/responses"))
            return ClientTokenScopes.Chat;
        return ClientTokenScopes.Admin;
    }

    private static ApiError? Refusal(HttpContext context, ClientPrincipal principal)
    {
        var scope = ScopeOf(context.Request);
        if (!principal.Has(scope)) return MissingScope(scope);
        // A chat completion inside a session is a session turn too.
        if (scope == ClientTokenScopes.Chat && context.Request.Headers.ContainsKey(DurarHeaders.SessionKey) && !principal.Has(ClientTokenScopes.Sessions))
            return MissingScope(ClientTokenScopes.Sessions);
        if (context.Request.Path.StartsWithSegments("/v1/admin/tokens"))
            return new ApiError(403, "Client tokens are managed with the operator token (gateway.auth.token) only.", "permission_error", "operator_only");
        return null;
    }

    private static ApiError MissingScope(string scope) =>
        new(403, $"This client token lacks the `{scope}` scope.", "permission_error", "missing_scope", scope);

    /// <summary>
    /// Puts the request in the token's session namespace: the route's <c>{key}</c> and the session header are prefixed (routing
    /// has matched already; parameters bind from the route values when the endpoint runs). An invalid key is left as sent, so
    /// the endpoint refuses it naming the client's own text.
    /// </summary>
    private static void EnterNamespace(HttpContext context, ClientPrincipal principal)
    {
        if (context.Request.Path.StartsWithSegments("/v1/sessions") && context.Request.RouteValues.TryGetValue("key", out var raw)
            && raw is string key && SessionKeys.IsValid(key))
            context.Request.RouteValues["key"] = principal.SessionPrefix + key;
        var header = context.Request.Headers[DurarHeaders.SessionKey].ToString();
        if (header.Length > 0 && SessionKeys.IsValid(header))
            context.Request.Headers[DurarHeaders.SessionKey] = principal.SessionPrefix + header;
    }

    private void Report(ClientPrincipal principal)
    {
        var (prompt, completion, cost) = principal.Used;
        tokens.ActorRef.Tell(new ClientTokenCommands.ReportUsage(principal.TokenId, prompt, completion, cost));
    }

    private void Failed(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (limiter.Failed(address) is { } wait) LogBackoff(logger, address?.ToString() ?? "unknown", (int)Math.Ceiling(wait.TotalSeconds));
    }

    private static TimeSpan Until(DateTimeOffset? at) => at is { } t && t > DateTimeOffset.UtcNow ? t - DateTimeOffset.UtcNow : TimeSpan.FromSeconds(1);

    private static ApiError TooManyFailures(TimeSpan wait) =>
        new(429, "Too many failed authentications from this address; wait before trying again.", "rate_limit_error", "too_many_auth_failures")
        {
            RetryAfter = wait,
        };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client {Address} failed to authenticate too often: refused for {Seconds}s")]
    private static partial void LogBackoff(ILogger logger, string address, int seconds);
}
