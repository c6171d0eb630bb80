using System.Net;
using Durar.Testing;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Resilience;

/// <summary>
/// Key rotation and per-key cooldowns through the real gateway: a provider with several keys (from the config's
/// <c>env { }</c> block, never the process environment, since specs run in parallel) in front of the fake provider.
/// </summary>
public sealed class KeyRotationSpecs
{
    private const string KeyA = "sk-rot-key-aaaa";
    private const string KeyB = "sk-rot-key-bbbb";

    /// <summary>Provider <paramref name="id"/> with model m1 and the keys A then B (in that order).</summary>
    private static string TwoKeys(string id) =>
        Provider(id, "m1") + $$"""env { {{id.ToUpperInvariant()}}_API_KEYS = "{{KeyA}},{{KeyB}}" }""" + "\n" + FastFailover;

    [Fact]
    public async Task Should_rotate_to_the_next_key_at_once_when_the_first_key_is_rate_limited()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoKeys("rot1"));
        gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited() : null;
        var before = DateTimeOffset.UtcNow;

        var reply = await gw.ChatAsync("rot1/m1");

        Assert.True(reply.Status == HttpStatusCode.OK, $"{(int)reply.Status}: {reply.Body}");
        Assert.Equal(2, reply.Attempts);
        Assert.Equal("rot1/m1", reply.Model);
        Assert.StartsWith("Hello from fake: ", reply.Content);
        Assert.Equal([KeyA, KeyB], gw.Fake.Requests.Select(r => r.ApiKey));

        // Key A cools down for the first step of the schedule (30 s), scoped to the model it was rate-limited on.
        var a = await gw.WaitForKeyStateAsync("rot1", KeyA, "cooling");
        Assert.Equal("rate_limit", a.GetProperty("reason").GetString());
        var until = a.Until();
        Assert.NotNull(until);
        Assert.InRange(until!.Value, before + TimeSpan.FromSeconds(25), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(35));
        Assert.Equal(1, a.GetProperty("errorCount").GetInt32());
        Assert.Equal("ready", (await gw.KeyAsync("rot1", KeyB)).GetProperty("state").GetString());

        // Key A was used least recently, so round-robin alone would pick it: only the cooldown sends this one to B.
        var second = await gw.ChatAsync("rot1/m1");
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(1, second.Attempts);
        Assert.Equal([KeyA, KeyB, KeyB], gw.Fake.Requests.Select(r => r.ApiKey));
    }

    [Fact]
    public async Task Should_answer_429_with_retry_after_when_every_key_is_rate_limited()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoKeys("rot2"));
        gw.Fake.Script = _ => FakeResponse.RateLimited("7");

        var reply = await gw.ChatAsync("rot2/m1");

        Assert.Equal(HttpStatusCode.TooManyRequests, reply.Status);
        Assert.Equal("rate_limit_error", reply.Error.GetProperty("type").GetString());
        var retryAfter = reply.Response.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(7));
        Assert.Equal([KeyA, KeyB], gw.Fake.Requests.Select(r => r.ApiKey));
        await gw.WaitForKeyStateAsync("rot2", KeyA, "cooling");
        await gw.WaitForKeyStateAsync("rot2", KeyB, "cooling");

        // While every key cools, the gateway answers by itself. The reference allows one throttled probe of the requested
        // primary per provider and probe interval (30 s) once its cooldown is within the probe margin (2 min): at most one call.
        var probed = await gw.ChatAsync("rot2/m1");
        Assert.Equal(HttpStatusCode.TooManyRequests, probed.Status);
        Assert.InRange(gw.Fake.RequestCount, 2, 3);
        Assert.NotNull(probed.Response.Headers.RetryAfter);

        var count = gw.Fake.RequestCount;
        var cooling = await gw.ChatAsync("rot2/m1");
        Assert.Equal(HttpStatusCode.TooManyRequests, cooling.Status);
        Assert.Equal("rate_limit_error", cooling.Error.GetProperty("type").GetString());
        Assert.NotNull(cooling.Response.Headers.RetryAfter?.Delta);
        Assert.InRange(cooling.Response.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Equal(count, gw.Fake.RequestCount);
        Assert.True(cooling.Elapsed < TimeSpan.FromSeconds(2), $"a cooling answer took {cooling.Elapsed}");
    }

    [Fact]
    public async Task Should_clear_a_cooldown_through_the_admin_reset()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoKeys("rot3"));
        gw.Fake.Script = _ => FakeResponse.RateLimited("7");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await gw.ChatAsync("rot3/m1")).Status);
        var a = await gw.WaitForKeyStateAsync("rot3", KeyA, "cooling");
        await gw.WaitForKeyStateAsync("rot3", KeyB, "cooling");
        var id = a.GetProperty("id").GetString()!;
        Assert.Matches("^rot3:key-[0-9a-f]{8}$", id);

        var reset = await gw.ResetKeyAsync(id);

        Assert.Equal(HttpStatusCode.OK, reset.Status);
        Assert.Contains("\"ready\"", reset.Body);
        var cleared = await gw.KeyAsync("rot3", KeyA);
        Assert.Equal("ready", cleared.GetProperty("state").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, cleared.GetProperty("until").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, cleared.GetProperty("reason").ValueKind);
        Assert.Equal(0, cleared.GetProperty("errorCount").GetInt32());
        Assert.Equal("cooling", (await gw.KeyAsync("rot3", KeyB)).GetProperty("state").GetString());

        gw.Fake.Script = null;
        var count = gw.Fake.RequestCount;
        var reply = await gw.ChatAsync("rot3/m1");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(count + 1, gw.Fake.RequestCount);
        Assert.Equal(KeyA, gw.Fake.Requests[^1].ApiKey);
    }

    [Theory]
    [InlineData("rot3:key-00000000")]
    [InlineData("nosuchprovider:key-00000000")]
    [InlineData("not-a-key-id")]
    public async Task Should_answer_404_with_the_error_shape_when_resetting_an_unknown_key(string id)
    {
        await using var gw = await GatewayHarness.StartAsync(TwoKeys("rot3"));

        var reply = await gw.ResetKeyAsync(id);

        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.Equal("key_not_found", reply.Error.GetProperty("code").GetString());
        Assert.Equal("not_found_error", reply.Error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Should_stream_from_the_next_key_when_the_first_is_rate_limited_before_any_token()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoKeys("rot4"));
        gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited("3") : new FakeResponse { Text = "one two three" };

        var reply = await gw.ChatAsync("rot4/m1", stream: true);

        AssertCleanStream(reply);
        Assert.Equal("one two three", reply.Content);
        Assert.Equal(2, reply.Attempts);
        Assert.Equal("rot4/m1", reply.Model);
        Assert.Equal([KeyA, KeyB], gw.Fake.Requests.Select(r => r.ApiKey));
        Assert.All(gw.Fake.Requests, r => Assert.True(r.Stream));
    }

    [Fact]
    public async Task Should_only_use_the_keys_listed_in_auth_order()
    {
        await using var gw = await GatewayHarness.StartAsync(Provider("rot9", "m1") + """
            env { ROT9_API_KEY_1 = "sk-rot9-k111", ROT9_API_KEY_2 = "sk-rot9-k222" }
            auth { order { rot9 = ["ROT9_API_KEY_2"] } }
            """ + FastFailover);

        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("rot9/m1")).Status);
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("rot9/m1", stream: true)).Status);

        // Even with the listed key rate-limited, a key outside the order is never tried.
        gw.Fake.Script = _ => FakeResponse.RateLimited("5");
        var limited = await gw.ChatAsync("rot9/m1");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.Status);

        Assert.Equal(5, gw.Fake.RequestCount);
        Assert.All(gw.Fake.Requests, r => Assert.Equal("sk-rot9-k222", r.ApiKey));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Should_cool_a_key_pre_emptively_when_its_rate_limit_headers_say_nothing_is_left(bool stream)
    {
        var provider = stream ? "rot5" : "rot6";
        await using var gw = await GatewayHarness.StartAsync(TwoKeys(provider));
        gw.Fake.Script = r => r.ApiKey == KeyA
            ? new FakeResponse
            {
                Headers = new Dictionary<string, string>
                {
                    ["x-ratelimit-remaining-requests"] = "0",
                    ["x-ratelimit-reset-requests"] = "20s",
                },
            }
            : null;
        var before = DateTimeOffset.UtcNow;

        var first = await gw.ChatAsync($"{provider}/m1", stream: stream);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal([KeyA], gw.Fake.Requests.Select(r => r.ApiKey));

        var a = await gw.WaitForKeyStateAsync(provider, KeyA, "cooling");
        Assert.Equal("rate_limit", a.GetProperty("reason").GetString());
        Assert.InRange(a.Until()!.Value, before + TimeSpan.FromSeconds(15), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(25));

        // Round-robin would give the second request to B anyway; the third would go back to A if it were not cooling.
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync($"{provider}/m1", stream: stream)).Status);
        Assert.Equal([KeyA, KeyB, KeyB], gw.Fake.Requests.Select(r => r.ApiKey));
    }

    [Fact]
    public async Task Should_restart_the_cooldown_schedule_after_a_success()
    {
        // First step short enough to expire inside the test; a second step that is easy to tell apart.
        await using var gw = await GatewayHarness.StartAsync(Provider("rot7", "m1", apiKey: KeyA) + """
            auth { cooldowns { schedule = [500ms, 60s, 5m] } }
            """ + FastFailover);
        gw.Fake.Script = _ => FakeResponse.RateLimited();
        Assert.Equal(HttpStatusCode.TooManyRequests, (await gw.ChatAsync("rot7/m1")).Status);
        await gw.WaitForKeyStateAsync("rot7", KeyA, "cooling");
        var expired = await gw.WaitForKeyStateAsync("rot7", KeyA, "ready", TimeSpan.FromSeconds(5));
        Assert.True(expired.GetProperty("errorCount").GetInt32() > 0, $"an expired cooldown keeps its error count: {expired.GetRawText()}");

        gw.Fake.Script = null;
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("rot7/m1")).Status);
        // The outcome reaches the key actor by Tell: the next 429 must come after the success is applied.
        var afterSuccess = await gw.WaitForKeyAsync("rot7", KeyA, k => k.GetProperty("errorCount").GetInt32() == 0, "with the errors cleared by the success");

        gw.Fake.Script = _ => FakeResponse.RateLimited();
        var before = DateTimeOffset.UtcNow;
        Assert.Equal(HttpStatusCode.TooManyRequests, (await gw.ChatAsync("rot7/m1")).Status);
        var again = await gw.WaitForKeyStateAsync("rot7", KeyA, "cooling");

        // The first failure after a success is the schedule's first step again (500 ms), not its second (60 s), because a
        // success clears errorCount and failureCounts (reference item 53; issue: "success clears everything").
        Assert.True(again.Until() < before + TimeSpan.FromSeconds(10), $"second cooldown: {again.GetRawText()}");
        Assert.True(afterSuccess.GetProperty("failureCounts").EnumerateObject().All(c => c.Value.GetInt32() == 0),
            $"after a success: {afterSuccess.GetRawText()}");
    }

    [Fact]
    public async Task Should_not_cool_a_key_for_one_transient_error_after_successes()
    {
        // transientThreshold = 3 (default): a key cools from its 3rd consecutive transient failure on, not from scattered ones.
        await using var gw = await GatewayHarness.StartAsync(Provider("rot8", "m1", apiKey: KeyA) + Provider("rot8b", "m2", apiKey: KeyB) + """
            gateway { failover { transientRetriesBeforeFallback = 0 } }
            """ + FastFailover);
        var calls = 0;
        gw.Fake.Script = _ => Interlocked.Increment(ref calls) is 1 or 2 ? FakeResponse.Overloaded() : null;
        var recovered = await gw.ChatAsync("rot8/m1");
        Assert.Equal(HttpStatusCode.OK, recovered.Status);
        Assert.Equal(3, recovered.Attempts);
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("rot8/m1")).Status);

        // One 503 on m1 (no same-model retry configured), answered by the fallback.
        var failuresBefore = (await gw.KeyAsync("rot8", KeyA)).GetProperty("failures").GetInt64();
        gw.Fake.Script = r => r.Model == "m1" ? FakeResponse.Overloaded() : null;
        var fellBack = await gw.ChatAsync("rot8/m1", fallbacks: ["rot8b/m2"]);
        Assert.Equal(HttpStatusCode.OK, fellBack.Status);
        Assert.Equal("rot8b/m2", fellBack.Model);

        // The outcome reaches the key actor by Tell: once it has counted the failure, the key must still be ready.
        var key = await gw.WaitForKeyAsync("rot8", KeyA, k => k.GetProperty("failures").GetInt64() > failuresBefore, "with the 503 counted");
        Assert.True(key.GetProperty("state").GetString() == "ready", $"one 503 after successes cooled the key: {key.GetRawText()}");
    }
}
