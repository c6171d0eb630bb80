using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Durar.Actors.Transports;

namespace Durar.Actors.Providers;

/// <summary>
/// Exchanges an OAuth refresh token for a new access token. It exists so the key actor that owns an OAuth profile can refresh
/// it (once, however many requests are waiting) without knowing HTTP, and so specs can count and script refreshes.
/// </summary>
internal interface IOAuthTokenClient
{
    /// <exception cref="OAuthRefreshException">The token endpoint refused or answered something unusable.</exception>
    Task<OAuthTokens> RefreshAsync(OAuthGrant grant, CancellationToken cancellationToken);
}

/// <summary>A token endpoint's answer. <see cref="ToString"/> masks both tokens.</summary>
/// <param name="RefreshToken">A rotated refresh token, or null when the endpoint keeps the old one.</param>
/// <param name="ExpiresIn">The access token's lifetime (<c>expires_in</c>), or null when the endpoint did not say.</param>
internal sealed record OAuthTokens(string AccessToken, string? RefreshToken, TimeSpan? ExpiresIn)
{
    public override string ToString() =>
        $"OAuthTokens(access {ApiKeyCredential.Mask(AccessToken)}, refresh {(RefreshToken is null ? "(kept)" : ApiKeyCredential.Mask(RefreshToken))}, expires in {ExpiresIn})";
}

/// <summary>A refresh failed. The message names the status and the OAuth error code, never a token.</summary>
/// <param name="permanent">The grant itself was refused (400/401/403, e.g. <c>invalid_grant</c>): retrying will not help.</param>
internal sealed class OAuthRefreshException(string message, bool permanent) : Exception(message)
{
    public bool Permanent { get; } = permanent;
}

/// <summary>
/// RFC 6749 §6 over the upstream HTTP client: <c>POST tokenUrl</c> with the form
/// <c>grant_type=refresh_token&amp;refresh_token=…&amp;client_id=…</c>, reading <c>{access_token, refresh_token?, expires_in}</c>;
/// a grant of another <see cref="OAuthGrant.Kind"/> goes to its own exchange (GitHub Copilot's token exchange). A client
/// with a configured installed-app secret (<c>gateway.oauth.*.clientSecret</c>, Google's) also sends <c>client_secret</c>.
/// </summary>
internal sealed class HttpOAuthTokenClient(IHttpClientFactory httpClients, Configuration.OAuthLoginSettings? logins = null) : IOAuthTokenClient
{
    private const int MaxBodyBytes = 64 * 1024;

    public async Task<OAuthTokens> RefreshAsync(OAuthGrant grant, CancellationToken cancellationToken)
    {
        if (grant.Kind == OAuthGrantKinds.CopilotTokenExchange)
            return await Transports.Copilot.CopilotTokenExchange.ExchangeAsync(httpClients.CreateClient(UpstreamHttp.ClientName), grant,
                TimeProvider.System, cancellationToken).ConfigureAwait(false);
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "refresh_token"),
            new("refresh_token", grant.RefreshToken),
        };
        if (!string.IsNullOrEmpty(grant.ClientId)) form.Add(new("client_id", grant.ClientId));
        if (logins?.SecretFor(grant.ClientId) is { } clientSecret) form.Add(new("client_secret", clientSecret));
        using var request = new HttpRequestMessage(HttpMethod.Post, grant.TokenUrl) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        var client = httpClients.CreateClient(UpstreamHttp.ClientName);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new OAuthRefreshException($"token endpoint unreachable ({e.HttpRequestError})", permanent: false);
        }
        using (response)
        {
            var body = await ReadLimitedAsync(response.Content, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                // Only the OAuth error code is repeated: a token endpoint may echo the request (and so the refresh token).
                var code = TryErrorCode(body);
                // A redirect is never followed (the refresh token would travel with it): named, and a failure.
                var redirect = status is >= 300 and <= 399 ? $" redirecting to {response.Headers.Location?.ToString() ?? "(no Location header)"}, not followed" : "";
                throw new OAuthRefreshException($"token endpoint answered {status}{(code is null ? "" : $" ({code})")}{redirect}",
                    permanent: response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden);
            }
            return Parse(body) ?? throw new OAuthRefreshException($"token endpoint answered {status} without an access_token", permanent: false);
        }
    }

    /// <summary>Reads a token response; null when it has no <c>access_token</c>.</summary>
    internal static OAuthTokens? Parse(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            if (!root.TryGetProperty("access_token", out var access) || access.ValueKind != JsonValueKind.String || access.GetString() is not { Length: > 0 } token)
                return null;
            var refresh = root.TryGetProperty("refresh_token", out var r) && r.ValueKind == JsonValueKind.String && r.GetString() is { Length: > 0 } rt ? rt : null;
            TimeSpan? expiresIn = root.TryGetProperty("expires_in", out var e) ? e.ValueKind switch
            {
                JsonValueKind.Number when e.TryGetDouble(out var seconds) && seconds is > 0 and < 1e9 => TimeSpan.FromSeconds(seconds),
                JsonValueKind.String when double.TryParse(e.GetString(), System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and < 1e9
                    => TimeSpan.FromSeconds(seconds),
                _ => null,
            } : null;
            return new OAuthTokens(token, refresh, expiresIn);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? TryErrorCode(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.String && error.GetString() is { Length: > 0 and <= 64 } code && code.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')
                    ? code
                    : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpContent content, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) throw new OAuthRefreshException("token endpoint answer is too large", permanent: false);
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
