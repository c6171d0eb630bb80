namespace Durar.Api.Tests.Cli;

/// <summary><c>durar models list</c>: what a running gateway serves, and the catalog offline.</summary>
public sealed class ModelsCommandSpecs
{
    [Fact]
    public async Task Should_list_the_models_a_gateway_serves_filtered_by_provider()
    {
        await using var gw = await GatewayHarness.StartAsync();

        var all = await Cli.AgainstAsync(gw, "models", "list");
        var one = await Cli.AgainstAsync(gw, "models", "list", "--provider", "fakeant");
        var json = await Cli.AgainstAsync(gw, "models", "list", "--provider", "FakeOai", "--json");

        Assert.True(all.ExitCode == 0, all.ToString());
        var lines = Cli.Normalize(all.Out).Split('\n');
        Assert.Equal("MODEL  PROVIDER", lines[0]);
        Assert.Equal("durar  durar", lines[1]);
        Assert.Contains("fakeoai/gpt-fake  fakeoai", lines);
        Assert.Contains("openai/gpt-5.4  openai", lines);
        Assert.Equal("""
            MODEL  PROVIDER
            fakeant/claude-fake  fakeant
            """, Cli.Normalize(one.Out));
        Assert.Equal(0, json.ExitCode);
        var model = Assert.Single(json.Json().GetProperty("models").EnumerateArray());
        Assert.Equal(("fakeoai/gpt-fake", "fakeoai"), (model.GetProperty("id").GetString(), model.GetProperty("provider").GetString()));
    }

    [Fact]
    public async Task Should_list_the_catalog_offline_with_the_configured_providers()
    {
        var dir = Directory.CreateTempSubdirectory("durar-cli-");
        try
        {
            var file = Path.Combine(dir.FullName, "durar.conf");
            await File.WriteAllTextAsync(file, """
                models { providers { local { baseUrl = "http://127.0.0.1:11434/v1", models = [{ id = "llama3.3", name = "Llama 3.3", contextWindow = 131072, cost = { input = 0.5, output = 1.25 } }] } } }
                """);

            var text = await Cli.RunAsync("models", "list", "--offline", "--config", file, "--provider", "local");
            var json = await Cli.RunAsync("models", "list", "--offline", "--provider", "anthropic", "--json");
            var nowhere = await Cli.RunAsync("models", "list", "--offline", "--provider", "nope");

            Assert.True(text.ExitCode == 0, text.ToString());
            Assert.Equal("""
                MODEL  NAME  CONTEXT  MAX OUTPUT  REASONING  INPUT  $/M IN  $/M OUT
                local/llama3.3  Llama 3.3  131,072  8,192  no  text  0.50  1.25
                """, Cli.Normalize(text.Out));
            var models = json.Json().GetProperty("models").EnumerateArray().ToList();
            Assert.NotEmpty(models);
            Assert.All(models, m => Assert.Equal("anthropic", m.GetProperty("provider").GetString()));
            var opus = models.Single(m => m.GetProperty("id").GetString() == "anthropic/claude-opus-4-6");
            Assert.True(opus.GetProperty("contextWindow").GetInt64() > 0);
            Assert.True(opus.GetProperty("cost").GetProperty("output").GetDouble() > 0);
            Assert.Equal((0, "No models of provider \"nope\"."), (nowhere.ExitCode, nowhere.Out.Trim()));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Should_refuse_a_bad_offline_config_with_its_key_path_and_config_without_offline()
    {
        var dir = Directory.CreateTempSubdirectory("durar-cli-");
        try
        {
            var file = Path.Combine(dir.FullName, "bad.conf");
            await File.WriteAllTextAsync(file, """models { providers { local { baseUrl = "http://127.0.0.1:1/v1", api = "openai-chat" } } }""");

            var bad = await Cli.RunAsync("models", "list", "--offline", "--config", file);
            var online = await Cli.RunAsync("models", "list", "--config", file);

            Assert.Equal(2, bad.ExitCode);
            Assert.StartsWith("durar: configuration error at models.providers.local.api: unknown api \"openai-chat\"", bad.Err);
            Assert.Equal((2, "durar: --config applies to --offline only (a running gateway lists what it loaded)"), (online.ExitCode, online.Err.Trim()));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
