using Durar.Actors.Catalog;
using Durar.Actors.Embeddings;
using Durar.Actors.Models;
using Durar.Actors.Transports;

namespace Durar.Actors.Tests.Transports;

/// <summary>The echo provider's fake embedding: deterministic, unit length, sized by <c>dimensions</c>, closer for shared words.</summary>
public sealed class EchoEmbeddingsSpecs
{
    private static readonly ResolvedModel Echo = new(BuiltInCatalog.Providers["echo"], BuiltInCatalog.Providers["echo"].FindModel("echo-embedding")!, null);

    private static EmbeddingResult Embed(EmbeddingRequest request) =>
        new EchoTransport().EmbedAsync(new EmbeddingCall(Echo, null, request, TimeSpan.FromSeconds(1)), default).Result;

    private static double Cosine(ReadOnlyMemory<float> a, ReadOnlyMemory<float> b)
    {
        double dot = 0;
        for (var i = 0; i < a.Length; i++) dot += a.Span[i] * b.Span[i];
        return dot;
    }

    [Fact]
    public void Should_give_the_same_unit_vector_for_the_same_text_and_count_words()
    {
        var result = Embed(new EmbeddingRequest { Texts = ["The quick fox", "the QUICK   fox", "a slow turtle"] });

        var v = result.Vectors;
        Assert.Equal(EchoEmbeddings.DefaultDimensions, v[0].Length);
        Assert.Equal(v[0].ToArray(), v[1].ToArray()); // words, case-insensitive
        Assert.InRange(Cosine(v[0], v[0]), 0.9999, 1.0001);
        Assert.Equal(9, result.Usage!.Input);
        Assert.Equal("echo-embedding", result.UpstreamModel);
    }

    [Fact]
    public void Should_point_texts_that_share_words_the_same_way()
    {
        var v = Embed(new EmbeddingRequest { Texts = ["red apple pie", "red apple tart", "blue ocean wave"], Dimensions = 256 }).Vectors;

        Assert.Equal(256, v[0].Length);
        Assert.True(Cosine(v[0], v[1]) > Cosine(v[0], v[2]), "texts sharing two of three words must be closer than texts sharing none");
    }

    [Fact]
    public void Should_embed_token_arrays_as_well()
    {
        var v = Embed(new EmbeddingRequest { Tokens = [[1, 2, 3], [1, 2, 3], [4]] }).Vectors;

        Assert.Equal(v[0].ToArray(), v[1].ToArray());
        Assert.NotEqual(v[0].ToArray(), v[2].ToArray());
    }
}
