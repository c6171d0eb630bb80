using System.Net;
using Durar.Actors.Configuration;
using Microsoft.AspNetCore.HttpOverrides;

namespace Durar.Api.Access;

/// <summary>
/// What the gateway refuses to start with: an operator token shorter than <see cref="MinTokenLength"/> characters (guessable),
/// and an address other than loopback with no operator token at all (every credential behind it open to the network). And
/// the one place the client address may come from a header: ASP.NET Core's forwarded headers, believed only from
/// <c>gateway.trustedProxies</c> (none by default; ASP.NET Core's own default of trusting loopback is cleared).
/// </summary>
internal static class StartupRules
{
    public const int MinTokenLength = 32;

    /// <exception cref="DurarConfigException">The token is too short, or a non-loopback bind has no token.</exception>
    public static void Check(string bind, string? token, bool tokenFromEnv)
    {
        var source = tokenFromEnv ? "DURAR_GATEWAY_TOKEN" : "gateway.auth.token";
        if (!string.IsNullOrEmpty(token) && token.Length < MinTokenLength)
            throw new DurarConfigException(source,
                $"the operator token has {token.Length} characters; use at least {MinTokenLength} (e.g. openssl rand -hex 32)");
        if (string.IsNullOrEmpty(token) && !IsLoopback(bind))
            throw new DurarConfigException("gateway.bind",
                $"\"{bind}\" is not a loopback address and no operator token is set: set gateway.auth.token (or DURAR_GATEWAY_TOKEN) to "
                + "at least 32 random characters (openssl rand -hex 32), or bind 127.0.0.1");
    }

    private static bool IsLoopback(string bind) =>
        bind.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(bind.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>Forwarded headers from the configured proxies only; null when none is configured (the TCP peer is the client).</summary>
    public static ForwardedHeadersOptions? ForwardedHeaders(AccessSettings access)
    {
        if (access.TrustedProxies.IsDefaultOrEmpty) return null;
        var options = new ForwardedHeadersOptions { ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var entry in access.TrustedProxies)
        {
            if (entry.Contains('/')) options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(entry));
            else options.KnownProxies.Add(IPAddress.Parse(entry));
        }
        return options;
    }
}
