using System.Text.Json;
using Durar.Actors.Configuration;

namespace Durar.Api.Cli.Login;

/// <summary>
/// The authorization-code flow with PKCE (RFC 7636, S256) and a loopback redirect (RFC 8252), as the Codex CLI signs in to
/// ChatGPT and the Gemini CLI to Google: a random verifier and state, the authorize URL shown (and opened), the redirect
/// awaited on 127.0.0.1, its <c>state</c> checked, the code exchanged at <c>tokenUrl</c> with the verifier. The tokens
/// are stored as an <c>oauth</c> profile the gateway's key actor refreshes at the same <c>tokenUrl</c>.
/// </summary>
internal static class PkceLogin
{
    public static async Task<LoginResult> RunAsync(LoginContext c, string flow, OAuthClientSettings client)
    {
        var verifier = OAuthHttp.Random(64);
        var state = OAuthHttp.Random(32);
        using var listener = LoopbackCallback.Start(client.RedirectPort, $"{OAuthLoginSettings.Section}.{flow}.redirectPort");
        var redirectUri = client.RedirectUri!.Replace("{port}", listener.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var callbackPath = new Uri(redirectUri).AbsolutePath;
        var parameters = new List<KeyValuePair<string, string>>
        {
            new("response_type", "code"), new("client_id", client.ClientId), new("redirect_uri", redirectUri), new("scope", client.Scope),
            new("code_challenge", OAuthHttp.Challenge(verifier)), new("code_challenge_method", "S256"), new("state", state),
        };
        parameters.AddRange(flow == OAuthLoginSettings.OpenAiCodex
            ? [new("id_token_add_organizations", "true"), new("codex_cli_simplified_flow", "true"), new("originator", "codex_cli_rs")]
            : [new("access_type", "offline"), new("prompt", "consent")]);
        var url = client.AuthorizeUrl + (client.AuthorizeUrl!.Contains('?') ? "&" : "?")
            + string.Join('&', parameters.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));

        c.Say($"Open this URL to sign in:\n{url}");
        c.Open(url);
        c.Say($"Waiting for the browser to come back to {redirectUri}…");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(c.Cancel);
        timeout.CancelAfter(c.Timeout);
        try
        {
            while (true)
            {
                var request = await listener.NextAsync(timeout.Token);
                if (request.Path != callbackPath)
                {
                    await request.RespondAsync(404, "Not the sign-in callback.", timeout.Token);
                    continue;
                }
                var q = request.Query;
                string? Get(string name) => q.TryGetValue(name, out var v) && v.Length > 0 ? v : null;
                if (Get("error") is { } error)
                {
                    await request.RespondAsync(400, "Sign-in failed. You can close this tab.", timeout.Token);
                    throw new LoginFailedException($"the sign-in was refused: {error}{(Get("error_description") is { } d ? $": {d}" : "")}");
                }
                if (Get("state") != state)
                {
                    await request.RespondAsync(400, "State mismatch: this redirect is not from the sign-in durar started.", timeout.Token);
                    throw new LoginFailedException("the redirect's state does not match the sign-in's (a stale tab or a forged redirect); run the login again");
                }
                if (Get("code") is not { } code)
                {
                    await request.RespondAsync(400, "No authorization code in the redirect.", timeout.Token);
                    throw new LoginFailedException("the redirect carried no authorization code");
                }
                LoginResult result;
                try
                {
                    result = await ExchangeAsync(c, flow, client, code, verifier, redirectUri);
                }
                catch (LoginFailedException)
                {
                    await request.RespondAsync(400, "Sign-in failed at the token exchange. See the terminal.", timeout.Token);
                    throw;
                }
                await request.RespondAsync(200, "Signed in. You can close this tab and return to the terminal.", timeout.Token);
                return result;
            }
        }
        catch (OperationCanceledException) when (!c.Cancel.IsCancellationRequested)
        {
            throw new LoginFailedException($"the browser did not come back within {c.Timeout.TotalMinutes:0.#} min (gateway.oauth.loginTimeout); run the login again");
        }
    }

    private static async Task<LoginResult> ExchangeAsync(LoginContext c, string flow, OAuthClientSettings client, string code, string verifier,
        string redirectUri)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "authorization_code"), new("code", code), new("redirect_uri", redirectUri),
            new("client_id", client.ClientId), new("code_verifier", verifier),
        };
        if (client.ClientSecret is { } secret) form.Add(new("client_secret", secret));
        var (status, tokens) = await OAuthHttp.PostFormAsync(c.Http, client.TokenUrl, form, c.Cancel);
        if (OAuthHttp.Str(tokens, "access_token") is not { } access)
            throw new LoginFailedException($"the token endpoint refused the code: {OAuthHttp.Error(status, tokens)}");
        var refresh = OAuthHttp.Str(tokens, "refresh_token");
        var claims = OAuthHttp.JwtPayload(access);
        long? expires = OAuthHttp.Seconds(tokens, "expires_in") is { } s and > 0 ? DateTimeOffset.UtcNow.AddSeconds(s).ToUnixTimeMilliseconds()
            : OAuthHttp.Seconds(claims, "exp") is { } exp and > 0 ? (long)exp * 1000 : null;
        if (refresh is null) c.Say("(The provider sent no refresh token: the profile serves until the access token expires.)");

        string? email, note = null;
        if (flow == OAuthLoginSettings.OpenAiCodex)
        {
            var identity = OAuthHttp.JwtPayload(OAuthHttp.Str(tokens, "id_token"));
            email = OAuthHttp.Str(identity, "email") ?? OAuthHttp.Str(claims, "email");
            var account = AccountId(identity) ?? AccountId(claims);
            note = account is null ? "no ChatGPT account id in the tokens" : $"ChatGPT account {account}";
        }
        else email = client.UserInfoUrl is { } userInfo ? await EmailAsync(c, userInfo, access) : null;
        return new LoginResult("oauth", null, access, refresh, expires, client.TokenUrl, client.ClientId, email, note);
    }

    /// <summary>The <c>chatgpt_account_id</c> of a ChatGPT token's <c>https://api.openai.com/auth</c> claim.</summary>
    private static string? AccountId(JsonElement claims) =>
        claims.ValueKind == JsonValueKind.Object && claims.TryGetProperty("https://api.openai.com/auth", out var auth)
            ? OAuthHttp.Str(auth, "chatgpt_account_id") : null;

    /// <summary>The account's email from Google's userinfo; a failure only leaves the profile unnamed (provider:default).</summary>
    private static async Task<string?> EmailAsync(LoginContext c, string url, string access)
    {
        try
        {
            var (status, info) = await OAuthHttp.GetAsync(c.Http, url, access, c.Cancel);
            return status is >= 200 and < 300 ? OAuthHttp.Str(info, "email") : null;
        }
        catch (LoginFailedException)
        {
            return null;
        }
    }
}
