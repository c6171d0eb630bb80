using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// <c>gateway.copilot</c>: the token-exchange URL comes from durar.conf (GitHub's), a user file overrides it (GitHub
/// Enterprise, a test's fake), a bad URL stops start-up naming its key path, and it is the URL a Copilot key's grant calls.
/// </summary>
public sealed class CopilotSettingsSpecs
{
    [Fact]
    public void Should_load_github_token_exchange_url_from_durar_conf()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults).Copilot;

        Assert.Equal("https://api.github.com/copilot_internal/v2/token", settings.TokenUrl);
        Assert.Equal(settings, CopilotSettings.Defaults);
    }

    [Fact]
    public void Should_override_the_url_and_give_it_to_every_copilot_key()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText("""gateway.copilot.tokenUrl = "https://api.ghe.example/copilot_internal/v2/token" """));
        var provider = new ProviderDefinition { Id = "github-copilot", Name = "Copilot", Api = ApiKinds.GitHubCopilot, Auth = "oauth" };

        var key = Assert.Single(OAuthGrantKinds.ForProvider(provider, [ApiKeyCredential.For("github-copilot", "ghu_x", "GH_TOKEN")], settings.Copilot.TokenUrl));

        Assert.Equal(("https://api.ghe.example/copilot_internal/v2/token", "ghu_x", OAuthGrantKinds.CopilotTokenExchange),
            (key.OAuth!.TokenUrl, key.OAuth.RefreshToken, key.OAuth.Kind));
        Assert.Null(key.Secret);
        Assert.Equal(ApiKeyCredential.For("github-copilot", "ghu_x", "GH_TOKEN").Id, key.Id);
    }

    [Theory]
    [InlineData("""gateway.copilot.tokenUrl = "not a url" """)]
    [InlineData("""gateway.copilot.tokenUrl = "ftp://api.github.com/token" """)]
    public void Should_refuse_a_url_that_is_not_absolute_http_naming_the_key(string hocon)
    {
        var e = Assert.Throws<DurarConfigException>(() => DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon)));

        Assert.Contains("gateway.copilot.tokenUrl", e.Message);
    }
}
