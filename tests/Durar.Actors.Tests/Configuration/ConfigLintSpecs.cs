using Akka.Configuration;
using Durar.Actors.Configuration;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// <see cref="ConfigLint"/>: the keys Durar would silently ignore and the <c>${VAR}</c>s that leave a provider without a
/// key, each named by its key path; everything the defaults and the seed examples use passes.
/// </summary>
public sealed class ConfigLintSpecs
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    private static IReadOnlyList<string> Check(string hocon, Func<string, string?>? environment = null) =>
        ConfigLint.Check(DurarSettingsLoader.FromText(hocon), environment ?? NoEnvironment).Select(p => p.ToString()).ToList();

    [Fact]
    public void Should_pass_the_defaults_and_every_seed_example()
    {
        Assert.Empty(ConfigLint.Check(DurarSettingsLoader.Defaults, NoEnvironment));
        var examples = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Configuration", "SeedExamples"), "*.conf");
        Assert.NotEmpty(examples);
        foreach (var file in examples)
        {
            var problems = ConfigLint.Check(DurarSettingsLoader.LoadFile(file), _ => "set");
            Assert.True(problems.IsEmpty, $"{Path.GetFileName(file)}: {string.Join("; ", problems)}");
        }
    }

    [Fact]
    public void Should_name_an_unknown_top_level_key_close_to_a_durar_root_and_let_other_roots_pass()
    {
        Assert.Equal(["modles: unknown key `modles` (did you mean `models`?)"], Check("modles { providers {} }"));
        Assert.Equal(["agent: unknown key `agent` (did you mean `agents`?)"], Check("agent { defaults {} }"));
        Assert.Empty(Check("akka { loglevel = DEBUG }\nserilog { minimumLevel = Information }\nmyapp { anything = 1 }"));
    }

    [Fact]
    public void Should_name_unknown_keys_inside_known_sections_with_a_suggestion_or_the_keys_expected()
    {
        var problems = Check("""
            gateway {
              prot = 1
              sessions { idelTimeout = 1m }
              cluster { discovery { methd = config } }
            }
            auth {
              cooldowns { schedul = [1s] }
              profiles { "openai:default" { provider = openai, emial = "a@b.c" } }
            }
            agents {
              defaults {
                model { primery = "echo/echo" }
                models { "openai/gpt-5.4" { alias = "G", prams = {} } }
              }
            }
            models { mode = merge, providers { x { baseUrl = "http://h/v1", apiKey = "k", zzz = 1, models = [{ id = m, cost = { inptu = 1 }, contextWindw = 5 }] } } }
            """);

        Assert.Equal(new[]
        {
            "agents.defaults.model.primery: unknown key `primery` (did you mean `primary`?)",
            "agents.defaults.models.\"openai/gpt-5.4\".prams: unknown key `prams` (did you mean `params`?)",
            "auth.cooldowns.schedul: unknown key `schedul` (did you mean `schedule`?)",
            "auth.profiles.\"openai:default\".emial: unknown key `emial` (did you mean `email`?)",
            "gateway.cluster.discovery.methd: unknown key `methd` (did you mean `method`?)",
            "gateway.prot: unknown key `prot` (did you mean `port`?)",
            "gateway.sessions.idelTimeout: unknown key `idelTimeout` (did you mean `idleTimeout`?)",
            "models.providers.x.models[0].contextWindw: unknown key `contextWindw` (did you mean `contextWindow`?)",
            "models.providers.x.models[0].cost.inptu: unknown key `inptu` (did you mean `input`?)",
            "models.providers.x.zzz: unknown key `zzz` (expected one of: api, apiKey, auth, authHeader, baseUrl, compat, headers, maxTokens, models, request, rpm, timeoutSeconds, tpm)",
        }, problems.Order(StringComparer.Ordinal));
        Assert.Equal(["auth.profiles.p.foo: unknown key `foo` (expected one of: email, mode, provider)"], Check("auth { profiles { p { foo = 1 } } }"));
    }

    [Fact]
    public void Should_leave_free_form_sections_alone()
    {
        Assert.Empty(Check("""
            env { ANYTHING_AT_ALL = "x" }
            auth { order { openai = ["a", "b"] } }
            agents { defaults { models { "openai/gpt-5.4" { params { extra_body { whatever = 1 } } } } } }
            models {
              providers {
                x {
                  baseUrl = "http://h/v1"
                  headers { X-Custom = "1" }
                  compat { anything = true }
                  models = [{ id = m, compat { y = 1 } }]
                }
              }
            }
            """));
    }

    [Fact]
    public void Should_name_a_variable_of_an_api_key_that_is_set_nowhere()
    {
        const string config = """
            models { providers {
              a { baseUrl = "http://h/v1", apiKey = "${A_KEY}" }
              b { baseUrl = "http://h/v1", apiKey = "${B_KEY}" }
              c { baseUrl = "http://h/v1", apiKey = "prefix-${C_ONE}-${C_TWO}" }
            } }
            env { B_KEY = "from-the-env-block" }
            """;

        var problems = Check(config, name => name == "C_ONE" ? "set" : null);

        Assert.Equal(new[]
        {
            "models.providers.a.apiKey: `${A_KEY}` is not set (neither in the environment nor in env { }): provider `a` gets no key from it",
            "models.providers.c.apiKey: `${C_TWO}` is not set (neither in the environment nor in env { }): provider `c` gets no key from it",
        }, problems.Order(StringComparer.Ordinal));
        Assert.Empty(Check(config, _ => "set"));
    }

    [Fact]
    public void Should_find_variables_as_the_key_sources_expand_them()
    {
        Assert.Equal(["A", "B_2"], ConfigLint.Variables("${A}-x-${B_2}"));
        Assert.Empty(ConfigLint.Variables("no variables, ${unterminated"));
        Assert.Empty(ConfigLint.Variables(null));
    }

    [Fact]
    public void Should_take_keys_added_to_the_defaults_file_as_known()
    {
        // Every key of a section with fixed keys comes from the defaults file: what it has is known, nothing else is.
        var config = ConfigurationFactory.ParseString("gateway { upstream { connectTimeout = 1s, conectTimeout = 2s } }").WithFallback(DurarSettingsLoader.Defaults);

        Assert.Equal(["gateway.upstream.conectTimeout: unknown key `conectTimeout` (did you mean `connectTimeout`?)"],
            ConfigLint.Check(config, NoEnvironment).Select(p => p.ToString()));
    }
}
