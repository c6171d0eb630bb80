using System.Buffers;
using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Embeddings;
using Durar.Actors.Models;
using Durar.Actors.Transports;
using Durar.Actors.Transports.OpenAi;

namespace Durar.Actors.Tests.Transports.OpenAi;

/// <summary>OpenAI's embeddings body: the client's own forwarded field for field, or written from the typed request; and the answer read.</summary>
public sealed class OpenAiEmbeddingsSpecs
{
    private static ResolvedModel Target(string hocon = "")
    {
        var settings = DurarSettingsLoader.Load(DurarSettingsLoader.FromText("""
            models { providers { mine { baseUrl = "http://127.0.0.1:9/v1", models = [{ id = "upstream-e", kind = "embedding" }] } } }
            """ + "\n" + hocon));
        return new ModelResolver(new ProviderCatalog(settings), settings.Agents).Resolve("mine/upstream-e").Model!;
    }

    private static string Body(EmbeddingRequest request, ResolvedModel? target = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
            OpenAiEmbeddings.Write(w, new EmbeddingCall(target ?? Target(), "k", request, TimeSpan.FromSeconds(1)));
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Fact]
    public void Should_forward_the_client_body_with_only_the_model_rewritten_and_the_gateway_fields_consumed()
    {
        using var doc = JsonDocument.Parse("""
            {"input":"x","model":"mine/upstream-e","models":["a/b"],"encoding_format":"base64","future_field":{"deep":[1.0,2]},"fallbacks":["a/b"]}
            """);

        var body = Body(new EmbeddingRequest { Texts = ["x"], Original = doc.RootElement });

        Assert.Equal("""{"input":"x","model":"upstream-e","encoding_format":"base64","future_field":{"deep":[1.0,2]}}""", body);
    }

    [Fact]
    public void Should_write_a_typed_request_with_its_extra_fields()
    {
        var extra = JsonDocument.Parse("\"query\"").RootElement;

        var texts = Body(new EmbeddingRequest { Texts = ["a", "b"], Dimensions = 8, User = "u1", Extra = new Dictionary<string, JsonElement> { ["input_type"] = extra }.ToImmutableDictionary() });
        var tokens = Body(new EmbeddingRequest { Tokens = [[1, 2], [3]], Encoding = EmbeddingEncoding.Base64 });

        Assert.Equal("""{"model":"upstream-e","input":["a","b"],"encoding_format":"float","dimensions":8,"user":"u1","input_type":"query"}""", texts);
        Assert.Equal("""{"model":"upstream-e","input":[[1,2],[3]],"encoding_format":"base64"}""", tokens);
    }

    [Fact]
    public void Should_merge_the_model_params_extra_body_last()
    {
        var target = Target("""agents { defaults { models { "mine/upstream-e" { params { extra_body { dimensions = 256, truncate = "END" } } } } } }""");
        using var doc = JsonDocument.Parse("""{"model":"mine/upstream-e","input":"x","dimensions":8}""");

        var body = Body(new EmbeddingRequest { Texts = ["x"], Original = doc.RootElement }, target);

        Assert.Equal("""{"model":"upstream-e","input":"x","dimensions":256,"truncate":"END"}""", body);
    }

    [Fact]
    public void Should_keep_the_whole_answer_and_read_its_usage_and_model()
    {
        using var doc = JsonDocument.Parse("""
            {"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5]}],"model":"upstream-e-v2","usage":{"prompt_tokens":7,"total_tokens":7}}
            """);

        var result = OpenAiEmbeddings.Parse(doc.RootElement, "mine");

        Assert.Equal(7, result.Usage!.Input);
        Assert.Equal(0, result.Usage.Output);
        Assert.Equal("upstream-e-v2", result.UpstreamModel);
        Assert.Equal(doc.RootElement.GetRawText(), result.Raw!.Value.GetRawText());
        Assert.Equal([0.5f], result.ReadVectors()[0].ToArray());
    }

    [Theory]
    [InlineData("""{"object":"list"}""", "no data list")]
    [InlineData("""{"data":[{"index":0}]}""", "entry without an embedding")]
    [InlineData("""{"error":{"message":"quota exceeded","type":"insufficient_quota","code":"insufficient_quota"}}""", "quota exceeded")]
    public void Should_turn_an_error_or_a_malformed_answer_into_an_upstream_exception(string json, string message)
    {
        using var doc = JsonDocument.Parse(json);

        var e = Assert.Throws<UpstreamException>(() => OpenAiEmbeddings.Parse(doc.RootElement, "mine"));

        Assert.Contains(message, e.Failure.Message, StringComparison.Ordinal);
        Assert.Equal("mine", e.Failure.ProviderId);
    }
}
