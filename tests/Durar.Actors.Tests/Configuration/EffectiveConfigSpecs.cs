using Akka.Configuration;
using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// <see cref="EffectiveConfig"/>: every leaf of the Durar roots once, with its origin (default, file, env), secrets
/// masked, <c>${VAR}</c>s of an api key shown with their masked value, and nothing of other roots such as <c>akka</c>.
/// </summary>
public sealed class EffectiveConfigSpecs
{
    private const string File = """
        models { providers {
          a { baseUrl = "http://h/v1", apiKey = "${A_KEY}", models = [{ id = m1, cost = { input = 1 } }, { id = m2 }] }
          b { baseUrl = "http://h/v1", apiKey = "${B_KEY}" }
          c { baseUrl = "http://h/v1", apiKey = "${C_KEY}" }
          d { baseUrl = "http://h/v1", apiKey = "sk-literal-key-0000" }
        } }
        env { B_KEY = "sk-from-env-block-2222" }
        gateway { port = 9000 }
        akka { loglevel = DEBUG }
        """;

    private static Dictionary<string, ConfigEntry> Describe(IReadOnlyList<EnvOverride>? overrides = null)
    {
        var file = ConfigurationFactory.ParseString(File);
        var effective = file.WithFallback(DurarSettingsLoader.Defaults);
        var entries = EffectiveConfig.Describe(effective, file, overrides ?? [], name => name == "A_KEY" ? "sk-from-environment-1111" : null);
        Assert.Equal(entries.Length, entries.Select(e => e.Path).Distinct().Count());
        return entries.ToDictionary(e => e.Path);
    }

    [Fact]
    public void Should_give_each_value_its_origin()
    {
        var entries = Describe();

        Assert.Equal(new ConfigEntry("models.mode", "merge", ConfigOrigin.Default), entries["models.mode"]);
        Assert.Equal(new ConfigEntry("gateway.port", "9000", ConfigOrigin.File), entries["gateway.port"]);
        Assert.Equal(new ConfigEntry("models.providers.a.models[1].id", "m2", ConfigOrigin.File), entries["models.providers.a.models[1].id"]);
        Assert.Equal(new ConfigEntry("models.providers.a.models[0].cost.input", "1", ConfigOrigin.File), entries["models.providers.a.models[0].cost.input"]);
        Assert.Equal(new ConfigEntry("auth.cooldowns.schedule", "[30s, 60s, 5m]", ConfigOrigin.Default), entries["auth.cooldowns.schedule"]);
        Assert.Equal(new ConfigEntry("agents.defaults.models", "{}", ConfigOrigin.Default), entries["agents.defaults.models"]);
        Assert.Equal(new ConfigEntry("gateway.auth.token", "\"\"", ConfigOrigin.Default), entries["gateway.auth.token"]);
        Assert.DoesNotContain(entries.Keys, p => p.StartsWith("akka", StringComparison.Ordinal));
    }

    [Fact]
    public void Should_show_api_key_variables_with_their_masked_value_and_where_it_came_from()
    {
        var entries = Describe();

        Assert.Equal(new ConfigEntry("models.providers.a.apiKey", "${A_KEY} = …1111", ConfigOrigin.Env, "A_KEY"), entries["models.providers.a.apiKey"]);
        Assert.Equal(new ConfigEntry("models.providers.b.apiKey", "${B_KEY} = …2222 (env { })", ConfigOrigin.File), entries["models.providers.b.apiKey"]);
        Assert.Equal(new ConfigEntry("models.providers.c.apiKey", "${C_KEY} (not set)", ConfigOrigin.File), entries["models.providers.c.apiKey"]);
        Assert.Equal(new ConfigEntry("models.providers.d.apiKey", "…0000", ConfigOrigin.File), entries["models.providers.d.apiKey"]);
        Assert.Equal("…2222", entries["env.B_KEY"].Value);
    }

    [Fact]
    public void Should_put_environment_overrides_in_place_of_the_file_and_mask_them_when_secret()
    {
        var entries = Describe([new EnvOverride("gateway.port", "DURAR_PORT", "9100"), new EnvOverride("gateway.auth.token", "DURAR_GATEWAY_TOKEN", "tok-abcdefgh-9999")]);

        Assert.Equal(new ConfigEntry("gateway.port", "9100", ConfigOrigin.Env, "DURAR_PORT"), entries["gateway.port"]);
        Assert.Equal(new ConfigEntry("gateway.auth.token", "…9999", ConfigOrigin.Env, "DURAR_GATEWAY_TOKEN"), entries["gateway.auth.token"]);
    }
}
