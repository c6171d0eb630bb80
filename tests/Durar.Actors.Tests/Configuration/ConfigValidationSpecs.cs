using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Actors.Tests.Configuration;

/// <summary>Bad configuration fails at start-up with one message naming the key path and the problem.</summary>
public sealed class ConfigValidationSpecs
{
    private static DurarConfigException Fail(string hocon) =>
        Assert.Throws<DurarConfigException>(() => new ServiceCollection().AddDurarCore(DurarSettingsLoader.FromText(hocon)));

    [Fact]
    public void Should_name_the_path_of_an_unknown_api()
    {
        var e = Fail("""models { providers { mine { baseUrl = "http://127.0.0.1:9/v1", api = "openai-chat" } } }""");
        Assert.Equal("models.providers.mine.api", e.Path);
        Assert.Contains("unknown api \"openai-chat\"", e.Problem);
        Assert.Contains("openai-completions", e.Problem);
    }

    [Fact]
    public void Should_require_a_base_url_for_a_custom_provider()
    {
        var e = Fail("""models { providers { mine { apiKey = "x", models = [{ id = "m" }] } } }""");
        Assert.Equal("models.providers.mine.baseUrl", e.Path);
        Assert.Contains("needs a baseUrl", e.Problem);
    }

    [Theory]
    [InlineData("maxTokens")]
    [InlineData("contextWindow")]
    [InlineData("contextTokens")]
    public void Should_reject_negative_token_limits(string field)
    {
        var e = Fail($$"""models { providers { mine { baseUrl = "http://127.0.0.1:9/v1", models = [{ id = "m", {{field}} = -5 }] } } }""");
        Assert.Equal($"models.providers.mine.models[0].{field}", e.Path);
        Assert.Contains("negative", e.Problem);
    }

    [Theory]
    [InlineData("rpm", "0")]
    [InlineData("rpm", "-3")]
    [InlineData("tpm", "0")]
    public void Should_reject_non_positive_key_limits(string field, string value)
    {
        var e = Fail($$"""models { providers { mine { baseUrl = "http://127.0.0.1:9/v1", {{field}} = {{value}}, models = [{ id = "m" }] } } }""");
        Assert.Equal($"models.providers.mine.{field}", e.Path);
        Assert.Matches("positive|negative", e.Problem);
    }

    [Fact]
    public void Should_read_key_limits_into_the_provider_definition()
    {
        var services = new ServiceCollection().AddDurarCore(DurarSettingsLoader.FromText(
            """models { providers { mine { baseUrl = "http://127.0.0.1:9/v1", rpm = 60, tpm = 90000, models = [{ id = "m" }] } } }"""));
        using var sp = services.BuildServiceProvider();
        var catalog = sp.GetRequiredService<ProviderCatalog>();
        Assert.Equal(new KeyLimits(60, 90000), catalog.Find("mine")!.Limits);
        Assert.Equal(KeyLimits.None, catalog.Find("openai")!.Limits);
    }

    [Fact]
    public void Should_reject_a_malformed_fallback_ref()
    {
        var e = Fail("""agents { defaults { model { primary = "echo/echo", fallbacks = ["openai/"] } } }""");
        Assert.Equal("agents.defaults.model.fallbacks[0]", e.Path);
        Assert.Contains("malformed model ref", e.Problem);
    }

    [Fact]
    public void Should_reject_a_primary_on_an_unknown_provider()
    {
        var e = Fail("""agents { defaults { model { primary = "nosuch/model" } } }""");
        Assert.Equal("agents.defaults.model.primary", e.Path);
        Assert.Contains("unknown provider `nosuch`", e.Problem);
    }

    [Fact]
    public void Should_reject_an_unknown_models_mode()
    {
        var e = Fail("""models { mode = "mix" }""");
        Assert.Equal("models.mode", e.Path);
    }

    [Fact]
    public void Should_reject_a_malformed_allowlist_entry()
    {
        var e = Fail("""agents { defaults { modelPolicy { allow = ["openai/*", "gpt"] } } }""");
        Assert.Equal("agents.defaults.modelPolicy.allow[1]", e.Path);
    }

    [Fact]
    public void Should_reject_a_non_http_base_url()
    {
        var e = Fail("""models { providers { mine { baseUrl = "ftp://example" } } }""");
        Assert.Equal("models.providers.mine.baseUrl", e.Path);
    }

