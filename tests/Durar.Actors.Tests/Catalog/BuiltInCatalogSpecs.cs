using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Actors.Tests.Catalog;

public sealed class BuiltInCatalogSpecs
{
    public static TheoryData<string> SeedProviders => new(
        "openai", "anthropic", "openai-codex", "google", "google-vertex", "google-gemini-cli", "zai", "openrouter", "kilocode",
        "vercel-ai-gateway", "minimax", "minimax-portal", "moonshot", "kimi", "qianfan", "qwen", "nvidia", "stepfun", "stepfun-plan",
        "together", "venice", "xiaomi", "mistral", "groq", "cerebras", "github-copilot", "huggingface", "cloudflare-ai-gateway",
        "volcengine", "volcengine-plan", "byteplus", "byteplus-plan", "synthetic", "opencode", "opencode-go", "xai", "ollama", "vllm",
        "sglang", "lmstudio", "amazon-bedrock", "echo");

    [Theory]
    [MemberData(nameof(SeedProviders))]
    public void Should_hold_every_provider_the_seed_page_names(string id)
    {
        var provider = BuiltInCatalog.Providers[id];
        Assert.True(ApiKinds.All.Contains(provider.Api), provider.Api);
        if (provider.Api != ApiKinds.Echo) Assert.False(string.IsNullOrEmpty(provider.BaseUrl));
    }

    /// <summary>No catalog row answers 501 "no transport": every api a built-in provider names has a transport in the host's registry.</summary>
    [Fact]
    public void Should_have_a_transport_for_every_api_a_catalog_provider_names()
    {
        using var services = new ServiceCollection().AddDurarCore(DurarSettingsLoader.Defaults).BuildServiceProvider();
        var registry = services.GetRequiredService<Durar.Actors.Transports.TransportRegistry>();

        var missing = BuiltInCatalog.Providers.Values.Where(p => registry.Find(p.Api) is null).Select(p => $"{p.Id} ({p.Api})").ToList();

        Assert.True(missing.Count == 0, "catalog providers without a transport: " + string.Join(", ", missing));
        Assert.All(ApiKinds.All, api => Assert.NotNull(registry.Find(api)));
    }

    [Theory]
    [InlineData("openai", "gpt-5.4")]
    [InlineData("openai", "gpt-5.4-pro")]
    [InlineData("anthropic", "claude-opus-4-6")]
    [InlineData("google", "gemini-3.1-pro-preview")]
    [InlineData("google", "gemini-3-flash-preview")]
    [InlineData("zai", "glm-5")]
    [InlineData("vercel-ai-gateway", "anthropic/claude-opus-4.6")]
    [InlineData("kilocode", "kilo/auto")]
    [InlineData("moonshot", "kimi-k2-thinking-turbo")]
    [InlineData("nvidia", "nvidia/llama-3.1-nemotron-70b-instruct")]
    [InlineData("together", "moonshotai/Kimi-K2.5")]
    [InlineData("synthetic", "hf:MiniMaxAI/MiniMax-M2.5")]
    [InlineData("volcengine", "doubao-seed-1-8-251228")]
    [InlineData("byteplus-plan", "glm-4.7")]
    [InlineData("cerebras", "zai-glm-4.6")]
    [InlineData("ollama", "llama3.3")]
    public void Should_list_the_example_models(string provider, string model) =>
        Assert.NotNull(BuiltInCatalog.Providers[provider].FindModel(model));

    [Fact]
    public void Should_keep_native_and_proxy_hosts_apart()
    {
        Assert.True(BuiltInCatalog.Providers["openai"].IsNativeOpenAi);
        Assert.False(BuiltInCatalog.Providers["openrouter"].IsNativeOpenAi);
        Assert.True(BuiltInCatalog.Providers["anthropic"].IsNativeAnthropic);
        Assert.False(BuiltInCatalog.Providers["synthetic"].IsNativeAnthropic);
    }

    [Fact]
    public void Should_carry_provider_and_model_aliases_as_data()
    {
        Assert.Equal("zai", BuiltInCatalog.ProviderAliases["z.ai"]);
        Assert.Equal("zai", BuiltInCatalog.ProviderAliases["z-ai"]);
        Assert.Equal("google/gemini-3-flash-preview", BuiltInCatalog.ModelAliases["google/gemini-3.1-flash-preview"]);
    }
}
