using Durar.Actors.Configuration;

namespace Durar.Api.Cli.Login;

/// <summary>
/// GitHub's device flow (RFC 8628, GitHub's "Authorizing OAuth apps: device flow"), as Copilot editors sign in: ask
/// <c>deviceCodeUrl</c> for a user code, show it with the verification URL, then poll <c>tokenUrl</c> every
/// <c>interval</c> seconds: <c>authorization_pending</c> waits, <c>slow_down</c> waits longer (the interval GitHub names,
/// else 5 s more), <c>expired_token</c> and <c>access_denied</c> end the login. The GitHub token is what the gateway
/// exchanges for Copilot tokens (<c>gateway.copilot.tokenUrl</c>), so it is stored as a <c>token</c> profile.
/// </summary>
internal static class GitHubDeviceLogin
{
    private const string DeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

    /// <summary>RFC 8628 §3.2: the interval when the server names none; §3.5: what <c>slow_down</c> adds.</summary>
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    public static async Task<LoginResult> RunAsync(LoginContext c, OAuthClientSettings client)
    {
        var (status, code) = await OAuthHttp.PostFormAsync(c.Http, client.DeviceCodeUrl!,
            [new("client_id", client.ClientId), new("scope", client.Scope)], c.Cancel);
        if (OAuthHttp.Str(code, "device_code") is not { } deviceCode || OAuthHttp.Str(code, "user_code") is not { } userCode
            || OAuthHttp.Str(code, "verification_uri") is not { } verification)
            throw new LoginFailedException($"GitHub refused the device code request: {OAuthHttp.Error(status, code)}");

        var interval = OAuthHttp.Seconds(code, "interval") is { } i ? TimeSpan.FromSeconds(i) : DefaultInterval;
        var lifetime = OAuthHttp.Seconds(code, "expires_in") is { } e and > 0 ? TimeSpan.FromSeconds(e) : c.Timeout;
        var deadline = DateTimeOffset.UtcNow + (lifetime < c.Timeout ? lifetime : c.Timeout);
        c.Say($"Open {verification} and enter the code {userCode}");
        c.Open(verification);
        c.Say("Waiting for GitHub…");

        while (true)
        {
            if (DateTimeOffset.UtcNow + interval > deadline)
                throw new LoginFailedException(lifetime < c.Timeout
                    ? "the device code expired before it was entered; run the login again"
                    : $"no answer within {c.Timeout.TotalMinutes:0.#} min (gateway.oauth.loginTimeout); run the login again");
            await Task.Delay(interval, c.Cancel);
            var (pollStatus, answer) = await OAuthHttp.PostFormAsync(c.Http, client.TokenUrl,
                [new("client_id", client.ClientId), new("device_code", deviceCode), new("grant_type", DeviceGrant)], c.Cancel);
            if (OAuthHttp.Str(answer, "access_token") is { } token)
            {
                var expires = OAuthHttp.Seconds(answer, "expires_in") is { } s and > 0
                    ? DateTimeOffset.UtcNow.AddSeconds(s).ToUnixTimeMilliseconds() : (long?)null;
                return new LoginResult("token", token, null, null, expires, null, null, null, null);
            }
            switch (OAuthHttp.Str(answer, "error"))
            {
                case "authorization_pending":
                    break;
                case "slow_down":
                    interval = OAuthHttp.Seconds(answer, "interval") is { } slower && TimeSpan.FromSeconds(slower) > interval
                        ? TimeSpan.FromSeconds(slower)
                        : interval + DefaultInterval;
                    break;
                case "expired_token":
                    throw new LoginFailedException("the device code expired before it was entered; run the login again");
                case "access_denied":
                    throw new LoginFailedException("the sign-in was denied at GitHub");
                default:
                    throw new LoginFailedException($"GitHub refused the sign-in: {OAuthHttp.Error(pollStatus, answer)}");
            }
        }
    }
}
