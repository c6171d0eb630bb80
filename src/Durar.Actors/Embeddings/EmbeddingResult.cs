using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Resilience;

namespace Durar.Actors.Embeddings;

/// <summary>
/// One upstream's embeddings answer. An OpenAI-compatible upstream's body is kept as it answered (<see cref="Raw"/>: every
/// field, the vectors in the encoding it chose) so that a client of the same dialect gets it back with only the model renamed;
/// a native wire (and the echo provider) gives typed <see cref="Vectors"/> instead.
/// </summary>
/// <param name="Vectors">The vectors in input order; default when they are only in <see cref="Raw"/> (read them with <see cref="ReadVectors"/>).</param>
/// <param name="Usage">Input tokens (<c>prompt_tokens</c>); null when the upstream reported none.</param>
/// <param name="UpstreamModel">The model the upstream says answered.</param>
internal sealed record EmbeddingResult(ImmutableArray<ReadOnlyMemory<float>> Vectors, TokenUsage? Usage, string? UpstreamModel)
{
    /// <summary>The upstream's OpenAI-shaped <c>{object: "list", data, model, usage}</c> object, as it answered.</summary>
    public JsonElement? Raw { get; init; }

    /// <summary>The upstream's rate-limit headers on this answer (for pre-emptive cooldowns).</summary>
    public RateLimitHints Hints { get; init; } = RateLimitHints.None;

    /// <summary>Upstream response headers a client reads (request id, processing time, rate-limit state).</summary>
    public UpstreamHeaders Headers { get; init; } = UpstreamHeaders.None;

    /// <summary>The vectors in input order, decoded from <see cref="Raw"/> (float arrays or base64) when there are no typed ones.</summary>
    /// <exception cref="FormatException">An entry of <see cref="Raw"/> is neither an array of numbers nor base64 of float32s.</exception>
    public ImmutableArray<ReadOnlyMemory<float>> ReadVectors()
    {
        if (!Vectors.IsDefault) return Vectors;
        if (Raw is not { ValueKind: JsonValueKind.Object } raw || !raw.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            return [];
        var vectors = new ReadOnlyMemory<float>[data.GetArrayLength()];
        var position = 0;
        foreach (var item in data.EnumerateArray())
        {
            // OpenAI lists the vectors in input order and numbers them; the number wins when it is in range.
            var index = item.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) && n >= 0 && n < vectors.Length ? n : position;
            vectors[index] = EmbeddingVectors.Read(item.GetProperty("embedding"));
            position++;
        }
        return [.. vectors];
    }
}
