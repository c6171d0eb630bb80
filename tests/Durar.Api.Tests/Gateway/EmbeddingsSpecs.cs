using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text.Json;
using Durar.Api.Tests.Resilience;
using Durar.Testing;
using OpenAI;
using OpenAI.Embeddings;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Gateway;

/// <summary>
/// <c>POST /v1/embeddings</c> in OpenAI's shape, through the official OpenAI .NET SDK and raw HTTP: inputs and options go
/// upstream as the client wrote them (only <c>model</c> rewritten), the upstream's answer comes back with only <c>model</c>
/// renamed, in the encoding the client asked for, and every bad field is a 400 naming it.
/// </summary>
public sealed class EmbeddingsSpecs
{
    internal const string Config = """
        models { providers {
          emb { baseUrl = "{fake-openai}", api = "openai-completions", apiKey = "sk-emb-1111",
                models = [{ id = "embed-fake", kind = "embedding" }, { id = "chat-fake", kind = "chat" }] }
          loose { baseUrl = "{fake-openai}", api = "openai-completions", apiKey = "sk-loose-2222", models = [{ id = "anything" }] }
          fakeant { baseUrl = "{fake-anthropic}", api = "anthropic-messages", apiKey = "sk-ant-3333", models = [{ id = "claude-fake" }] }
        } }
        agents { defaults { model { primary = "emb/chat-fake" } } }
        """;

