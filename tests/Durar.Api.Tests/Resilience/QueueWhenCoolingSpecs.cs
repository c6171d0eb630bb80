using System.Diagnostics;
using System.Net;
using Durar.Testing;

namespace Durar.Api.Tests.Resilience;

/// <summary><c>gateway.queueWhenCooling</c>: wait (bounded) for the first key to recover instead of answering 429.</summary>
public sealed class QueueWhenCoolingSpecs
{
    private static string Config(bool enabled) => $$"""
        models { providers { qwc { baseUrl = "{fake-openai}", apiKey = "sk-qwc-only-key", api = "openai-completions", models = [{ id = "m" }] } } }
        agents { defaults { model { primary = "qwc/m" } } }
        auth { cooldowns { schedule = [2s, 2s, 2s] } }
        gateway {
          failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s, probeInterval = 1h, probeMargin = 0s }
          queueWhenCooling { enabled = {{(enabled ? "true" : "false")}}, maxWait = 10s }
        }
        """;

    private static HttpRequestMessage Chat(GatewayHarness gw) =>
        gw.Post("v1/chat/completions", """{"model":"qwc/m","messages":[{"role":"user","content":"x"}]}""");

    [Fact]
    public async Task Should_wait_for_the_cooling_key_and_answer_instead_of_429_when_enabled()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(enabled: true));
        gw.Fake.Enqueue(FakeResponse.RateLimited("1"));
        using (var first = await gw.Http.SendAsync(Chat(gw)))
            // The request that meets the 429 itself is answered at once (its key's cooldown is being recorded meanwhile).
            Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);

        // Every candidate is now cooling: the next request waits for the key to recover (2 s) instead of answering 429.
        var clock = Stopwatch.StartNew();
        using var second = await gw.Http.SendAsync(Chat(gw));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(9));
        Assert.Equal(2, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_answer_429_with_retry_after_at_once_when_disabled()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(enabled: false));
        gw.Fake.Enqueue(FakeResponse.RateLimited("1"));
        using var response = await gw.Http.SendAsync(Chat(gw));
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal(1, gw.Fake.RequestCount);
    }
}
