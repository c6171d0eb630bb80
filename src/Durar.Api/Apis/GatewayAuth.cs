using System.Net;
using System.Security.Cryptography;
using System.Text;
using Durar.Api.Access;

namespace Durar.Api.Apis;

/// <summary>
/// The operator token (<c>gateway.auth.token</c> or <c>DURAR_GATEWAY_TOKEN</c>): when one is configured every <c>/v1</c>
/// route needs it or a client token (<see cref="ClientAccess"/>). The comparison is constant-time; a missing or wrong token
/// is a 401 in OpenAI's shape.
/// </summary>
public sealed class GatewayAuth(string? token)
{
    private readonly byte[]? _expected = string.IsNullOrEmpty(token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public bool Enabled => _expected is not null;

    /// <summary>The token a request presents: <c>Authorization: Bearer</c>, else <c>x-api-key</c> (Anthropic's header); null = none.</summary>
    internal static string? PresentedToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header[7..].Trim();
        var apiKey = request.Headers["x-api-key"].ToString();
        return apiKey.Length > 0 ? apiKey.Trim() : null;
    }

    public bool IsAuthorized(HttpRequest request) => _expected is null || IsOperatorToken(PresentedToken(request));

    /// <summary>Whether <paramref name="presented"/> is the operator token (false when none is configured).</summary>
    internal bool IsOperatorToken(string? presented)
    {
        if (_expected is null || presented is null) return false;
        // Hashing both sides gives equal lengths, so FixedTimeEquals leaks neither content nor length.
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _expected);
    }

    /// <summary>
    /// The operator rule (admin routes, <c>/metrics</c>): a client token with the <c>admin</c> scope (checked by
    /// <see cref="ClientAccess"/>), the gateway token when one is configured, else loopback callers only (a connection without
    /// a remote address is not loopback). Null = allowed; otherwise the error to answer with.
    /// </summary>
    public ApiError? AdminRefusal(HttpContext context)
    {
        if (ClientPrincipal.Of(context) is { } client)
            return client.Has(Durar.Actors.ClientTokens.ClientTokenScopes.Admin) ? null
                : new ApiError(403, "This client token lacks the `admin` scope.", "permission_error", "missing_scope", "admin");
        if (Enabled) return IsAuthorized(context.Request) ? null : ApiError.Unauthorized();
        return context.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip)
            ? null
            : new ApiError(403, "Admin routes need a gateway token (gateway.auth.token) when called from another host.", "permission_error", "admin_requires_token");
    }

    /// <summary>
    /// The operator token itself (client-token management): a client token, even with <c>admin</c>, cannot mint tokens. Without
    /// an operator token configured, loopback callers only.
    /// </summary>
    internal ApiError? OperatorRefusal(HttpContext context) =>
        ClientPrincipal.Of(context) is not null
            ? new ApiError(403, "Client tokens are managed with the operator token (gateway.auth.token) only.", "permission_error", "operator_only")
            : AdminRefusal(context);

    public static IApplicationBuilder UseGatewayAuth(IApplicationBuilder app, GatewayAuth auth) =>
        app.Use(app.ApplicationServices.GetRequiredService<ClientAccess>().InvokeAsync);
}