    internal static EmbeddingClient Sdk(GatewayHarness gw, string model) =>
        new(model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(gw.BaseUri, "v1/") });

    internal static Task<GatewayReply> EmbedAsync(GatewayHarness gw, string json) => gw.SendAsync(gw.Post("v1/embeddings", json));

    [Fact]
    public async Task Should_embed_through_the_official_sdk_in_base64_with_dimensions_forwarded()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);

        var result = await Sdk(gw, "emb/embed-fake").GenerateEmbeddingsAsync(["first text here", "second"], new EmbeddingGenerationOptions { Dimensions = 5 });

        var embeddings = result.Value;
        Assert.Equal(2, embeddings.Count);
        Assert.Equal(FakeEmbeddings.Vector("first text here", 5), embeddings[0].ToFloats().ToArray());
        Assert.Equal(FakeEmbeddings.Vector("second", 5), embeddings[1].ToFloats().ToArray());
        Assert.Equal([0, 1], embeddings.Select(e => e.Index));
        Assert.Equal("emb/embed-fake", embeddings.Model);
        Assert.Equal(4, embeddings.Usage.InputTokenCount);
        Assert.Equal(4, embeddings.Usage.TotalTokenCount);
        var response = result.GetRawResponse();
        Assert.Equal("emb/embed-fake", response.Headers.TryGetValue("x-durar-model", out var model) ? model : null);
        Assert.Equal("1", response.Headers.TryGetValue("x-durar-attempts", out var attempts) ? attempts : null);
        // The SDK asks for base64 and gets it: the little-endian float32 bytes, as OpenAI writes them.
        using (var body = JsonDocument.Parse(response.Content))
            Assert.Equal(JsonValueKind.String, body.RootElement.GetProperty("data")[0].GetProperty("embedding").ValueKind);

        var sent = Assert.Single(gw.Fake.Requests);
        Assert.Equal("/v1/embeddings", sent.Path);
        Assert.Equal("sk-emb-1111", sent.ApiKey);
        var upstream = sent.Json.RootElement;
        Assert.Equal("embed-fake", upstream.GetProperty("model").GetString());
        Assert.Equal(5, upstream.GetProperty("dimensions").GetInt32());
        Assert.Equal("base64", upstream.GetProperty("encoding_format").GetString());
        Assert.Equal(["first text here", "second"], upstream.GetProperty("input").EnumerateArray().Select(i => i.GetString()));
    }

    [Fact]
    public async Task Should_answer_float_arrays_when_the_client_asks_for_floats()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var client = Sdk(gw, "emb/embed-fake");

        // The SDK's convenience methods always ask for base64; its protocol method sends the body as written.
        var result = await client.GenerateEmbeddingsAsync(
            BinaryContent.Create(BinaryData.FromString("""{"model":"emb/embed-fake","input":"one input","encoding_format":"float"}""")));

        var raw = result.GetRawResponse().Content;
        using (var body = JsonDocument.Parse(raw))
        {
            var root = body.RootElement;
            Assert.Equal("list", root.GetProperty("object").GetString());
            var item = Assert.Single(root.GetProperty("data").EnumerateArray());
            Assert.Equal("embedding", item.GetProperty("object").GetString());
            Assert.Equal(0, item.GetProperty("index").GetInt32());
            Assert.Equal(JsonValueKind.Array, item.GetProperty("embedding").ValueKind);
            Assert.Equal("emb/embed-fake", root.GetProperty("model").GetString());
            Assert.Equal(2, root.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        }
        var parsed = ModelReaderWriter.Read<OpenAIEmbeddingCollection>(raw)!;
        Assert.Equal(FakeEmbeddings.Vector("one input", FakeEmbeddings.DefaultDimensions), parsed[0].ToFloats().ToArray());
        Assert.Equal("float", Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("encoding_format").GetString());
    }

    [Fact]
    public async Task Should_give_the_client_its_encoding_when_the_upstream_ignores_encoding_format()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);

        // Asked for base64 (the SDK), answered floats: converted to the little-endian float32 bytes.
        gw.Fake.Default = new FakeResponse { EmbeddingEncoding = "float" };
        var result = await Sdk(gw, "emb/embed-fake").GenerateEmbeddingsAsync(["a b", "c"]);
        Assert.Equal(FakeEmbeddings.Vector("c", FakeEmbeddings.DefaultDimensions), result.Value[1].ToFloats().ToArray());
        using (var body = JsonDocument.Parse(result.GetRawResponse().Content))
            Assert.All(body.RootElement.GetProperty("data").EnumerateArray(), i => Assert.Equal(JsonValueKind.String, i.GetProperty("embedding").ValueKind));

        // Asked for floats (the default), answered base64: converted to numbers.
        gw.Fake.Default = new FakeResponse { EmbeddingEncoding = "base64" };
        var reply = await EmbedAsync(gw, """{"model":"emb/embed-fake","input":["x y z"]}""");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        using var floats = JsonDocument.Parse(reply.Body);
        var vector = floats.RootElement.GetProperty("data")[0].GetProperty("embedding");
        Assert.Equal(JsonValueKind.Array, vector.ValueKind);
        Assert.Equal(FakeEmbeddings.Vector("x y z", FakeEmbeddings.DefaultDimensions), vector.EnumerateArray().Select(v => v.GetSingle()));
    }

    [Fact]
    public async Task Should_send_upstream_the_client_body_field_for_field_except_model()
    {
        await using var gw = await GatewayHarness.StartAsync(Config + """
            models { providers { emb2 { baseUrl = "{fake-openai}", api = "openai-completions", apiKey = "sk-emb2-4444", models = [{ id = "b", kind = "embedding" }] } } }
            """);
        const string rest = """
            "input":["alpha beta","gamma"],"encoding_format":"float","dimensions":3,"user":"user-42","input_type":"query","extra":{"nested":{"n":1.50,"list":[1,2e3]}}
            """;

        var reply = await EmbedAsync(gw, """{"model":"emb/embed-fake",""" + rest + ""","fallbacks":["emb2/b"]}""");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        // Field for field, in the client's order and number formatting; the gateway's own fallbacks are consumed.
        Assert.Equal("""{"model":"embed-fake",""" + rest + "}", Assert.Single(gw.Fake.Requests).Body);
    }

    [Fact]
    public async Task Should_pass_the_upstream_answer_back_with_only_the_model_renamed()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        const string head = """{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25,1e-7],"extra_item":"x"}],""";
        const string tail = ""","usage":{"prompt_tokens":3,"total_tokens":3},"id":"emb-123","system_fingerprint":"fp_9"}""";
        gw.Fake.Default = new FakeResponse
        {
            RawBody = head + "\"model\":\"upstream-model-v2\"" + tail,
            Headers = new Dictionary<string, string> { ["x-request-id"] = "req_abc" },
        };

        var reply = await EmbedAsync(gw, """{"model":"emb/embed-fake","input":"hello"}""");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(head + "\"model\":\"emb/embed-fake\"" + tail, reply.Body);
        Assert.Equal("req_abc", reply.Header("x-request-id"));
        Assert.Equal("emb/embed-fake", reply.Model);
    }

    [Fact]
    public async Task Should_accept_token_arrays_as_openai_does()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);

        var one = await EmbedAsync(gw, """{"model":"emb/embed-fake","input":[15339,1917]}""");
        var many = await EmbedAsync(gw, """{"model":"emb/embed-fake","input":[[15339],[1917,0]],"encoding_format":"base64"}""");

        Assert.Equal(HttpStatusCode.OK, one.Status);
        Assert.Equal(HttpStatusCode.OK, many.Status);
        using var a = JsonDocument.Parse(one.Body);
        Assert.Equal(FakeEmbeddings.Vector("tokens:15339,1917", FakeEmbeddings.DefaultDimensions),
            a.RootElement.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()));
        using var b = JsonDocument.Parse(many.Body);
        Assert.Equal(2, b.RootElement.GetProperty("data").GetArrayLength());
        Assert.Equal(["[15339,1917]", "[[15339],[1917,0]]"], gw.Fake.Requests.Select(r => r.Json.RootElement.GetProperty("input").GetRawText()));
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { """{"input":"x"}""", "model" },
        { """{"model":"emb/embed-fake"}""", "input" },
        { """{"model":"emb/embed-fake","input":""}""", "input" },
        { """{"model":"emb/embed-fake","input":[]}""", "input" },
        { """{"model":"emb/embed-fake","input":{"text":"x"}}""", "input" },
        { """{"model":"emb/embed-fake","input":["a",""]}""", "input[1]" },
        { """{"model":"emb/embed-fake","input":["a",1]}""", "input[1]" },
        { """{"model":"emb/embed-fake","input":[1,"a"]}""", "input[1]" },
        { """{"model":"emb/embed-fake","input":[1,-2]}""", "input[1]" },
        { """{"model":"emb/embed-fake","input":[[1],[]]}""", "input[1]" },
        { """{"model":"emb/embed-fake","input":[[1],[2.5]]}""", "input[1][0]" },
        { """{"model":"emb/embed-fake","input":[true]}""", "input[0]" },
        { """{"model":"emb/embed-fake","input":"x","encoding_format":"int8"}""", "encoding_format" },
        { """{"model":"emb/embed-fake","input":"x","dimensions":0}""", "dimensions" },
        { """{"model":"emb/embed-fake","input":"x","dimensions":"4"}""", "dimensions" },
        { """{"model":"emb/embed-fake","input":"x","user":5}""", "user" },
        { """{"model":"emb/embed-fake","input":"x","fallbacks":"emb/embed-fake"}""", "fallbacks" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Should_refuse_a_bad_field_with_a_400_naming_it(string body, string param)
    {
        await using var gw = await GatewayHarness.StartAsync(Config);

        var reply = await EmbedAsync(gw, body);

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("invalid_request_error", reply.Error.GetProperty("type").GetString());
        Assert.Equal(param, reply.Error.GetProperty("param").GetString());
        Assert.Equal(0, gw.Fake.RequestCount);
    }
}
