using System.ClientModel;
using System.Net;
using Durar.Testing;
using OpenAI;
using OpenAI.Embeddings;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Resilience;

/// <summary>
/// Embeddings run the same run as chat: a rate-limited key rotates to the next one at once and cools down, a failing model
/// falls back to the request's <c>fallbacks</c>, and exhaustion answers like chat does.
/// </summary>
public sealed class EmbeddingsFailoverSpecs
{
    private const string KeyA = "sk-embrot-aaaa";
    private const string KeyB = "sk-embrot-bbbb";

    private static string Config(string id) => $$"""
        models { providers {
          {{id}} { baseUrl = "{fake-openai}", api = "openai-completions", models = [{ id = "e1", kind = "embedding" }] }
          {{id}}b { baseUrl = "{fake-openai}", api = "openai-completions", apiKey = "sk-embfb-cccc", models = [{ id = "e2", kind = "embedding" }] }
        } }
        env { {{id.ToUpperInvariant()}}_API_KEYS = "{{KeyA}},{{KeyB}}" }
        """ + "\n" + FastFailover;

    private static EmbeddingClient Sdk(GatewayHarness gw, string model) =>
        new(model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(gw.BaseUri, "v1/") });

    [Fact]
    public async Task Should_rotate_to_the_next_key_when_the_first_is_rate_limited()
    {
        await using var gw = await GatewayHarness.StartAsync(Config("embrot"));
        gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited("20") : null;

        var result = await Sdk(gw, "embrot/e1").GenerateEmbeddingsAsync(["rotate me"]);

        Assert.Equal(FakeEmbeddings.Vector("rotate me", FakeEmbeddings.DefaultDimensions), result.Value[0].ToFloats().ToArray());
        Assert.True(result.GetRawResponse().Headers.TryGetValue("x-durar-attempts", out var attempts));
        Assert.Equal("2", attempts);
        Assert.Equal([KeyA, KeyB], gw.Fake.Requests.Select(r => r.ApiKey));
        Assert.All(gw.Fake.Requests, r => Assert.Equal("e1", r.Model));
        var a = await gw.WaitForKeyStateAsync("embrot", KeyA, "cooling");
        Assert.Equal("rate_limit", a.GetProperty("reason").GetString());
        Assert.Equal("ready", (await gw.KeyAsync("embrot", KeyB)).GetProperty("state").GetString());

        // The cooling key is skipped by the next request: it goes straight to B.
        var second = await gw.SendAsync(gw.Post("v1/embeddings", """{"model":"embrot/e1","input":"again"}"""));
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(1, second.Attempts);
        Assert.Equal([KeyA, KeyB, KeyB], gw.Fake.Requests.Select(r => r.ApiKey));
    }

    [Fact]
    public async Task Should_fall_back_to_the_next_model_in_the_body_fallbacks()
    {
        await using var gw = await GatewayHarness.StartAsync(Config("embfb"));
        gw.Fake.Script = r => r.Model == "e1" ? FakeResponse.Error(402, "insufficient credits") : null;

        var reply = await gw.SendAsync(gw.Post("v1/embeddings", """{"model":"embfb/e1","input":"fall back","fallbacks":["embfbb/e2"]}"""));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("embfbb/e2", reply.Model);
        Assert.Equal(2, reply.Attempts); // billing is the account's, not the key's: no rotation, the next candidate at once
        Assert.Contains("\"model\":\"embfbb/e2\"", reply.Body, StringComparison.Ordinal);
        Assert.Equal(["e1", "e2"], gw.Fake.Requests.Select(r => r.Model));
        Assert.Equal("sk-embfb-cccc", gw.Fake.Requests[^1].ApiKey);
    }

    [Fact]
    public async Task Should_answer_429_with_retry_after_when_every_key_is_rate_limited()
    {
        await using var gw = await GatewayHarness.StartAsync(Config("emb429"));
        gw.Fake.Script = _ => FakeResponse.RateLimited("7");

        var reply = await gw.SendAsync(gw.Post("v1/embeddings", """{"model":"emb429/e1","input":"x"}"""));

        Assert.Equal(HttpStatusCode.TooManyRequests, reply.Status);
        Assert.Equal("rate_limit_error", reply.Error.GetProperty("type").GetString());
        Assert.NotNull(reply.Response.Headers.RetryAfter?.Delta);
        Assert.Equal(2, reply.Attempts);
        Assert.Equal([KeyA, KeyB], gw.Fake.Requests.Select(r => r.ApiKey));
        // The gateway's classification beside the error, as a failed chat run names it.
        Assert.Equal(["rate_limit"], reply.Response.Headers.GetValues("x-durar-failure-reason"));
    }
}
