using System.Net;
using Durar.Testing;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Resilience;

/// <summary>
/// Model failover through the real gateway: provider A (OpenAI wire, model a1) and provider B (Anthropic wire, model b1) on
/// the fake, which tells them apart by the model in the request body.
/// </summary>
public sealed class ModelFailoverSpecs
{
    private const string KeyA = "sk-fov-prov-aaaa";
    private const string KeyB = "sk-fov-prov-bbbb";

    private static string TwoProviders(string extra = "") =>
        Provider("fova", "a1", KeyA) + Provider("fovb", "b1", KeyB, wire: "anthropic") + FastFailover + extra;

    private static IEnumerable<string?> Models(GatewayHarness gw) => gw.Fake.Requests.Select(r => r.Model);

    [Fact]
    public async Task Should_fall_back_to_the_next_provider_on_a_billing_error_and_disable_the_key()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoProviders());
        gw.Fake.Script = r => r.Model == "a1" ? FakeResponse.Error(402, "insufficient credits") : null;
        var before = DateTimeOffset.UtcNow;

        var reply = await gw.ChatAsync("fova/a1", fallbacks: ["fovb/b1"]);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("fovb/b1", reply.Model);
        Assert.Equal(2, reply.Attempts);
        Assert.StartsWith("Hello from fake: ", reply.Content);
        Assert.Equal(["a1", "b1"], Models(gw));
        Assert.Equal(["openai", "anthropic"], gw.Fake.Requests.Select(r => r.Wire));

        // Billing disables the key: 10 min for the first billing failure.
        var a = await gw.WaitForKeyStateAsync("fova", KeyA, "disabled");
        Assert.Equal("billing", a.GetProperty("reason").GetString());
        Assert.InRange(a.Until()!.Value, before + TimeSpan.FromMinutes(9), DateTimeOffset.UtcNow + TimeSpan.FromMinutes(11));
        Assert.Equal("ready", (await gw.KeyAsync("fovb", KeyB)).GetProperty("state").GetString());

        // The next request does not knock on the disabled provider again.
        var next = await gw.ChatAsync("fova/a1", fallbacks: ["fovb/b1"]);
        Assert.Equal(HttpStatusCode.OK, next.Status);
        Assert.Equal("fovb/b1", next.Model);
        Assert.Equal(["a1", "b1", "b1"], Models(gw));
    }

    [Fact]
    public async Task Should_return_the_billing_error_of_a_strict_model_without_falling_back()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoProviders());
        gw.Fake.Script = r => r.Model == "a1" ? FakeResponse.Error(402, "insufficient credits") : null;

        var reply = await gw.ChatAsync("fova/a1");

        Assert.Equal(HttpStatusCode.BadGateway, reply.Status);
        Assert.Contains("insufficient credits", reply.ErrorMessage);
        Assert.Equal("api_error", reply.Error.GetProperty("type").GetString());
        Assert.Equal(["a1"], Models(gw));
    }

    [Fact]
    public async Task Should_retry_an_overloaded_model_once_then_fall_back()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoProviders());
        gw.Fake.Script = r => r.Model == "a1" ? FakeResponse.Overloaded() : null;

        var reply = await gw.ChatAsync("fova/a1", fallbacks: ["fovb/b1"]);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("fovb/b1", reply.Model);
        Assert.Equal(3, reply.Attempts);
        Assert.Equal(["a1", "a1", "b1"], Models(gw));
        // A same-model retry for overload reuses its key: another key of the same provider does not help.
        Assert.Equal([KeyA, KeyA, KeyB], gw.Fake.Requests.Select(r => r.ApiKey));
    }

    [Fact]
    public async Task Should_retry_an_overloaded_strict_model_until_it_recovers()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoProviders());
        var calls = 0;
        gw.Fake.Script = _ => Interlocked.Increment(ref calls) <= 2 ? FakeResponse.Overloaded() : null;

        var reply = await gw.ChatAsync("fova/a1");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("fova/a1", reply.Model);
        Assert.Equal(3, reply.Attempts);
        Assert.Equal(["a1", "a1", "a1"], Models(gw));
    }

    [Fact]
    public async Task Should_fail_over_at_once_when_retry_after_is_longer_than_max_retry_after()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoProviders());
        gw.Fake.Script = r => r.Model == "a1" ? FakeResponse.Overloaded() with { RetryAfter = "120" } : null;

        var reply = await gw.ChatAsync("fova/a1", fallbacks: ["fovb/b1"]);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("fovb/b1", reply.Model);
        Assert.Equal(["a1", "b1"], Models(gw));
        Assert.True(reply.Elapsed < TimeSpan.FromSeconds(10), $"took {reply.Elapsed}");
    }

    [Fact]
    public async Task Should_wait_for_a_short_retry_after_before_retrying_the_same_model()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoProviders());
        var calls = 0;
        gw.Fake.Script = _ => Interlocked.Increment(ref calls) == 1 ? FakeResponse.Overloaded() with { RetryAfter = "1" } : null;

        var reply = await gw.ChatAsync("fova/a1");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(2, reply.Attempts);
        var requests = gw.Fake.Requests;
        Assert.Equal(2, requests.Count);
        // The jittered backoff (10-50 ms here) is floored by the provider's Retry-After.
        Assert.True(requests[1].ReceivedAt - requests[0].ReceivedAt >= TimeSpan.FromMilliseconds(900),
            $"retried after {requests[1].ReceivedAt - requests[0].ReceivedAt}");
    }

    [Fact]
    public async Task Should_answer_400_for_a_context_overflow_without_falling_back()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoProviders());
        gw.Fake.Script = r => r.Model == "a1"
            ? FakeResponse.Error(400, "This model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens.",
                "invalid_request_error", "context_length_exceeded")
            : null;

        var reply = await gw.ChatAsync("fova/a1", fallbacks: ["fovb/b1"]);

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.StartsWith("Context overflow: prompt too large for the model.", reply.ErrorMessage);
        Assert.Equal("invalid_request_error", reply.Error.GetProperty("type").GetString());
        Assert.Equal("context_length_exceeded", reply.Error.GetProperty("code").GetString()); // the provider's own code
        Assert.Equal("context_overflow", reply.Response.Headers.GetValues("x-durar-failure-reason").Single());
        Assert.Equal(["a1"], Models(gw));
    }

    [Fact]
    public async Task Should_list_every_attempt_when_all_models_fail()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoProviders());
        gw.Fake.Script = r => r.Model == "a1"
            ? FakeResponse.Error(402, "insufficient credits")
            : FakeResponse.Error(401, "invalid x-api-key", "authentication_error");

        var reply = await gw.ChatAsync("fova/a1", fallbacks: ["fovb/b1"]);

        Assert.Equal(HttpStatusCode.BadGateway, reply.Status);
        Assert.Equal("All models failed (2): fova/a1: insufficient credits (billing) | fovb/b1: invalid x-api-key (auth)", reply.ErrorMessage);
        Assert.Equal(["a1", "b1"], Models(gw));
    }

    [Fact]
    public async Task Should_use_the_configured_fallbacks_for_the_default_model()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoProviders("""
            agents { defaults { model { primary = "fova/a1", fallbacks = ["fovb/b1"] } } }
            """));
        gw.Fake.Script = r => r.Model == "a1" ? FakeResponse.Error(402, "insufficient credits") : null;

        var reply = await gw.ChatAsync("durar", stream: true);

        AssertCleanStream(reply);
        Assert.Equal("fovb/b1", reply.Model);
        Assert.Equal(["a1", "b1"], Models(gw));
    }
}
