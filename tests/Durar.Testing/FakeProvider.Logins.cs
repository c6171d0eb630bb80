using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Durar.Testing;

/// <summary>
/// The sign-in servers <c>durar auth login</c> talks to, as their documentation describes them: GitHub's device flow
/// (<c>POST /login/device/code</c>, then <c>POST /login/oauth/access_token</c> answering <c>authorization_pending</c>,
/// <c>slow_down</c>, <c>expired_token</c>, <c>access_denied</c> as scripted), and two authorization servers with PKCE
/// (ChatGPT's and Google's: an authorize endpoint that redirects back with a code, as a browser would be, and a token
/// endpoint that checks <c>code_challenge = BASE64URL(SHA256(code_verifier))</c>, the redirect URI and the client).
/// </summary>
public sealed partial class FakeProvider
{
    private readonly ConcurrentQueue<string> _devicePollScript = new();
    private readonly List<LoginRequest> _loginRequests = [];
    private readonly ConcurrentDictionary<string, (string Challenge, string RedirectUri, string ClientId)> _codes = new();

    /// <summary>The device code's <c>interval</c> in seconds (GitHub says 5; specs keep it short).</summary>
    public int DeviceInterval { get; set; }

    /// <summary>The device code's <c>expires_in</c> in seconds.</summary>
    public int DeviceExpiresIn { get; set; } = 900;

    /// <summary>The GitHub token the device flow issues once the script is played.</summary>
    public const string DeviceAccessToken = "ghu_fake_device_flow_token_1234";

    /// <summary>The ChatGPT account id in the access token the ChatGPT fake issues.</summary>
    public const string ChatGptAccountId = "acct-login-42";

    public string GitHubDeviceCodeUrl => new Uri(BaseUri, "login/device/code").ToString();
    public string GitHubAccessTokenUrl => new Uri(BaseUri, "login/oauth/access_token").ToString();
    public string ChatGptAuthorizeUrl => new Uri(BaseUri, "login/chatgpt/authorize").ToString();
    public string ChatGptTokenUrl => new Uri(BaseUri, "login/chatgpt/token").ToString();
    public string GoogleLoginAuthorizeUrl => new Uri(BaseUri, "login/google/authorize").ToString();
    public string GoogleLoginTokenUrl => new Uri(BaseUri, "login/google/token").ToString();
    public string GoogleLoginUserInfoUrl => new Uri(BaseUri, "login/google/userinfo").ToString();

    /// <summary>The answers of the next polls (OAuth error codes); the poll after the last one gets the token.</summary>
    public void ScriptDevicePolls(params string[] errors)
    {
        foreach (var e in errors) _devicePollScript.Enqueue(e);
    }

    /// <summary>Every request to the sign-in endpoints, in arrival order (form or query values).</summary>
    public IReadOnlyList<LoginRequest> LoginRequests
    {
        get
        {
            lock (_gate)
            {
                return _loginRequests.ToArray();
            }
        }
    }

