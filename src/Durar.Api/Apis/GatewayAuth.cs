using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Durar.Api.Apis;

/// <summary>
/// Bearer-token check for every <c>/v1</c> route when a gateway token is configured (<c>gateway.auth.token</c> or
/// <c>DURAR_GATEWAY_TOKEN</c>). The comparison is constant-time; a missing or wrong token is a 401 in OpenAI's shape.
/// </summary>
public sealed class GatewayAuth(string? token)
{
    private readonly byte[]? _expected = string.IsNullOrEmpty(token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public bool Enabled => _expected is not null;

    public bool IsAuthorized(HttpRequest request)
    {
        if (_expected is null) return true;
        if (PresentedToken(request) is not { } token) return false;
        // Hashing both sides gives equal lengths, so FixedTimeEquals leaks neither content nor length.
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        return CryptographicOperations.FixedTimeEquals(presented, _expected);
    }

    /// <summary>
    /// The token the client presented: <c>Authorization: Bearer</c> (OpenAI's SDKs), else <c>x-api-key</c> (Anthropic's);
    /// null when neither is there.
    /// </summary>
    internal static string? PresentedToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header[7..].Trim();
        return request.Headers["x-api-key"].ToString() is { Length: > 0 } key ? key.Trim() : null;
    }

    /// <summary>
    /// The operator rule (admin routes, <c>/metrics</c>): the gateway token when one is configured, else loopback callers
    /// only. Null = allowed; otherwise the error to answer with (401 without a valid token, 403 from another host).
    /// </summary>
    public ApiError? AdminRefusal(HttpContext context)
    {
        if (Enabled) return IsAuthorized(context.Request) ? null : ApiError.Unauthorized();
        return context.Connection.RemoteIpAddress is { } ip && !IPAddress.IsLoopback(ip)
            ? new ApiError(403, "Admin routes need a gateway token (gateway.auth.token) when called from another host.", "permission_error", "admin_requires_token")
            : null;
    }

    public static IApplicationBuilder UseGatewayAuth(IApplicationBuilder app, GatewayAuth auth) =>
        app.Use(async (context, next) =>
        {
            if (auth.Enabled && context.Request.Path.StartsWithSegments("/v1") && !auth.IsAuthorized(context.Request))
            {
                await ApiError.Unauthorized().WriteAsync(context.Response);
                return;
            }
            await next(context);
        });
}
