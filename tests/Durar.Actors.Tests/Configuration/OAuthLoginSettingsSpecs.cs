using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// <c>gateway.oauth</c>: the sign-ins of <c>durar auth login</c> come from durar.conf (the providers' own public clients
/// and endpoints), a user file overrides any endpoint, a bad value stops loading naming its key path, and the installed-app
/// secret is found by client id (what a refresh of a stored Google profile sends).
/// </summary>
public sealed class OAuthLoginSettingsSpecs
{
    [Fact]
    public void Should_load_the_providers_own_clients_and_endpoints_from_durar_conf()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).OAuth;

        Assert.Equal(TimeSpan.FromMinutes(10), settings.LoginTimeout);
        var github = settings.Clients[OAuthLoginSettings.GitHubCopilot];
        Assert.Equal(("Iv1.b507a08c87ecfe98", "https://github.com/login/device/code", "https://github.com/login/oauth/access_token"),
            (github.ClientId, github.DeviceCodeUrl, github.TokenUrl));
        var codex = settings.Clients[OAuthLoginSettings.OpenAiCodex];
        Assert.Equal(("app_EMoamEEZ73f0CkXaXp7hrann", "https://auth.openai.com/oauth/token", "http://localhost:{port}/auth/callback", 1455),
            (codex.ClientId, codex.TokenUrl, codex.RedirectUri, codex.RedirectPort));
        var google = settings.Clients[OAuthLoginSettings.GoogleGeminiCli];
        Assert.Equal(("https://oauth2.googleapis.com/token", 0), (google.TokenUrl, google.RedirectPort));
        Assert.Equal(google.ClientSecret, settings.SecretFor(google.ClientId));
        Assert.Null(settings.SecretFor(codex.ClientId));
        Assert.Null(settings.SecretFor(null));
        Assert.Equal(OAuthLoginSettings.Defaults.LoginTimeout, settings.LoginTimeout);
        Assert.Equal(OAuthLoginSettings.Defaults.Clients.OrderBy(c => c.Key), settings.Clients.OrderBy(c => c.Key));
    }

    [Fact]
    public void Should_override_an_endpoint_from_a_user_file()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText("""
            gateway.oauth.github-copilot.deviceCodeUrl = "https://ghe.example/login/device/code"
            gateway.oauth.openai-codex.redirectPort = 0
            """)).OAuth;

        Assert.Equal("https://ghe.example/login/device/code", settings.Clients[OAuthLoginSettings.GitHubCopilot].DeviceCodeUrl);
        Assert.Equal(0, settings.Clients[OAuthLoginSettings.OpenAiCodex].RedirectPort);
    }

    [Theory]
    [InlineData("""gateway.oauth.github-copilot.tokenUrl = "not a url" """, "gateway.oauth.github-copilot.tokenUrl")]
    [InlineData("""gateway.oauth.openai-codex.redirectUri = "http://example.com:{port}/cb" """, "gateway.oauth.openai-codex.redirectUri")]
    [InlineData("""gateway.oauth.google-gemini-cli.redirectUri = "http://127.0.0.1:8080/cb" """, "gateway.oauth.google-gemini-cli.redirectUri")]
    [InlineData("""gateway.oauth.openai-codex.redirectPort = 70000""", "gateway.oauth.openai-codex.redirectPort")]
    [InlineData("""gateway.oauth.google-gemini-cli.clientId = "" """, "gateway.oauth.google-gemini-cli.clientId")]
    [InlineData("""gateway.oauth.loginTimeout = 0s""", "gateway.oauth.loginTimeout")]
    public void Should_refuse_a_bad_value_naming_its_key(string hocon, string path)
    {
        var e = Assert.Throws<DurarConfigException>(() => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)));

        Assert.Contains(path, e.Message);
    }
}
