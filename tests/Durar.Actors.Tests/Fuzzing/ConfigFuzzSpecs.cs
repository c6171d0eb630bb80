using System.Text;
using Durar.Actors.Configuration;
using Durar.Testing.Fuzz;

namespace Durar.Actors.Tests.Fuzzing;

/// <summary>The configuration loader fed broken variants of a valid JSON configuration and of raw HOCON text.</summary>
public sealed class ConfigFuzzSpecs
{
    private const string Json = """
        {"models":{"providers":{"p":{"baseUrl":"http://127.0.0.1:9/v1","apiKey":"sk-x","api":"openai-completions","models":[{"id":"m","contextWindow":8000,"cost":{"input":1,"output":2}}]}}},
         "agents":{"defaults":{"model":{"primary":"p/m","fallbacks":[]},"models":{"p/m":{"alias":"M","params":{"temperature":0.2}}},"timeoutSeconds":600}},
         "gateway":{"failover":{"budget":"20s"},"sessions":{"idleTimeout":"30m"},"upstream":{"maxLineBytes":1048576}}}
        """;

    [Fact]
    public void Should_load_or_refuse_with_the_key_path_every_mutated_config() =>
        FuzzCases.Run(600, 400, i => LoadOrRefuse(JsonMutator.MutateText(Json, i)), i => JsonMutator.MutateText(Json, i));

    [Fact]
    public void Should_load_or_refuse_every_mangled_hocon_text() =>
        FuzzCases.Run(600, 400, i => LoadOrRefuse(Mangle(i)), Mangle);

    private static readonly string Hocon = """
        models { providers { p { baseUrl = "http://127.0.0.1:9/v1", apiKey = ${?NO_SUCH_ENV}, api = openai-completions, models = [{ id = m }] } } }
        agents.defaults { model.primary = "p/m", model.fallbacks = [], timeoutSeconds = 600 }
        gateway { failover { budget = 20s }, sessions.idleTimeout = 30m }
        """;

    private static readonly string[] Inserts = ["{", "}", "[", "]", "=", ":", "\"", "${", "${?", "\n", ",", "include \"x\"", "#", "//", "\\", "\u0000", "\"\"\"", "+=", "."];

    /// <summary>Case <paramref name="i"/>: the HOCON text with a few of its characters cut or syntax inserted.</summary>
    private static string Mangle(int i)
    {
        var random = new Random(i);
        var text = new StringBuilder(Hocon);
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            var at = random.Next(text.Length);
            if (random.Next(3) == 0) text.Remove(at, Math.Min(random.Next(1, 8), text.Length - at));
            else text.Insert(at, Inserts[random.Next(Inserts.Length)]);
        }
        return text.ToString();
    }

    /// <summary>Loads <paramref name="text"/> within a bound: it either loads or fails with a config error naming a path.</summary>
    private static void LoadOrRefuse(string text)
    {
        var load = Task.Run(() =>
        {
            try
            {
                DurarSettingsLoader.Load(DurarSettingsLoader.FromText(text));
            }
            catch (DurarConfigException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Path), $"a config error must name its key path: {e.Message}");
            }
        });
        Assert.True(load.Wait(TimeSpan.FromSeconds(20)), "the loader did not finish within 20 s (a hang)");
    }
}
