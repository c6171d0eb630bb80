using System.Net;
using System.Text.Json;
using Durar.Testing;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Usage;

/// <summary>Embeddings count on the key that served them, input tokens and cost at the model's input price, like chat.</summary>
public sealed class EmbeddingUsageSpecs
{
    private const string Config = """
        models { providers { embu { baseUrl = "{fake-openai}", api = "openai-completions", models = [{ id = "e", kind = "embedding", cost = { input = 0.02 } }] } } }
        env { EMBU_API_KEYS = "sk-embusage-aaaa" }
        auth { cooldowns { lastUsedFlushInterval = 200ms } }
        """;

    [Fact]
    public async Task Should_count_input_tokens_and_cost_on_the_key()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(new FakeResponse { PromptTokens = 400_000 }, new FakeResponse { PromptTokens = 100_000 });

        foreach (var body in (string[])["""{"model":"embu/e","input":"one"}""", """{"model":"embu/e","input":["two","three"],"encoding_format":"base64"}"""])
        {
            var reply = await gw.SendAsync(gw.Post("v1/embeddings", body));
            Assert.Equal(HttpStatusCode.OK, reply.Status);
        }

        var key = await gw.WaitForKeyAsync("embu", "sk-embusage-aaaa", k => k.GetProperty("usage").GetProperty("input").GetInt64() >= 500_000,
            "showing 500000 input tokens", TimeSpan.FromSeconds(10));
        var usage = key.GetProperty("usage");
        Assert.Equal(500_000, usage.GetProperty("input").GetInt64());
        Assert.Equal(0, usage.GetProperty("output").GetInt64());
        // 500,000 tokens × $0.02 per 1M
        Assert.Equal(0.01m, usage.GetProperty("cost").GetDecimal());
        var provider = (await gw.ProvidersAsync()).EnumerateArray().Single(p => p.GetProperty("id").GetString() == "embu");
        Assert.Equal(500_000, provider.GetProperty("usage").GetProperty("input").GetInt64());
    }
}
