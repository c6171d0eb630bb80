using System.Net;
using System.Text.RegularExpressions;
using Durar.Api.Cli;
using Durar.Api.Tests.AuthProfiles;
using Durar.Api.Tests.Resilience;
using Durar.Testing;
using OpenAI.Chat;

namespace Durar.Api.Tests.Cli;

/// <summary>
/// <c>durar auth login</c> against fake sign-in servers on loopback, the spec acting as the user and the browser: GitHub's
/// device flow (pending, slow_down, success; expired; denied) and the PKCE flows of ChatGPT and Google (the challenge
/// checked by the fake's token endpoint, the state checked by the CLI, the loopback redirect followed as a browser would);
/// each stored profile then serves a request through the gateway.
/// </summary>
public sealed partial class LoginCommandSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private const string Providers = """
        models { providers {
          copilot1 { baseUrl = "http://127.0.0.1:9/never", api = "github-copilot", models = [{ id = "gpt-4o" }] }
          codex { baseUrl = "{fake-openai}", api = "openai-chatgpt-responses", auth = "oauth", models = [{ id = "gpt-5.4" }] }
        } }
        agents { defaults { model { primary = "codex/gpt-5.4" } } }
        """;

    private static async Task<GatewayHarness> StartAsync(FakeProvider fake) =>
        await GatewayHarness.StartAsync(Providers + $$"""
            gateway { copilot { tokenUrl = "{{fake.CopilotTokenUrl}}" } }
            """ + ResilienceClient.FastFailover, fake);

    /// <summary>The CLI's config file: every sign-in endpoint on the fake, the ChatGPT redirect on any free port.</summary>
    private static string OAuthConfig(FakeProvider fake)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("durar-login-").FullName, "login.conf");
        File.WriteAllText(path, $$"""
            gateway { oauth {
              loginTimeout = 60s
              github-copilot { deviceCodeUrl = "{{fake.GitHubDeviceCodeUrl}}", tokenUrl = "{{fake.GitHubAccessTokenUrl}}" }
              openai-codex { authorizeUrl = "{{fake.ChatGptAuthorizeUrl}}", tokenUrl = "{{fake.ChatGptTokenUrl}}", redirectPort = 0 }
              google-gemini-cli { authorizeUrl = "{{fake.GoogleLoginAuthorizeUrl}}", tokenUrl = "{{fake.GoogleLoginTokenUrl}}", userInfoUrl = "{{fake.GoogleLoginUserInfoUrl}}" }
            } }
            """);
        return path;
    }

    [Fact]
    public async Task Should_poll_the_device_flow_through_pending_and_slow_down_and_serve_the_stored_github_token_via_the_copilot_exchange()
    {
        var fake = await FakeProvider.StartAsync();
        fake.ScriptDevicePolls("authorization_pending", "slow_down", "authorization_pending");
        await using var gw = await StartAsync(fake);

        var run = await Login(gw, "github-copilot", "--provider", "copilot1", "--no-browser").Finish();
        await gw.OpenAiChat("copilot1/gpt-4o").CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"Open {new Uri(fake.BaseUri, "login/device")} and enter the code WDJB-MJHT", run.Err);
        Assert.Equal("Signed in: auth profile copilot1:default created (token, token …1234, eligible).", run.Out.Trim());
        var requests = fake.LoginRequests;
        var code = Assert.Single(requests, r => r.Path == "/login/device/code");
        Assert.Equal(("Iv1.b507a08c87ecfe98", "read:user"), (code.Values["client_id"], code.Values["scope"]));
        var polls = requests.Where(r => r.Path == "/login/oauth/access_token").ToList();
        Assert.Equal(4, polls.Count);
        Assert.All(polls, p => Assert.Equal(("dc-Iv1.b507a08c87ecfe98", "urn:ietf:params:oauth:grant-type:device_code"), (p.Values["device_code"], p.Values["grant_type"])));
        // After slow_down the CLI waits the interval GitHub named (1 s here, 0 before).
        Assert.True(polls[3].ReceivedAt - polls[2].ReceivedAt >= TimeSpan.FromMilliseconds(900), $"{polls[3].ReceivedAt - polls[2].ReceivedAt}");
        Assert.Equal(FakeProvider.DeviceAccessToken, Assert.Single(fake.CopilotExchanges).GitHubToken);
    }

    [Theory]
    [InlineData("expired_token", "durar: github-copilot sign-in failed: the device code expired before it was entered; run the login again")]
    [InlineData("access_denied", "durar: github-copilot sign-in failed: the sign-in was denied at GitHub")]
    public async Task Should_exit_with_5_and_store_nothing_when_the_device_code_expires_or_the_user_denies(string error, string message)
    {
        var fake = await FakeProvider.StartAsync();
        fake.ScriptDevicePolls("authorization_pending", error);
        await using var gw = await StartAsync(fake);

        var run = await Login(gw, "github-copilot", "--no-browser").Finish();
        var list = await Cli.AgainstAsync(gw, "auth", "list");

        Assert.Equal(ExitCodes.LoginFailed, run.ExitCode);
        Assert.Equal(message, run.Err.Trim().Split('\n')[^1]);
        Assert.Equal("", run.Out);
        Assert.StartsWith("No auth profiles", list.Out);
    }

    [Fact]
    public async Task Should_sign_in_to_chatgpt_with_pkce_through_the_loopback_redirect_and_serve_codex_with_the_stored_tokens()
    {
        var fake = await FakeProvider.StartAsync();
        await using var gw = await StartAsync(fake);
        var login = Login(gw, "openai-codex", "--provider", "codex", "--no-browser");

        using var browser = new HttpClient();
        using var page = await browser.GetAsync(await login.AuthorizeUrl());
        var run = await login.Finish();
        var chat = await gw.OpenAiChat("codex/gpt-5.4").CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Signed in.", await page.Content.ReadAsStringAsync());
        Assert.Equal($"Signed in (ChatGPT account {FakeProvider.ChatGptAccountId}): auth profile codex:coder@example.com created (oauth, access …_sig, refresh …ogin, eligible).",
            run.Out.Trim().Replace(".sig", "_sig"));
        var authorize = Assert.Single(fake.LoginRequests, r => r.Path == "/login/chatgpt/authorize").Values;
        Assert.Equal(("S256", "app_EMoamEEZ73f0CkXaXp7hrann", "true"), (authorize["code_challenge_method"], authorize["client_id"], authorize["codex_cli_simplified_flow"]));
        Assert.Matches(@"^http://localhost:\d+/auth/callback$", authorize["redirect_uri"]);
        var token = Assert.Single(fake.LoginRequests, r => r.Path == "/login/chatgpt/token").Values;
        Assert.Equal(authorize["code_challenge"], Challenge(token["code_verifier"]));
        var upstream = Assert.Single(gw.Fake.Requests);
        Assert.Equal(FakeProvider.ChatGptAccountId, upstream.Headers["chatgpt-account-id"]);
        Assert.EndsWith(".sig", upstream.ApiKey);
        Assert.NotNull(chat.Value);
    }

    [Fact]
    public async Task Should_refuse_a_redirect_whose_state_is_not_the_sign_ins_and_exchange_nothing()
    {
        var fake = await FakeProvider.StartAsync();
        await using var gw = await StartAsync(fake);
        var login = Login(gw, "openai-codex", "--no-browser");

        var redirect = Regex.Match(Uri.UnescapeDataString(await login.AuthorizeUrl()), @"redirect_uri=(http://localhost:\d+/auth/callback)").Groups[1].Value;
        using var browser = new HttpClient();
        using var page = await browser.GetAsync($"{redirect}?code=stolen&state=forged");
        var run = await login.Finish();

        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Equal(ExitCodes.LoginFailed, run.ExitCode);
        Assert.Equal("durar: openai-codex sign-in failed: the redirect's state does not match the sign-in's (a stale tab or a forged redirect); run the login again",
            run.Err.Trim().Split('\n')[^1]);
        Assert.DoesNotContain(fake.LoginRequests, r => r.Path == "/login/chatgpt/token");
    }

    [Fact]
    public async Task Should_sign_in_to_google_with_pkce_and_the_installed_app_secret_past_an_idle_browser_connection_and_name_the_profile_by_the_email()
    {
        var fake = await FakeProvider.StartAsync();
        await using var gw = await StartAsync(fake);
        var login = Login(gw, "google-gemini-cli", "--no-browser", "--json");
        var url = await login.AuthorizeUrl();
        var port = int.Parse(Regex.Match(Uri.UnescapeDataString(url), @"redirect_uri=http://127\.0\.0\.1:(\d+)/oauth2callback").Groups[1].Value);

        using var preconnect = new System.Net.Sockets.TcpClient(); // a browser's speculative connection, left idle
        await preconnect.ConnectAsync(IPAddress.Loopback, port);
        using var browser = new HttpClient();
        using var page = await browser.GetAsync(url);
        var run = await login.Finish();

        Assert.True(run.ExitCode == 0, run.ToString());
        var profile = run.Json();
        Assert.Equal(("google-gemini-cli:gemini.user@example.com", "oauth", fake.GoogleLoginTokenUrl),
            (profile.GetProperty("id").GetString(), profile.GetProperty("type").GetString(), profile.GetProperty("tokenUrl").GetString()));
        Assert.Equal("681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com", profile.GetProperty("clientId").GetString());
        Assert.True(profile.GetProperty("eligible").GetBoolean());
        var authorize = Assert.Single(fake.LoginRequests, r => r.Path == "/login/google/authorize").Values;
        Assert.Equal(("S256", "offline"), (authorize["code_challenge_method"], authorize["access_type"]));
        Assert.Matches(@"^http://127\.0\.0\.1:\d+/oauth2callback$", authorize["redirect_uri"]);
        var token = Assert.Single(fake.LoginRequests, r => r.Path == "/login/google/token").Values;
        Assert.Equal(authorize["code_challenge"], Challenge(token["code_verifier"]));
        Assert.Equal("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", token["client_secret"]);
        Assert.Contains(fake.LoginRequests, r => r.Path == "/login/google/userinfo");
    }

    [Fact]
    public async Task Should_send_the_installed_app_secret_when_the_key_actor_refreshes_a_profile_of_that_client()
    {
        const string google = "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com";
        var fake = await FakeProvider.StartAsync();
        await using var gw = await StartAsync(fake);
        var created = await gw.PostProfileAsync(new System.Text.Json.Nodes.JsonObject
        {
            ["provider"] = "codex", ["type"] = "oauth", ["access"] = "expired-access-0001", ["refresh"] = "1//google-refresh-0001",
            ["expires"] = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), ["tokenUrl"] = fake.OAuthTokenUrl, ["clientId"] = google,
        });

        await gw.OpenAiChat("codex/gpt-5.4").CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        var refresh = Assert.Single(fake.OAuthRefreshes);
        Assert.Equal(("1//google-refresh-0001", google, "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"), (refresh.RefreshToken, refresh.ClientId, refresh.ClientSecret));
        Assert.Equal(refresh.IssuedAccessToken, Assert.Single(fake.Requests).ApiKey);
    }

    private static string Challenge(string verifier) =>
        Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(verifier)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Starts a login as a user would type it, against the harness's gateway and the fake's sign-in servers.</summary>
    private static RunningLogin Login(GatewayHarness gw, params string[] args)
    {
        var output = new LockedWriter();
        var error = new LockedWriter();
        var io = new CliConsole { Out = output, Err = error, IsTerminal = false, Env = _ => null };
        var run = Task.Run(() => DurarCommandLine.RunAsync(["auth", "login", .. args, "--url", gw.BaseUri.ToString(), "--config", OAuthConfig(gw.Fake)], io));
        return new RunningLogin(run, output, error);
    }

    private sealed record RunningLogin(Task<int> Run, LockedWriter Out, LockedWriter Err)
    {
        /// <summary>The authorize URL the CLI printed (what the user would open), once it has.</summary>
        public async Task<string> AuthorizeUrl()
        {
            var text = await Eventually.Until(() => Task.FromResult(Err.Text), t => UrlLine().IsMatch(t) || Run.IsCompleted, "the authorize URL", Patience);
            return UrlLine().Match(text) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException($"no URL printed:\n{text}");
        }

        public async Task<CliResult> Finish()
        {
            var code = await Run.WaitAsync(Patience);
            return new CliResult(code, Out.Text, Err.Text);
        }
    }

    [GeneratedRegex(@"Open this URL to sign in:\n(\S+)\n")]
    private static partial Regex UrlLine();

    /// <summary>A writer the CLI writes to while the spec reads it.</summary>
    private sealed class LockedWriter : TextWriter
    {
        private readonly System.Text.StringBuilder _text = new();
        private readonly Lock _gate = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public LockedWriter() => NewLine = "\n";

        public string Text
        {
            get
            {
                lock (_gate) return _text.ToString();
            }
        }

        public override void Write(char value)
        {
            lock (_gate) _text.Append(value);
        }
    }
}
