namespace Durar.Api.Tests.Cli;

/// <summary>
/// <c>durar config check</c>: a good file is valid and printed with origins and masked secrets; a bad one names the key
/// path; an unknown key comes with its suggestion; an unset <c>${VAR}</c> is an error. Exit 2 for every problem.
/// </summary>
public sealed class ConfigCheckSpecs : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("durar-config-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Write(string name, string hocon)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, hocon);
        return path;
    }

    private static readonly Dictionary<string, string> Env = new()
    {
        ["MOON_API_KEY"] = "sk-moon-from-env-4321",
        ["DURAR_PORT"] = "18800",
        ["DURAR_GATEWAY_TOKEN"] = "gateway-token-abcdefgh",
    };

    [Fact]
    public async Task Should_print_a_valid_config_with_each_values_origin_and_secrets_masked()
    {
        var file = Write("good.conf", """
            models {
              providers {
                moon { baseUrl = "https://api.moonshot.ai/v1", apiKey = "${MOON_API_KEY}", models = [{ id = "kimi-k2.5" }] }
                local { baseUrl = "http://127.0.0.1:11434/v1", apiKey = "sk-local-literal-9999", headers { Authorization = "Bearer header-secret-7777", X-Team = "blue" } }
              }
            }
            env { OTHER_TOKEN = "tok-in-env-block-5555" }
            gateway { persistence { connectionString = "Host=db;Password=pg-secret-3333;Database=durar" } }
            """);

        var run = await Cli.RunWithAsync(Env, null, "config", "check", "--config", file);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.Err);
        var lines = Cli.Normalize(run.Out).Split('\n');
        Assert.Equal($"Config  {file} over the built-in defaults", lines[0]);
        Assert.Equal("Result  valid", lines[1]);
        Assert.Equal("KEY  VALUE  ORIGIN", lines[3]);
        Assert.Contains("models.mode  merge  default", lines);
        Assert.Contains("models.providers.moon.apiKey  ${MOON_API_KEY} = …4321  env (MOON_API_KEY)", lines);
        Assert.Contains("models.providers.moon.models[0].id  kimi-k2.5  file", lines);
        Assert.Contains("models.providers.local.apiKey  …9999  file", lines);
        Assert.Contains("models.providers.local.headers.Authorization  …7777  file", lines);
        Assert.Contains("models.providers.local.headers.X-Team  blue  file", lines);
        Assert.Contains("env.OTHER_TOKEN  …5555  file", lines);
        Assert.Contains("gateway.port  18800  env (DURAR_PORT)", lines);
        Assert.Contains("gateway.auth.token  …efgh  env (DURAR_GATEWAY_TOKEN)", lines);
        Assert.Contains("gateway.secrets.key  \"\"  default", lines);
        Assert.Contains("gateway.persistence.connectionString  Host=db;Password=…;Database=durar  file", lines);
        Assert.Contains("auth.cooldowns.schedule  [30s, 60s, 5m]  default", lines);
        foreach (var secret in new[] { "sk-moon-from-env-4321", "sk-local-literal-9999", "header-secret-7777", "tok-in-env-block-5555", "pg-secret-3333", "gateway-token-abcdefgh" })
            Assert.DoesNotContain(secret, run.Out);
    }

    [Fact]
    public async Task Should_print_the_check_as_json()
    {
        var file = Write("json.conf", """models { providers { moon { baseUrl = "https://api.moonshot.ai/v1", apiKey = "${MOON_API_KEY}" } } }""");

        var run = await Cli.RunWithAsync(Env, null, "config", "check", "--config", file, "--json");

        Assert.Equal(0, run.ExitCode);
        var json = run.Json();
        Assert.True(json.GetProperty("valid").GetBoolean());
        Assert.Equal(file, json.GetProperty("config").GetString());
        Assert.Empty(json.GetProperty("errors").EnumerateArray());
        var apiKey = json.GetProperty("values").EnumerateArray().Single(v => v.GetProperty("path").GetString() == "models.providers.moon.apiKey");
        Assert.Equal(("${MOON_API_KEY} = …4321", "env", "MOON_API_KEY"),
            (apiKey.GetProperty("value").GetString(), apiKey.GetProperty("origin").GetString(), apiKey.GetProperty("variable").GetString()));
        var mode = json.GetProperty("values").EnumerateArray().Single(v => v.GetProperty("path").GetString() == "models.mode");
        Assert.Equal("default", mode.GetProperty("origin").GetString());
    }

    [Fact]
    public async Task Should_name_the_key_path_of_a_bad_file()
    {
        var bad = Write("bad.conf", """gateway { sessions { queueMode = "sometimes" } }""");
        var broken = Write("broken.conf", "models { providers { a { baseUrl = \"http://x\" }\n");

        var run = await Cli.RunWithAsync(null, null, "config", "check", "--config", bad);
        var json = await Cli.RunWithAsync(null, null, "config", "check", "--config", broken, "--json");
        var missing = await Cli.RunWithAsync(null, null, "config", "check", "--config", Path.Combine(_dir.FullName, "nope.conf"));

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("durar: configuration error at gateway.sessions.queueMode: unknown value \"sometimes\" (expected followup, collect, interrupt, steer)",
            run.Err.Trim());
        Assert.Equal($"Config  {bad} over the built-in defaults\nResult  1 error(s)", Cli.Normalize(run.Out));
        Assert.Equal(2, json.ExitCode);
        Assert.False(json.Json().GetProperty("valid").GetBoolean());
        var error = Assert.Single(json.Json().GetProperty("errors").EnumerateArray());
        Assert.Equal(broken, error.GetProperty("path").GetString());
        Assert.StartsWith("not valid HOCON/JSON5: line 1:", error.GetProperty("message").GetString());
        Assert.Equal(2, missing.ExitCode);
        Assert.EndsWith("nope.conf: configuration file not found", missing.Err.Trim());
    }

    [Fact]
    public async Task Should_report_an_unknown_key_with_its_suggestion_and_an_unset_variable()
    {
        var file = Write("typos.conf", """
            modles { }
            gateway { prot = 8080, sessions { idelTimeout = 5m } }
            models { providers { moon { baseUrl = "https://api.moonshot.ai/v1", apiKey = "${MOON_KEY_TYPO}", modles = [] } } }
            akka { loglevel = INFO }
            serilog { anything = 1 }
            """);

        var run = await Cli.RunWithAsync(Env, null, "config", "check", "--config", file);

        Assert.Equal(2, run.ExitCode);
        string[] expected =
        [
            "durar: configuration error at modles: unknown key `modles` (did you mean `models`?)",
            "durar: configuration error at gateway.prot: unknown key `prot` (did you mean `port`?)",
            "durar: configuration error at gateway.sessions.idelTimeout: unknown key `idelTimeout` (did you mean `idleTimeout`?)",
            "durar: configuration error at models.providers.moon.modles: unknown key `modles` (did you mean `models`?)",
            "durar: configuration error at models.providers.moon.apiKey: `${MOON_KEY_TYPO}` is not set (neither in the environment nor in env { }): "
                + "provider `moon` gets no key from it",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), run.Err.Trim().Split('\n').Order(StringComparer.Ordinal));
        Assert.Contains("Result  5 error(s)", Cli.Normalize(run.Out));
        Assert.Contains("models.providers.moon.apiKey  ${MOON_KEY_TYPO} (not set)  file", Cli.Normalize(run.Out).Split('\n'));
    }
}
