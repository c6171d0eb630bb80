using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Durar.Actors.Embeddings;

/// <summary>
/// The two encodings of a vector on OpenAI's wire: a JSON array of numbers (<c>encoding_format: float</c>) or a base64 string of
/// the little-endian float32 bytes (<c>base64</c>, what the official SDKs ask for). Used to give a client the encoding it asked
/// for when an upstream answered in the other one (many OpenAI-compatible servers ignore <c>encoding_format</c>).
/// </summary>
internal static class EmbeddingVectors
{
    /// <summary>A vector as either encoding.</summary>
    /// <exception cref="FormatException">Neither an array of numbers nor base64 of a whole number of float32s.</exception>
    public static ReadOnlyMemory<float> Read(JsonElement embedding)
    {
        switch (embedding.ValueKind)
        {
            case JsonValueKind.Array:
                var vector = new float[embedding.GetArrayLength()];
                var i = 0;
                foreach (var value in embedding.EnumerateArray())
                {
                    if (value.ValueKind != JsonValueKind.Number) throw new FormatException("an embedding holds something other than numbers");
                    vector[i++] = value.GetSingle();
                }
                return vector;
            case JsonValueKind.String when embedding.TryGetBytesFromBase64(out var bytes):
                return FromBytes(bytes);
            default:
                throw new FormatException("an embedding is neither an array of numbers nor a base64 string");
        }
    }

    /// <summary>float32s from their little-endian bytes.</summary>
    /// <exception cref="FormatException">The byte count is not a multiple of 4.</exception>
    public static float[] FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % sizeof(float) != 0) throw new FormatException($"a base64 embedding of {bytes.Length} bytes is not a whole number of float32s");
        var vector = new float[bytes.Length / sizeof(float)];
        for (var i = 0; i < vector.Length; i++) vector[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * sizeof(float)));
        return vector;
    }

    /// <summary>Writes <paramref name="vector"/> in <paramref name="encoding"/> as the current JSON value.</summary>
    public static void Write(Utf8JsonWriter w, ReadOnlySpan<float> vector, EmbeddingEncoding encoding)
    {
        if (encoding == EmbeddingEncoding.Base64)
        {
            if (BitConverter.IsLittleEndian)
            {
                w.WriteBase64StringValue(MemoryMarshal.AsBytes(vector));
                return;
            }
            var bytes = new byte[vector.Length * sizeof(float)];
            for (var i = 0; i < vector.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
            w.WriteBase64StringValue(bytes);
            return;
        }
        w.WriteStartArray();
        foreach (var value in vector) w.WriteNumberValue(value);
        w.WriteEndArray();
    }
}
