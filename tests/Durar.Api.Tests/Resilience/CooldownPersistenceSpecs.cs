using System.Net;
using Durar.Testing;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Resilience;

/// <summary>Key health is journaled: a graceful restart on the same data directory keeps every cooldown.</summary>
public sealed class CooldownPersistenceSpecs
{
    private const string KeyA = "sk-per-key-aaaa";
    private const string KeyB = "sk-per-key-bbbb";

    [Fact]
    public async Task Should_keep_a_cooldown_across_a_restart_and_skip_the_cooling_key()
    {
        var gw = await GatewayHarness.StartAsync(Provider("per1", "m1") + $$"""
            env { PER1_API_KEYS = "{{KeyA}},{{KeyB}}" }
            """ + FastFailover);
        try
        {
            gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited("300") : null;
            Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("per1/m1")).Status);
            var cooling = await gw.WaitForKeyStateAsync("per1", KeyA, "cooling");
            var until = cooling.Until()!.Value;
            Assert.InRange(until, DateTimeOffset.UtcNow + TimeSpan.FromSeconds(280), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(305));

            gw = await gw.RestartAsync();

            var restored = await gw.KeyAsync("per1", KeyA);
            Assert.True(restored.GetProperty("state").GetString() == "cooling", $"after restart: {restored.GetRawText()}");
            Assert.Equal("rate_limit", restored.GetProperty("reason").GetString());
            Assert.InRange(restored.Until()!.Value, until - TimeSpan.FromSeconds(2), until + TimeSpan.FromSeconds(2));

            // Round-robin after a restart starts from scratch (A first): only the restored cooldown sends both to B.
            var count = gw.Fake.RequestCount;
            for (var i = 0; i < 2; i++)
                Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("per1/m1")).Status);
            Assert.Equal([KeyB, KeyB], gw.Fake.Requests.Skip(count).Select(r => r.ApiKey));
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_answer_429_without_calling_upstream_after_a_restart_while_the_only_key_cools()
    {
        var gw = await GatewayHarness.StartAsync(Provider("per2", "m1", apiKey: KeyA) + FastFailover);
        try
        {
            gw.Fake.Script = _ => FakeResponse.RateLimited("300");
            Assert.Equal(HttpStatusCode.TooManyRequests, (await gw.ChatAsync("per2/m1")).Status);
            var until = (await gw.WaitForKeyStateAsync("per2", KeyA, "cooling")).Until()!.Value;

            gw = await gw.RestartAsync();

            var count = gw.Fake.RequestCount;
            var reply = await gw.ChatAsync("per2/m1");
            Assert.Equal(HttpStatusCode.TooManyRequests, reply.Status);
            Assert.Equal("rate_limit_error", reply.Error.GetProperty("type").GetString());
            Assert.Equal(count, gw.Fake.RequestCount);
            // Retry-After = when the key recovers (about 5 min away), not a default.
            var retryAfter = reply.Response.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(DateTimeOffset.UtcNow + retryAfter!.Value, until - TimeSpan.FromSeconds(5), until + TimeSpan.FromSeconds(5));
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }
}