    private void MapLogins(WebApplication app)
    {
        app.MapPost("/login/device/code", async http =>
        {
            var form = await Record(http);
            await Json(http, 200, new
            {
                device_code = "dc-" + form.GetValueOrDefault("client_id"),
                user_code = "WDJB-MJHT",
                verification_uri = new Uri(BaseUri, "login/device").ToString(),
                expires_in = DeviceExpiresIn,
                interval = DeviceInterval,
            });
        });
        app.MapPost("/login/oauth/access_token", async http =>
        {
            var form = await Record(http);
            if (form.GetValueOrDefault("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" || form.GetValueOrDefault("device_code") is not { Length: > 0 })
                await Json(http, 400, new { error = "unsupported_grant_type" });
            else if (_devicePollScript.TryDequeue(out var error))
                await Json(http, 200, error == "slow_down" ? new { error, interval = DeviceInterval + 1 } : (object)new { error });
            else await Json(http, 200, new { access_token = DeviceAccessToken, token_type = "bearer", scope = "read:user" });
        });
        app.MapGet("/login/chatgpt/authorize", Authorize);
        app.MapGet("/login/google/authorize", Authorize);
        app.MapPost("/login/chatgpt/token", async http =>
        {
            var form = await Record(http);
            if (CheckCode(form) is { } refusal) await Json(http, 400, new { error = "invalid_grant", error_description = refusal });
            else
                await Json(http, 200, new
                {
                    access_token = Jwt(new Dictionary<string, object> { ["https://api.openai.com/auth"] = new { chatgpt_account_id = ChatGptAccountId }, ["exp"] = 4102444800 }),
                    refresh_token = "rt-chatgpt-login",
                    id_token = Jwt(new Dictionary<string, object> { ["email"] = "coder@example.com", ["https://api.openai.com/auth"] = new { chatgpt_account_id = ChatGptAccountId } }),
                    expires_in = 864000,
                });
        });
        app.MapPost("/login/google/token", async http =>
        {
            var form = await Record(http);
            if (CheckCode(form) is { } refusal) await Json(http, 400, new { error = "invalid_grant", error_description = refusal });
            else if (form.GetValueOrDefault("client_secret") is not { Length: > 0 }) await Json(http, 401, new { error = "invalid_client" });
            else await Json(http, 200, new { access_token = "ya29.fake-google-access", refresh_token = "1//fake-google-refresh", expires_in = 3599, token_type = "Bearer" });
        });
        app.MapGet("/login/google/userinfo", async http =>
        {
            await Record(http);
            if (http.Request.Headers.Authorization.ToString() != "Bearer ya29.fake-google-access") await Json(http, 401, new { error = "invalid_token" });
            else await Json(http, 200, new { id = "1234", email = "gemini.user@example.com", verified_email = true });
        });
    }

    /// <summary>The user approves at once: a redirect to <c>redirect_uri</c> with a fresh code and the state given.</summary>
    private async Task Authorize(HttpContext http)
    {
        var query = await Record(http);
        var code = "code-" + Guid.NewGuid().ToString("N");
        _codes[code] = (query.GetValueOrDefault("code_challenge") ?? "", query.GetValueOrDefault("redirect_uri") ?? "", query.GetValueOrDefault("client_id") ?? "");
        var redirect = query.GetValueOrDefault("redirect_uri") ?? "";
        http.Response.StatusCode = 302;
        http.Response.Headers.Location = $"{redirect}?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(query.GetValueOrDefault("state") ?? "")}";
    }

    /// <summary>RFC 7636 §4.6 and RFC 6749 §4.1.3: the code is known and unused, the verifier matches, redirect and client too.</summary>
    private string? CheckCode(IReadOnlyDictionary<string, string> form)
    {
        if (form.GetValueOrDefault("grant_type") != "authorization_code") return "grant_type";
        if (!_codes.TryRemove(form.GetValueOrDefault("code") ?? "", out var issued)) return "unknown code";
        var verifier = form.GetValueOrDefault("code_verifier") ?? "";
        var challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        if (verifier.Length < 43 || challenge != issued.Challenge) return "code_verifier does not match code_challenge";
        if (form.GetValueOrDefault("redirect_uri") != issued.RedirectUri) return "redirect_uri differs";
        return form.GetValueOrDefault("client_id") != issued.ClientId ? "client_id differs" : null;
    }

    private async Task<Dictionary<string, string>> Record(HttpContext http)
    {
        var values = http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        if (http.Request.HasFormContentType)
            foreach (var (key, value) in await http.Request.ReadFormAsync(http.RequestAborted))
                values[key] = value.ToString();
        lock (_gate)
        {
            _loginRequests.Add(new LoginRequest(http.Request.Path.Value ?? "", values, DateTimeOffset.UtcNow));
        }
        return values;
    }

    private static async Task Json(HttpContext http, int status, object body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    private static string Jwt(object claims)
    {
        static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"{B64("""{"alg":"none"}"""u8.ToArray())}.{B64(JsonSerializer.SerializeToUtf8Bytes(claims))}.sig";
    }
}

/// <summary>One request to a sign-in endpoint of the fake: its path, its form or query values, and when it came.</summary>
public sealed record LoginRequest(string Path, IReadOnlyDictionary<string, string> Values, DateTimeOffset ReceivedAt);
