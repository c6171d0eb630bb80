using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Durar.Actors.Providers;

namespace Durar.Actors.Transports.Copilot;

/// <summary>
/// GitHub's token exchange for Copilot: <c>GET {tokenUrl}</c> with <c>Authorization: token &lt;GitHub token&gt;</c> answers
/// <c>{token, expires_at, endpoints.api}</c>, a short-lived Copilot token and the API host it is valid for. It exists so a
/// Copilot key is an OAuth-like credential its key actor refreshes (<see cref="OAuthGrantKinds.CopilotTokenExchange"/>): the
/// GitHub token plays the refresh token, the Copilot token the access token, cached until its expiry.
/// </summary>
/// <remarks>
/// The answer's API host travels with the token in the key's secret (<see cref="CopilotSession"/>), so whichever node leases
/// the key sends to the host the token belongs to. Failures are <see cref="OAuthRefreshException"/>s naming the status and
/// what it means; a 401 (the GitHub token is refused) and a 403 (the account has no Copilot access) are permanent, so the
/// key actor disables the key with that reason instead of retrying.
/// </remarks>
internal static class CopilotTokenExchange
{
    private const int MaxBodyBytes = 64 * 1024;

    public static async Task<OAuthTokens> ExchangeAsync(HttpClient client, OAuthGrant grant, TimeProvider time, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, grant.TokenUrl);
        request.Headers.TryAddWithoutValidation("Authorization", "token " + grant.RefreshToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        foreach (var (name, value) in CopilotHeaders.Client) request.Headers.TryAddWithoutValidation(name, value);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new OAuthRefreshException($"Copilot token exchange unreachable ({e.HttpRequestError})", permanent: false);
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
                throw response.StatusCode switch
                {
                    HttpStatusCode.Unauthorized => new OAuthRefreshException(
                        "Copilot token exchange answered 401: the GitHub token is invalid or revoked", permanent: true),
                    HttpStatusCode.Forbidden => new OAuthRefreshException(
                        "Copilot token exchange answered 403: this GitHub account has no Copilot subscription (or the token lacks Copilot access)", permanent: true),
                    HttpStatusCode.NotFound => new OAuthRefreshException(
                        "Copilot token exchange answered 404: no Copilot access for this token (check gateway.copilot.tokenUrl for GitHub Enterprise)", permanent: true),
                    _ when status is >= 300 and <= 399 => new OAuthRefreshException(
                        $"Copilot token exchange answered {status} redirecting to {response.Headers.Location?.ToString() ?? "(no Location header)"}, not followed", permanent: false),
                    _ => new OAuthRefreshException($"Copilot token exchange answered {status}", permanent: false),
                };
            var body = await UpstreamHttp.ReadBoundedAsync(response, MaxBodyBytes, cancellationToken).ConfigureAwait(false);
            return Parse(body, time.GetUtcNow())
                ?? throw new OAuthRefreshException($"Copilot token exchange answered {status} without a token and expires_at", permanent: false);
        }
    }

    /// <summary>The exchange's answer as tokens (the secret packs the API host with the token); null when it has no token.</summary>
    internal static OAuthTokens? Parse(string body, DateTimeOffset now)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("token", out var t) || t.ValueKind != JsonValueKind.String || t.GetString() is not { Length: > 0 } token
                || !root.TryGetProperty("expires_at", out var e) || !e.TryGetInt64(out var expiresAt))
                return null;
            var api = root.TryGetProperty("endpoints", out var endpoints) && endpoints.ValueKind == JsonValueKind.Object
                && endpoints.TryGetProperty("api", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
            var lifetime = DateTimeOffset.FromUnixTimeSeconds(expiresAt) - now;
            return new OAuthTokens(CopilotSession.Pack(api, token), null, lifetime > TimeSpan.Zero ? lifetime : TimeSpan.FromSeconds(1));
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }
}

/// <summary>
/// A Copilot key's secret after an exchange: the API host and the Copilot token in one string (<c>{api} {token}</c>), because a
/// lease carries one secret across nodes and the token is only valid for the host it came with. Neither part contains a space.
/// A secret without a host (an exchange that named none) is the token alone: the provider's <c>baseUrl</c> is used.
/// </summary>
internal static class CopilotSession
{
    public static string Pack(string? api, string token) =>
        api is { Length: > 0 } && Uri.TryCreate(api, UriKind.Absolute, out _) && !api.Contains(' ') ? api.TrimEnd('/') + " " + token : token;

    public static (string? Api, string Token) Unpack(string secret)
    {
        var space = secret.IndexOf(' ');
        return space < 0 ? (null, secret) : (secret[..space], secret[(space + 1)..]);
    }
}
