using System.Net;
using System.Text.Json;
using Durar.Testing;
using OpenAI.Embeddings;
using static Durar.Api.Tests.Gateway.EmbeddingsSpecs;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Gateway;

/// <summary>
/// Which models embed: embedding models only (a chat model, or a wire without embeddings, is a 400 naming it), unmarked
/// custom models either way, echo's deterministic fake, Gemini through its OpenAI-compatible endpoint, and the list in
/// <c>/v1/models</c>.
/// </summary>
public sealed class EmbeddingModelKindSpecs
{
    [Fact]
    public async Task Should_refuse_embeddings_on_a_chat_model_and_chat_on_an_embedding_model()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);

        var onChatModel = await EmbedAsync(gw, """{"model":"emb/chat-fake","input":"x"}""");
        var onCatalogChatModel = await EmbedAsync(gw, """{"model":"openai/gpt-5.4","input":"x"}""");
        var onDefault = await EmbedAsync(gw, """{"model":"durar","input":"x"}""");
        var chatOnEmbedding = await gw.ChatAsync("emb/embed-fake");
        var chatOnCatalogEmbedding = await gw.ChatAsync("openai/text-embedding-3-small");
        var chatFallback = await EmbedAsync(gw, """{"model":"emb/embed-fake","input":"x","fallbacks":["emb/chat-fake"]}""");

        foreach (var (reply, param, words) in new[]
                 {
                     (onChatModel, "model", "`emb/chat-fake` is a chat model"),
                     (onCatalogChatModel, "model", "`openai/gpt-5.4` is a chat model"),
                     (onDefault, "model", "`durar` is emb/chat-fake"),
                     (chatOnEmbedding, "model", "`emb/embed-fake` is an embedding model"),
                     (chatOnCatalogEmbedding, "model", "`openai/text-embedding-3-small` is an embedding model"),
                     (chatFallback, "fallbacks", "fallbacks[0]: `emb/chat-fake` is a chat model"),
                 })
        {
            Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
            Assert.Equal(param, reply.Error.GetProperty("param").GetString());
            Assert.Contains(words, reply.ErrorMessage, StringComparison.Ordinal);
        }
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_refuse_embeddings_on_a_wire_that_has_none_naming_the_model()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);

        var reply = await EmbedAsync(gw, """{"model":"fakeant/claude-fake","input":"x"}""");

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("model", reply.Error.GetProperty("param").GetString());
        Assert.Equal("unsupported_model", reply.Error.GetProperty("code").GetString());
        Assert.Contains("`fakeant/claude-fake` cannot embed", reply.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("anthropic-messages", reply.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_let_an_unmarked_custom_model_serve_both_endpoints()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);

        var embedded = await EmbedAsync(gw, """{"model":"loose/anything","input":"x"}""");
        var chatted = await gw.ChatAsync("loose/anything");
        var unlisted = await EmbedAsync(gw, """{"model":"loose/not-listed-anywhere","input":"x"}""");

        Assert.Equal(HttpStatusCode.OK, embedded.Status);
        Assert.Equal(HttpStatusCode.OK, chatted.Status);
        Assert.Equal(HttpStatusCode.OK, unlisted.Status);
        Assert.Equal(["openai-embeddings", "openai", "openai-embeddings"], gw.Fake.Requests.Select(r => r.Wire));
    }

    [Fact]
    public async Task Should_give_echo_a_deterministic_unit_length_embedding()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);

        var first = await EmbedAsync(gw, """{"model":"echo/echo-embedding","input":["the quick fox","the quick fox","a slow turtle"]}""");
        var again = await EmbedAsync(gw, """{"model":"echo/echo-embedding","input":"the quick fox","dimensions":16,"encoding_format":"base64"}""");

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal("echo/echo-embedding", first.Model);
        using var doc = JsonDocument.Parse(first.Body);
        var data = doc.RootElement.GetProperty("data");
        var vectors = data.EnumerateArray().Select(d => d.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToList();
        Assert.Equal(64, vectors[0].Length);
        Assert.Equal(vectors[0], vectors[1]);
        Assert.NotEqual(vectors[0], vectors[2]);
        Assert.InRange(Math.Sqrt(vectors[0].Sum(v => (double)v * v)), 0.999, 1.001);
        Assert.Equal([0, 1, 2], data.EnumerateArray().Select(d => d.GetProperty("index").GetInt32()));
        Assert.Equal(9, doc.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32()); // one per word
        using var b64 = JsonDocument.Parse(again.Body);
        Assert.Equal(16 * sizeof(float), b64.RootElement.GetProperty("data")[0].GetProperty("embedding").GetBytesFromBase64().Length);
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_reach_gemini_through_its_openai_compatible_endpoint()
    {
        var fake = await FakeProvider.StartAsync();
        // The native base (the google provider speaks google-generative-ai); embeddings go to {base}/openai/embeddings.
        var gemini = new Uri(fake.BaseUri, "v1beta").ToString();
        await using var gw = await GatewayHarness.StartAsync($$"""
            models { providers { google { baseUrl = "{{gemini}}", apiKey = "gm-key-5678" } } }
            """, fake);

        var result = await Sdk(gw, "google/gemini-embedding-001").GenerateEmbeddingAsync("what is durar", new EmbeddingGenerationOptions { Dimensions = 768 });

        Assert.Equal(FakeEmbeddings.Vector("what is durar", 768), result.Value.ToFloats().ToArray());
        var sent = Assert.Single(fake.Requests);
        Assert.Equal("/v1beta/openai/embeddings", sent.Path);
        Assert.Equal("gm-key-5678", sent.ApiKey);
        Assert.Equal("gemini-embedding-001", sent.Model);
        Assert.Equal(768, sent.Json.RootElement.GetProperty("dimensions").GetInt32());
    }

    [Fact]
    public async Task Should_list_the_embedding_models_in_v1_models()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);

        using var doc = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/models"));

        var ids = doc.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?>
        {
            "openai/text-embedding-3-small", "openai/text-embedding-3-large", "google/gemini-embedding-001", "mistral/mistral-embed",
            "echo/echo-embedding", "emb/embed-fake",
        }, ids);
    }
}
