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
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        // Hashing both sides gives equal lengths, so FixedTimeEquals leaks neither content nor length.
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header[7..].Trim()));
        return CryptographicOperations.FixedTimeEquals(presented, _expected);
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
