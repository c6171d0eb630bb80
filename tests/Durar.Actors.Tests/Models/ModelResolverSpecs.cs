using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Models;

namespace Durar.Actors.Tests.Models;

public sealed class ModelResolverSpecs
{
    private static ModelResolver Resolver(string hocon = "")
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText(hocon));
        return new ModelResolver(new ProviderCatalog(settings), settings.Agents);
    }

    [Theory]
    [InlineData("openrouter/moonshotai/kimi-k2", "openrouter", "moonshotai/kimi-k2")]
    [InlineData("OpenAI/gpt-5.4", "openai", "gpt-5.4")]
    [InlineData("z.ai/glm-5", "zai", "glm-5")]
    [InlineData("z-ai/glm-5", "zai", "glm-5")]
    [InlineData(" anthropic/claude-opus-4-6 ", "anthropic", "claude-opus-4-6")]
    public void Should_split_refs_on_the_first_slash_and_normalize_the_provider(string text, string provider, string model)
    {
        Assert.True(ModelRef.TryParse(text, out var r));
        Assert.Equal(provider, r.Provider);
        Assert.Equal(model, r.Model);
    }

    [Theory]
    [InlineData("")]
    [InlineData("openai")]
    [InlineData("/gpt")]
    [InlineData("openai/")]
    [InlineData("open ai/gpt")]
    public void Should_reject_malformed_refs(string text) => Assert.False(ModelRef.TryParse(text, out _));

    [Fact]
    public void Should_resolve_a_name_once_until_a_provider_reports_its_models_again()
    {
        var r = Resolver();

        // Kept: the same resolution again (issue 17: a session turn resolved its model several times).
        Assert.Same(r.Resolve("openai/gpt-5.4").Model, r.Resolve("openai/gpt-5.4").Model);
        Assert.Same(r.Resolve("durar").Model, r.Resolve("durar").Model);
        Assert.False(r.Resolve("my-local-model").Success);

        // A new listing: the bare id a provider reported now resolves to it, and kept names are resolved anew.
        var before = r.Resolve("openai/gpt-5.4").Model;
        r.Catalog.Discovered.Set("openai", [ModelDefinition.PassThrough("my-local-model")]);

        var local = r.Resolve("my-local-model");
        Assert.True(local.Success);
        Assert.Equal("openai/my-local-model", local.Model!.Ref.ToString());
        Assert.NotSame(before, r.Resolve("openai/gpt-5.4").Model);
        Assert.Equal(before!.Ref, r.Resolve("openai/gpt-5.4").Model!.Ref);
    }

    [Fact]
    public void Should_rewrite_legacy_model_ids()
    {
        var r = Resolver();
        Assert.Equal("google/gemini-3-flash-preview", r.Resolve("google/gemini-3.1-flash-preview").Model!.Ref.ToString());
        var kimi = r.Resolve("kimi/k2p5");
        Assert.True(kimi.Success);
        Assert.Equal("kimi", kimi.Model!.Provider.Id);
    }

    [Fact]
    public void Should_match_catalog_models_case_insensitively_but_send_the_catalog_spelling()
    {
        var r = Resolver();
        var m = r.Resolve("minimax/minimax-m2.7").Model!;
        Assert.Equal("MiniMax-M2.7", m.Model.Id);
    }

    [Fact]
    public void Should_pass_through_unknown_model_ids_of_known_providers()
    {
        var m = Resolver().Resolve("openrouter/some-vendor/new-model").Model!;
        Assert.Equal("some-vendor/new-model", m.Model.Id);
        Assert.Equal(8192, m.Model.MaxTokens);
    }

    [Fact]
    public void Should_fail_for_unknown_providers()
    {
        var result = Resolver().Resolve("nosuch/model");
        Assert.Equal(ResolveFailure.UnknownProvider, result.Failure);
    }

    [Fact]
    public void Should_resolve_an_alias_before_a_bare_model_id()
    {
        var r = Resolver("""
            models { providers { local { baseUrl = "http://127.0.0.1:9/v1", models = [{ id = "glm-5" }] } } }
            agents { defaults { models { "local/glm-5": { alias: "glm-5" } } } }
            """);
        // "glm-5" is both an alias and a model id offered by zai and local; the alias wins.
        Assert.Equal("local/glm-5", r.Resolve("glm-5").Model!.Ref.ToString());
    }

    [Fact]
    public void Should_resolve_a_unique_bare_model_id_and_reject_an_ambiguous_one()
    {
        var r = Resolver("""models { providers { local { baseUrl = "http://127.0.0.1:9/v1", models = [{ id = "glm-5" }, { id = "only-here" }] } } }""");
        Assert.Equal("local/only-here", r.Resolve("only-here").Model!.Ref.ToString());
        var ambiguous = r.Resolve("glm-5");
        Assert.Equal(ResolveFailure.Ambiguous, ambiguous.Failure);
        Assert.Contains("local", ambiguous.Message);
        Assert.Contains("zai", ambiguous.Message);
    }

    [Fact]
    public void Should_resolve_durar_to_the_configured_primary()
    {
        var r = Resolver("""agents { defaults { model { primary = "anthropic/claude-opus-4-6", fallbacks = ["openai/gpt-5.4"] } } }""");
        Assert.Equal("anthropic/claude-opus-4-6", r.Resolve("durar").Model!.Ref.ToString());
        Assert.Equal(["openai/gpt-5.4", "anthropic/claude-opus-4-6"], r.ConfiguredFallbacks);
    }

    [Fact]
    public void Should_check_the_allowlist_with_exact_refs_and_provider_wildcards()
    {
        var policy = new ModelPolicy(["openai/gpt-5.4", "anthropic/*", "openrouter/moonshotai/*"]);
        Assert.True(policy.IsAllowed(ModelRef.Parse("openai/gpt-5.4")));
        Assert.True(policy.IsAllowed(ModelRef.Parse("OPENAI/GPT-5.4")));
        Assert.False(policy.IsAllowed(ModelRef.Parse("openai/gpt-5.4-pro")));
        Assert.True(policy.IsAllowed(ModelRef.Parse("anthropic/claude-opus-4-6")));
        Assert.True(policy.IsAllowed(ModelRef.Parse("openrouter/moonshotai/kimi-k2")));
        Assert.False(policy.IsAllowed(ModelRef.Parse("openrouter/auto")));
        Assert.Equal("Model override \"openai/gpt-5.4-pro\" is not allowed by agents.defaults.modelPolicy.allow.",
            ModelPolicy.RejectionMessage(ModelRef.Parse("openai/gpt-5.4-pro")));
        Assert.True(new ModelPolicy([]).IsAllowed(ModelRef.Parse("x/y")));
    }
}