    [Theory]
    [InlineData("models {\n providers { ", "line 2: '{' is never closed")]
    [InlineData("a = [1, 2\n}", "line 2: '}' closes the '[' opened at line 1")]
    [InlineData("a = 1\n]", "line 2: unexpected ']'")]
    [InlineData("a = \"unterminated\nb = 2", "line 1: unterminated string")]
    [InlineData("models: { mode: merge,, }", "Unknown token")]
    [InlineData("a = [\"x\"\\n]", "line 1: a backslash outside a quoted string")] // Akka's parser never returned on this one
    [InlineData("a {\n b = x\\y }", "line 2: a backslash outside a quoted string")]
    [InlineData("a = [\"\":1]", "line 1: ':' inside a list")] // Akka's parser never returned on this one either
    [InlineData("a = [[1],\n [b = 2]]", "line 2: '=' inside a list")]
    public void Should_report_syntax_errors_with_their_line(string text, string expected)
    {
        var e = Assert.Throws<DurarConfigException>(() => DurarSettingsLoader.FromText(text));
        Assert.Contains("not valid HOCON/JSON5", e.Problem);
        Assert.Contains(expected, e.Problem);
    }

    [Fact]
    public void Should_not_mistake_braces_in_strings_and_comments_for_structure()
    {
        const string text = "# a comment with { and [\n// another one }\n" +
                            "env { A = \"value with } and ]\", B = \"\"\"triple { quoted\"\"\" }\n";
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText(text));
        Assert.Equal("value with } and ]", settings.Env["A"]);
        Assert.Equal("triple { quoted", settings.Env["B"]);
    }

    [Fact]
    public void Should_default_the_api_of_a_custom_provider_to_openai_completions()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText(
            """models { providers { mine { baseUrl = "http://127.0.0.1:9/v1/", models = [{ id = "m" }] } } }"""));
        var mine = new ProviderCatalog(settings).Find("mine")!;
        Assert.Equal(ApiKinds.OpenAiCompletions, mine.Api);
        Assert.Equal("http://127.0.0.1:9/v1", mine.BaseUrl);
        Assert.True(mine.Local);
    }

    [Fact]
    public void Should_use_only_configured_providers_in_replace_mode()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText(
            """models { mode = replace, providers { mine { baseUrl = "http://127.0.0.1:9/v1" } } }"""));
        var catalog = new ProviderCatalog(settings);
        Assert.Equal(["echo", "mine"], catalog.Providers.Keys.Order());
    }

    [Fact]
    public void Should_merge_the_built_in_catalog_by_default_and_drop_echo_when_disabled()
    {
        var merged = new ProviderCatalog(DurarSettingsLoader.Load(DurarSettingsLoader.FromText(
            """
            gateway { echo { enabled = false } }
            agents { defaults { model { primary = "openai/gpt-5.4" } } }
            """)));
        Assert.Contains("openai", merged.Providers.Keys);
        Assert.Contains("anthropic", merged.Providers.Keys);
        Assert.DoesNotContain("echo", merged.Providers.Keys);
    }

    [Fact]
    public void Should_keep_defaults_for_every_gateway_setting()
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.Defaults);
        Assert.Equal(18789, settings.Gateway.Port);
        Assert.Equal("127.0.0.1", settings.Gateway.Bind);
        Assert.Null(settings.Gateway.Token);
        Assert.True(settings.Gateway.EchoEnabled);
        Assert.Equal(20 * 1024 * 1024, settings.Gateway.MaxBodyBytes);
        Assert.True(settings.Gateway.InlineIo);
        Assert.Equal(TimeSpan.FromSeconds(120), settings.Gateway.CloudIdleTimeout);
        Assert.Equal(TimeSpan.FromSeconds(300), settings.Gateway.LocalIdleTimeout);
        Assert.Equal("echo/echo", settings.Agents.Primary);
        Assert.Empty(settings.Agents.Fallbacks);
        Assert.Empty(settings.Agents.Allow);
        Assert.Equal(172800, settings.Agents.TimeoutSeconds);
    }

    [Fact]
    public void Should_read_inline_io_and_name_the_path_of_a_bad_value()
    {
        Assert.False(DurarSettingsLoader.Load(DurarSettingsLoader.FromText("gateway.http.inlineIo = false")).Gateway.InlineIo);
        Assert.Equal("gateway.http.inlineIo", Fail("gateway.http.inlineIo = sometimes").Path);
    }
}
