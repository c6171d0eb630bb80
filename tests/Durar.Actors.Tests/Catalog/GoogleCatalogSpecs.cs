using Durar.Actors.Catalog;
using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Catalog;

/// <summary>
/// The <c>google</c> provider speaks Gemini's own API (<c>google-generative-ai</c>) out of the box, and Google's
/// OpenAI-compatible endpoint stays one setting away: <c>api = "openai-completions"</c> alone moves it to that base.
/// </summary>
public sealed class GoogleCatalogSpecs
{
    private static ProviderDefinition Google(string hocon = "") =>
        new ProviderCatalog(DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon))).Find("google")!;

    [Fact]
    public void Should_serve_google_on_gemini_native_api()
    {
        var google = Google();

        Assert.Equal(ApiKinds.GoogleGenerativeAi, google.Api);
        Assert.Equal("https://generativelanguage.googleapis.com/v1beta", google.BaseUrl);
    }

    [Fact]
    public void Should_switch_google_to_its_openai_compatible_endpoint_with_api_alone()
    {
        var google = Google("""models { providers { google { api = "openai-completions" } } }""");

        Assert.Equal(ApiKinds.OpenAiCompletions, google.Api);
        Assert.Equal("https://generativelanguage.googleapis.com/v1beta/openai", google.BaseUrl);
    }

    [Fact]
    public void Should_keep_a_configured_base_url_when_switching_the_api()
    {
        var google = Google("""models { providers { google { api = "openai-completions", baseUrl = "https://proxy.example/gemini" } } }""");

        Assert.Equal("https://proxy.example/gemini", google.BaseUrl);
    }
}
