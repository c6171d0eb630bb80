using System.CommandLine;
using Durar.Actors.Configuration;
using Spectre.Console;
using static Durar.Api.Cli.CliOutput;

namespace Durar.Api.Cli.Login;

/// <summary>
/// <c>durar auth login &lt;github-copilot|openai-codex|google-gemini-cli&gt;</c>: runs the provider's own sign-in (GitHub's
/// device flow, the ChatGPT or Google PKCE flow with a loopback redirect) and stores the result through the running
/// gateway's <c>/v1/admin/auth-profiles</c>, as <c>durar auth add</c> does: the gateway holds the key that encrypts profiles
/// and the journal they live in (possibly a cluster's), and pushes a new profile to its key actor at once. The endpoints
/// come from <c>gateway.oauth</c> in <c>--config</c> (or the built-in defaults). The gateway is asked first, so a sign-in is
/// never done for a gateway that cannot store it.
/// </summary>
internal static class LoginCommand
{
    /// <summary>Longest wait for one answer of a provider's endpoint (the user's own wait is gateway.oauth.loginTimeout).</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public static Command Create(CliConsole io)
    {
        var flow = new Argument<string>("provider") { Description = $"The sign-in to run: {string.Join(", ", OAuthLoginSettings.Flows)}" };
        flow.AcceptOnlyFromAmong([.. OAuthLoginSettings.Flows]);
        var provider = new Option<string?>("--provider") { Description = "Store the profile for this configured provider id (default: the sign-in's name)" };
        var email = new Option<string?>("--email") { Description = "Name the profile provider:<email> (default: the account's email when the provider tells it)" };
        var noBrowser = new Option<bool>("--no-browser") { Description = "Print the URL (and code) instead of opening a browser" };
        var config = new Option<string?>("--config") { Description = "The config file with gateway.oauth overrides (env DURAR_CONFIG; default: built-in)" };
        return ClientCommand.Create("login", "Sign in with the provider's own flow and store the result as an auth profile.", io, async c =>
        {
            var p = c.Parse;
            var name = p.GetValue(flow)!;
            OAuthLoginSettings settings;
            var path = p.GetValue(config) ?? ClientCommand.NonEmpty(c.Io.Env("DURAR_CONFIG"));
            try
            {
                settings = path is null ? OAuthLoginSettings.Defaults : OAuthLoginSettings.Read(DurarSettingsLoader.LoadFile(path));
            }
            catch (DurarConfigException e)
            {
                Error(c.Io, $"configuration error at {e.Path}: {e.Problem}");
                return ExitCodes.Usage;
            }
            (await c.Gateway.GetAsync("v1/admin/auth-profiles", c.Cancel)).Dispose();

            using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = RequestTimeout };
            http.DefaultRequestHeaders.UserAgent.ParseAdd("durar-login");
            var login = new LoginContext(c.Io, p.GetValue(noBrowser), http, settings.LoginTimeout, c.Cancel);
            LoginResult result;
            try
            {
                var client = settings.Clients[name];
                result = name == OAuthLoginSettings.GitHubCopilot
                    ? await GitHubDeviceLogin.RunAsync(login, client)
                    : await PkceLogin.RunAsync(login, name, client);
            }
            catch (LoginFailedException e)
            {
                Error(c.Io, $"{name} sign-in failed: {e.Message}");
                return e.ExitCode;
            }

            var body = AuthCommand.Body(
            [
                ("provider", p.GetValue(provider) ?? name), ("type", result.Type), ("email", p.GetValue(email) ?? result.Email),
                ("token", result.Token), ("access", result.Access), ("refresh", result.Refresh), ("tokenUrl", result.TokenUrl), ("clientId", result.ClientId),
            ], result.ExpiresMs?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var (status, doc) = await c.Gateway.SendWithStatusAsync(HttpMethod.Post, "v1/admin/auth-profiles", body, c.Cancel);
            using (doc)
            {
                var profile = doc.RootElement;
                if (c.Json) Json(c.Io, profile);
                else
                    c.Io.Ansi.Write(new Text($"Signed in{(result.Note is null ? "" : $" ({result.Note})")}: auth profile {AuthCommand.Str(profile, "id")} "
                        + $"{(status == 201 ? "created" : "replaced")} ({AuthCommand.Str(profile, "type")}, {AuthCommand.Masked(profile)}, "
                        + $"{(profile.GetProperty("eligible").GetBoolean() ? "eligible" : "not eligible: " + AuthCommand.Str(profile, "reason"))}).\n"));
            }
            return ExitCodes.Ok;
        }, flow, provider, email, noBrowser, config);
    }
}
