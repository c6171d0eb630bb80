using System.Collections.Immutable;
using Durar.Actors.Chat;
using Durar.Actors.Embeddings;

namespace Durar.Actors.Transports;

/// <summary>
/// The echo provider's embeddings: a deterministic fake, so that a first run can try <c>/v1/embeddings</c> (and an
/// <c>IEmbeddingGenerator</c>) with no credential and no network. Each input is a hashed bag of words: every word (or token id)
/// adds ±1 at a position chosen by a stable hash of it, and the vector is scaled to unit length. The same input always gives the
/// same vector, on every machine; inputs that share words point the same way. It is not a semantic model.
/// </summary>
internal static class EchoEmbeddings
{
    /// <summary>The length of a vector when the request sets no <c>dimensions</c>.</summary>
    public const int DefaultDimensions = 64;

    public static EmbeddingResult Embed(EmbeddingCall call)
    {
        var r = call.Request;
        var dimensions = r.Dimensions ?? DefaultDimensions;
        var vectors = ImmutableArray.CreateBuilder<ReadOnlyMemory<float>>(r.Count);
        long words = 0;
        for (var i = 0; i < r.Count; i++)
        {
            var vector = new float[dimensions];
            if (r.IsTokens)
                foreach (var token in r.Tokens[i]) Add(vector, Hash(token.ToString(System.Globalization.CultureInfo.InvariantCulture)), ref words);
            else
                foreach (var word in r.Texts[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)) Add(vector, Hash(word.ToLowerInvariant()), ref words);
            Normalize(vector);
            vectors.Add(vector);
        }
        return new EmbeddingResult(vectors.MoveToImmutable(), new TokenUsage(Math.Max(1, words), 0), call.Target.Model.Id);
    }

    private static void Add(float[] vector, uint hash, ref long words)
    {
        vector[hash % (uint)vector.Length] += (hash & 0x8000_0000) == 0 ? 1f : -1f;
        words++;
    }

    private static void Normalize(float[] vector)
    {
        double sum = 0;
        foreach (var v in vector) sum += v * v;
        if (sum == 0) return;
        var scale = (float)(1 / Math.Sqrt(sum));
        for (var i = 0; i < vector.Length; i++) vector[i] *= scale;
    }

    /// <summary>FNV-1a over UTF-16 code units: stable across processes, unlike <see cref="string.GetHashCode()"/>.</summary>
    private static uint Hash(string word)
    {
        var hash = 2166136261u;
        foreach (var c in word)
        {
            hash ^= c;
            hash *= 16777619u;
        }
        return hash;
    }
}
