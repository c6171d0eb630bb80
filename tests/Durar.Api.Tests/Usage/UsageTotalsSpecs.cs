using System.Net;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Usage;

/// <summary>Usage and cost add up per key and per provider, from JSON and streamed answers alike, and survive a restart.</summary>
public sealed class UsageTotalsSpecs
{
    private const string Config = """
        models { providers { usg { baseUrl = "{fake-openai}", api = "openai-completions", models = [{ id = "m", cost = { input = 3, output = 15 } }] } } }
        env { USG_API_KEYS = "sk-usage-aaaa" }
        agents { defaults { model { primary = "usg/m" } } }
        auth { cooldowns { lastUsedFlushInterval = 200ms } }
        """;

    private static async Task<JsonElement> ProviderAsync(GatewayHarness gw) =>
        JsonDocument.Parse(await gw.Http.GetStringAsync("v1/admin/providers")).RootElement
            .GetProperty("providers").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "usg").Clone();

    /// <summary>Usage reaches the key actors in batches and the admin view with their next flush.</summary>
    private static Task<JsonElement> WaitForUsageAsync(GatewayHarness gw, long output) =>
        Eventually.Until(() => ProviderAsync(gw), p => p.GetProperty("usage").GetProperty("output").GetInt64() >= output,
            $"provider usg showing {output} output tokens", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100), describe: p => p.GetRawText());

    [Fact]
    public async Task Should_add_up_usage_and_cost_per_key_and_provider_and_keep_them_across_a_restart()
    {
        var gw = await GatewayHarness.StartAsync(Config);
        try
        {
            gw.Fake.Enqueue(new FakeResponse { Text = "a", PromptTokens = 1000, CompletionTokens = 100 },
                new FakeResponse { Text = "b", PromptTokens = 2000, CompletionTokens = 200 });
            using (var r = await gw.Http.SendAsync(gw.Post("v1/chat/completions", """{"model":"usg/m","messages":[{"role":"user","content":"x"}]}""")))
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            using (var r = await gw.Http.SendAsync(gw.Post("v1/chat/completions", """{"model":"usg/m","stream":true,"messages":[{"role":"user","content":"x"}]}""")))
                Assert.EndsWith("[DONE]\n\n", await r.Content.ReadAsStringAsync());

            var provider = await WaitForUsageAsync(gw, 300);
            var usage = provider.GetProperty("usage");
            Assert.Equal(3000, usage.GetProperty("input").GetInt64());
            Assert.Equal(300, usage.GetProperty("output").GetInt64());
            // 3000 × $3/M + 300 × $15/M = 0.009 + 0.0045
            Assert.Equal(0.0135m, usage.GetProperty("cost").GetDecimal());
            var key = Assert.Single(provider.GetProperty("keys").EnumerateArray());
            Assert.Equal(300, key.GetProperty("usage").GetProperty("output").GetInt64());

            gw = await gw.RestartAsync();
            var after = (await ProviderAsync(gw)).GetProperty("usage");
            Assert.Equal(3000, after.GetProperty("input").GetInt64());
            Assert.Equal(0.0135m, after.GetProperty("cost").GetDecimal());
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }
}
