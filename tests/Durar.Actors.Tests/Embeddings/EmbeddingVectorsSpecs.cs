using System.Buffers;
using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Embeddings;

namespace Durar.Actors.Tests.Embeddings;

/// <summary>The two encodings of a vector on OpenAI's wire, and reading an upstream's vectors in input order.</summary>
public sealed class EmbeddingVectorsSpecs
{
    private static string Written(float[] vector, EmbeddingEncoding encoding)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer)) EmbeddingVectors.Write(w, vector, encoding);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Fact]
    public void Should_write_base64_as_the_little_endian_float32_bytes()
    {
        // 1.0f = 00 00 80 3F, -2.0f = 00 00 00 C0 (little-endian), 0.5f = 00 00 00 3F.
        Assert.Equal("\"AACAPwAAAMAAAAA/\"", Written([1f, -2f, 0.5f], EmbeddingEncoding.Base64));
        Assert.Equal("[1,-2,0.5]", Written([1f, -2f, 0.5f], EmbeddingEncoding.Float));
    }

    [Fact]
    public void Should_read_either_encoding_back_to_the_same_floats()
    {
        float[] vector = [0.0123f, -0.987654f, 3.4e-8f, 1f];

        using var floats = JsonDocument.Parse(Written(vector, EmbeddingEncoding.Float));
        using var base64 = JsonDocument.Parse(Written(vector, EmbeddingEncoding.Base64));

        Assert.Equal(vector, EmbeddingVectors.Read(floats.RootElement).ToArray());
        Assert.Equal(vector, EmbeddingVectors.Read(base64.RootElement).ToArray());
    }

    [Theory]
    [InlineData("\"AAAA\"")] // 3 bytes: not a whole float32
    [InlineData("\"not base64!\"")]
    [InlineData("[1,\"2\"]")]
    [InlineData("{}")]
    public void Should_refuse_a_malformed_vector(string json)
    {
        using var doc = JsonDocument.Parse(json);
        Assert.Throws<FormatException>(() => EmbeddingVectors.Read(doc.RootElement));
    }

    [Fact]
    public void Should_read_an_upstream_answer_in_input_order_by_index()
    {
        using var doc = JsonDocument.Parse("""
            {"object":"list","data":[{"index":1,"embedding":"AACAPw=="},{"index":0,"embedding":[2,3]}],"model":"m"}
            """);
        var result = new EmbeddingResult(default(ImmutableArray<ReadOnlyMemory<float>>), null, "m") { Raw = doc.RootElement.Clone() };

        var vectors = result.ReadVectors();

        Assert.Equal([2f, 3f], vectors[0].ToArray());
        Assert.Equal([1f], vectors[1].ToArray());
    }
}
