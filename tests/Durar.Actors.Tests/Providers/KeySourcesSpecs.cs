using Durar.Actors.Catalog;
using Durar.Actors.Providers;

namespace Durar.Actors.Tests.Providers;

public sealed class KeySourcesSpecs
{
    private static KeySources Env(params (string Name, string Value)[] vars)
    {
        var map = vars.ToDictionary(v => v.Name, v => v.Value);
        return new KeySources(n => map.GetValueOrDefault(n), () => map.Keys);
    }

    private static ProviderDefinition Provider(string id, string? apiKey = null) =>
        BuiltInCatalog.Providers[id] with { ConfigApiKey = apiKey };

    [Fact]
    public void Should_collect_keys_in_precedence_order_and_deduplicate()
    {
        var keys = Env(
                ("OPENAI_API_KEY_10", "k10"), ("OPENAI_API_KEY_2", "k2"), ("OPENAI_API_KEY", "single"),
                ("OPENAI_API_KEYS", "a, b;c  single"), ("OTHER_API_KEY", "x"))
            .Collect(Provider("openai", "cfg"));
        Assert.Equal(["cfg", "a", "b", "c", "single", "k2", "k10"], keys.Select(k => k.Secret));
        Assert.Equal("OPENAI_API_KEYS", keys[1].Source);
    }

    [Fact]
    public void Should_use_only_the_live_key_when_it_is_set()
    {
        var keys = Env(("DURAR_LIVE_OPENAI_KEY", "live"), ("OPENAI_API_KEY", "other")).Collect(Provider("openai", "cfg"));
        Assert.Equal("live", Assert.Single(keys).Secret);
    }

    [Fact]
    public void Should_use_the_gemini_base_and_google_fallback_for_google()
    {
        var keys = Env(("GEMINI_API_KEY", "g1"), ("GOOGLE_API_KEY", "g2")).Collect(Provider("google"));
        Assert.Equal(["g1", "g2"], keys.Select(k => k.Secret));
    }

    [Fact]
    public void Should_upper_case_provider_ids_with_dashes_as_underscores()
    {
        Assert.Equal("VERCEL_AI_GATEWAY", KeySources.EnvBase("vercel-ai-gateway"));
        var keys = Env(("OPENAI_CODEX_API_KEY", "c")).Collect(Provider("openai-codex"));
        Assert.Equal("c", Assert.Single(keys).Secret);
    }

    [Fact]
    public void Should_expand_env_references_in_config_keys()
    {
        var env = Env(("MY_KEY", "secret-1"));
        Assert.Equal("pre-secret-1-post", env.Expand("pre-${MY_KEY}-post"));
        Assert.Equal("", env.Expand("${UNSET}"));
        Assert.Empty(env.Collect(Provider("openai", "${UNSET}")));
    }

    [Fact]
    public void Should_derive_stable_ids_that_do_not_reveal_the_secret()
    {
        var a = ApiKeyCredential.For("openai", "sk-secret-abcd", "X");
        var b = ApiKeyCredential.For("openai", "sk-secret-abcd", "Y");
        Assert.Equal(a.Id, b.Id);
        Assert.DoesNotContain("secret", a.Id);
        Assert.Equal("…abcd", a.Masked);
        Assert.DoesNotContain("sk-secret", a.ToString());
    }
}
