using System.Net;
using Durar.Api.Tests.Resilience;
using Durar.Testing;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Cli;

/// <summary><c>durar status</c> against a real gateway: nodes, keys with their state and time left, spend.</summary>
public sealed partial class StatusCommandSpecs
{
    internal const string KeyA = "sk-fake-openai-1234";
    internal const string KeyB = "sk-ant-fake-5678";

    internal const string Config = """
        models {
          # Only these providers (and echo), so the summary lines do not follow the built-in catalog.
          mode = replace
          providers {
            nokey { baseUrl = "{fake-openai}", auth = "api-key", models = [{ id = "m" }] }
            fakeoai { baseUrl = "{fake-openai}", apiKey = "sk-fake-openai-1234", api = "openai-completions", models = [{ id = "gpt-fake", cost = { input = 3, output = 15 } }] }
            fakeant { baseUrl = "{fake-anthropic}", apiKey = "sk-ant-fake-5678", api = "anthropic-messages", models = [{ id = "claude-fake" }] }
          }
        }
        agents { defaults { model { primary = "fakeoai/gpt-fake" } } }
        auth { cooldowns { lastUsedFlushInterval = 200ms } }
        """ + FastFailover;

    [Fact]
    public async Task Should_show_nodes_keys_with_state_and_time_left_and_the_spend()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Script = r => r.Wire == "anthropic" ? FakeResponse.RateLimited(retryAfter: "120") : new FakeResponse { Text = "ok", PromptTokens = 1000, CompletionTokens = 100 };
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("fakeoai/gpt-fake")).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await gw.ChatAsync("fakeant/claude-fake")).Status);
        await gw.WaitForKeyStateAsync("fakeant", KeyB, "cooling");
        await gw.WaitForKeyAsync("fakeoai", KeyA, k => k.GetProperty("usage").GetProperty("output").GetInt64() == 100, "with its usage");

        var run = await Cli.AgainstAsync(gw, "status");

        Assert.True(run.ExitCode == 0, run.ToString());
        var text = TimeLeftPattern().Replace(Cli.Normalize(run.Out, gw), "{time}");
        Assert.Equal("""
            Gateway  {url}/
            Spend  $0.0045 over 2 key(s) (1,000 input, 100 output tokens)

            Nodes
            ADDRESS  STATUS  LEADER  REACHABLE  SESSIONS  ROLES
            {node}  up  yes  yes  0  durar

            Keys
            PROVIDER  KEY  SECRET  SOURCE  STATE  TIME LEFT  REASON  REQUESTS  FAILURES  TOKENS IN  TOKENS OUT  COST
            fakeant  fakeant:key-6976037c  …5678  models.providers.fakeant.apiKey  cooling  {time}  rate_limit  1  1  0  0  $0.0000
            fakeoai  fakeoai:key-5772a35d  …1234  models.providers.fakeoai.apiKey  ready  -  -  1  0  1,000  100  $0.0045

            Keyless  echo (served without a key)
            No key  1 other provider(s) (durar status --json lists them)
            """, text);
        Assert.Equal("", run.Err);
    }

    [Fact]
    public async Task Should_print_the_cluster_providers_and_spend_as_json()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Default = new FakeResponse { Text = "ok", PromptTokens = 2000, CompletionTokens = 200 };
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("fakeoai/gpt-fake")).Status);
        await gw.WaitForKeyAsync("fakeoai", KeyA, k => k.GetProperty("usage").GetProperty("output").GetInt64() == 200, "with its usage");

        var run = await Cli.AgainstAsync(gw, "status", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        var json = run.Json();
        Assert.Equal(gw.BaseUri.ToString(), json.GetProperty("url").GetString());
        var member = Assert.Single(json.GetProperty("cluster").GetProperty("members").EnumerateArray());
        Assert.Equal("up", member.GetProperty("status").GetString());
        var fakeoai = json.GetProperty("providers").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "fakeoai");
        var key = Assert.Single(fakeoai.GetProperty("keys").EnumerateArray());
        Assert.Equal(("fakeoai:key-5772a35d", "ready", "…1234"),
            (key.GetProperty("id").GetString(), key.GetProperty("state").GetString(), key.GetProperty("key").GetString()));
        var spend = json.GetProperty("spend");
        Assert.Equal(2000, spend.GetProperty("input").GetInt64());
        Assert.Equal(200, spend.GetProperty("output").GetInt64());
        Assert.Equal(0.009m, spend.GetProperty("cost").GetDecimal());
        Assert.DoesNotContain(KeyA, run.Out);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\b\d+m \d\ds\b")]
    private static partial System.Text.RegularExpressions.Regex TimeLeftPattern();
}
