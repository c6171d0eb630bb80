using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Providers;

namespace Durar.Actors.Tests.Configuration;

/// <summary>Every JSON5 config block of the seed's model-providers page loads verbatim and means what it says.</summary>
public sealed class SeedExamplesSpecs
{
    private static (DurarSettings Settings, ProviderCatalog Catalog, ModelResolver Resolver) Load(string file)
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Configuration", "SeedExamples", file));
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText(text));
        var catalog = new ProviderCatalog(settings);
        return (settings, catalog, new ModelResolver(catalog, settings.Agents));
    }

    [Theory]
    [InlineData("openai.conf", "openai/gpt-5.4", "openai-completions")]
    [InlineData("anthropic.conf", "anthropic/claude-opus-4-6", "anthropic-messages")]
    [InlineData("openai-codex-primary.conf", "openai-codex/gpt-5.4", "openai-chatgpt-responses")]
    [InlineData("opencode.conf", "opencode/claude-opus-4-6", null)]
    [InlineData("kimi-coding.conf", "kimi/kimi-code", "anthropic-messages")]
    [InlineData("volcengine.conf", "volcengine-plan/ark-code-latest", "openai-completions")]
    [InlineData("byteplus.conf", "byteplus-plan/ark-code-latest", "openai-completions")]
    [InlineData("ollama.conf", "ollama/llama3.3", "ollama")]
    [InlineData("vllm.conf", "vllm/your-model-id", "openai-completions")]
    [InlineData("sglang.conf", "sglang/your-model-id", "openai-completions")]
    public void Should_load_primary_only_examples_against_the_built_in_catalog(string file, string primary, string? api)
    {
        var (settings, _, resolver) = Load(file);

        Assert.Equal(primary, settings.Agents.Primary);
        Assert.Equal(CatalogMode.Merge, settings.Models.Mode);
        var resolved = resolver.Resolve("durar");
        Assert.True(resolved.Success, resolved.Message);
        Assert.Equal(primary, resolved.Model!.Ref.ToString());
        if (api is not null) Assert.Equal(api, resolved.Model.Provider.Api);
    }

    [Fact]
    public void Should_load_the_moonshot_example_with_env_key_reference()
    {
        var (settings, catalog, resolver) = Load("moonshot.conf");

        Assert.Equal("moonshot/kimi-k2.5", settings.Agents.Primary);
        var p = settings.Models.Providers["moonshot"];
        Assert.Equal("https://api.moonshot.ai/v1", p.BaseUrl);
        Assert.Equal("${MOONSHOT_API_KEY}", p.ApiKey);
        Assert.Equal("openai-completions", p.Api);
        var model = Assert.Single(p.Models);
        Assert.Equal(("kimi-k2.5", "Kimi K2.5"), (model.Id, model.Name));

        var moonshot = catalog.Find("moonshot")!;
        Assert.Equal("${MOONSHOT_API_KEY}", moonshot.ConfigApiKey);
        Assert.Equal("Kimi K2.5", moonshot.FindModel("kimi-k2.5")!.Name);
        // Merge mode keeps the catalog's other Kimi K2 models next to the configured one.
        Assert.NotNull(moonshot.FindModel("kimi-k2-thinking"));
        Assert.Equal("moonshot/kimi-k2.5", resolver.Resolve("durar").Model!.Ref.ToString());

        var keys = new KeySources(n => n == "MOONSHOT_API_KEY" ? "sk-moon" : null, () => ["MOONSHOT_API_KEY"]).Collect(moonshot);
        Assert.Equal("sk-moon", Assert.Single(keys).Secret);
    }

    [Fact]
    public void Should_load_the_kimi_coding_example_env_block()
    {
        var (settings, catalog, _) = Load("kimi-coding.conf");

        Assert.Equal("sk-...", settings.Env["KIMI_API_KEY"]);
        var keys = KeySources.FromEnvironment(settings.Env).Collect(catalog.Find("kimi")!);
        Assert.Contains(keys, k => k.Secret == "sk-..." && k.Source == "KIMI_API_KEY");
    }

    [Fact]
    public void Should_load_the_synthetic_example_as_an_anthropic_compatible_provider()
    {
        var (settings, catalog, resolver) = Load("synthetic.conf");

        Assert.Equal("synthetic/hf:MiniMaxAI/MiniMax-M2.5", settings.Agents.Primary);
        var synthetic = catalog.Find("synthetic")!;
        Assert.Equal("https://api.synthetic.new/anthropic", synthetic.BaseUrl);
        Assert.Equal("anthropic-messages", synthetic.Api);
        Assert.Equal("${SYNTHETIC_API_KEY}", synthetic.ConfigApiKey);
        var resolved = resolver.Resolve("durar").Model!;
        Assert.Equal("hf:MiniMaxAI/MiniMax-M2.5", resolved.Model.Id);
        Assert.Equal("MiniMax M2.5", resolved.Model.Name);
    }

    [Fact]
    public void Should_load_the_lmstudio_example_with_alias_and_full_model_metadata()
    {
        var (settings, catalog, resolver) = Load("lmstudio.conf");

        Assert.Equal("lmstudio/my-local-model", settings.Agents.Primary);
        Assert.Equal("Local", settings.Agents.Models["lmstudio/my-local-model"].Alias);
        var lmstudio = catalog.Find("lmstudio")!;
        Assert.Equal("http://localhost:1234/v1", lmstudio.BaseUrl);
        Assert.Equal("LMSTUDIO_KEY", lmstudio.ConfigApiKey);
        var model = lmstudio.FindModel("my-local-model")!;
        Assert.Equal("Local Model", model.Name);
        Assert.False(model.Reasoning);
        Assert.Equal<string>(["text"], model.Input);
        Assert.Equal(ModelCost.Zero, model.Cost);
        Assert.Equal(200000, model.ContextWindow);
        Assert.Equal(8192, model.MaxTokens);

        var byAlias = resolver.Resolve("Local");
        Assert.True(byAlias.Success);
        Assert.Equal("lmstudio/my-local-model", byAlias.Model!.Ref.ToString());
    }

    [Fact]
    public void Should_apply_the_openai_codex_context_tokens_override_over_the_catalog()
    {
        var (_, catalog, _) = Load("openai-codex-context-tokens.conf");

        var model = catalog.Find("openai-codex")!.FindModel("gpt-5.4")!;
        Assert.Equal(160000, model.ContextTokens);
        // The native window comes from the catalog because the override did not set one.
        Assert.Equal(1050000, model.ContextWindow);
    }
}
