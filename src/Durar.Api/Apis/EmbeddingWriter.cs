using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Embeddings;
using Durar.Actors.Routing;

namespace Durar.Api.Apis;

/// <summary>
/// Writes an embeddings answer in OpenAI's shape: <c>{"object":"list","data":[{"object":"embedding","index":0,"embedding":...}],
/// "model":...,"usage":{"prompt_tokens":...,"total_tokens":...}}</c>. An OpenAI-compatible upstream's answer goes back as it
/// came, every field, with only <c>model</c> renamed to the gateway's <c>provider/model</c>, except that every vector is in the
/// <c>encoding_format</c> the client asked for: an upstream that ignored it (many servers always answer floats) is converted
/// (base64 = the little-endian float32 bytes, as OpenAI writes them). Written straight into the response pipe, flushed as it
/// grows (a batch of large vectors is megabytes). Once the whole object is written the request's answer is complete
/// (<see cref="Telemetry.RequestFacts.Answered"/>).
/// </summary>
internal static class EmbeddingWriter
{
    private const int FlushThreshold = 64 * 1024;

    public static async Task WriteAsync(HttpResponse response, EmbeddingRun run, EmbeddingEncoding encoding, CancellationToken ct)
    {
        var model = run.Model.ToString();
        var result = run.Result;
        ImmutableArray<ReadOnlyMemory<float>> vectors = default;
        if (result.Raw is not { ValueKind: JsonValueKind.Object } || NeedsConversion(result.Raw.Value, encoding))
        {
            try
            {
                vectors = result.ReadVectors();
            }
            catch (FormatException e)
            {
                await new ApiError(502, $"The upstream answered with a malformed embedding: {e.Message}", "api_error", "malformed_upstream_answer")
                    .WriteAsync(response);
                return;
            }
        }

        response.ContentType = "application/json";
        var pipe = response.BodyWriter;
        await using var w = new Utf8JsonWriter(pipe, ChatCompletionWriter.Options);
        w.WriteStartObject();
        if (result.Raw is { ValueKind: JsonValueKind.Object } raw)
        {
            var named = false;
            foreach (var p in raw.EnumerateObject())
            {
                if (p.NameEquals("model"))
                {
                    w.WriteString("model", model);
                    named = true;
                }
                else if (p.NameEquals("data") && p.Value.ValueKind == JsonValueKind.Array)
                {
                    w.WriteStartArray("data");
                    var i = 0;
                    foreach (var item in p.Value.EnumerateArray())
                    {
                        WriteUpstreamItem(w, item, vectors, i++, encoding);
                        await FlushIfLargeAsync(w, pipe, ct);
                    }
                    w.WriteEndArray();
                }
                else p.WriteTo(w);
            }
            if (!named) w.WriteString("model", model);
        }
        else
        {
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            for (var i = 0; i < vectors.Length; i++)
            {
                w.WriteStartObject();
                w.WriteString("object", "embedding");
                w.WriteNumber("index", i);
                w.WritePropertyName("embedding");
                EmbeddingVectors.Write(w, vectors[i].Span, encoding);
                w.WriteEndObject();
                await FlushIfLargeAsync(w, pipe, ct);
            }
            w.WriteEndArray();
            w.WriteString("model", model);
            var input = result.Usage?.Input ?? 0;
            w.WriteStartObject("usage");
            w.WriteNumber("prompt_tokens", input);
            w.WriteNumber("total_tokens", input);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        await w.FlushAsync(ct);
        Telemetry.RequestFacts.Of(response.HttpContext)?.Answered(); // the whole answer is written
    }

    /// <summary>One upstream entry as it came, its vector in the client's encoding (from the decoded vectors when it needed converting).</summary>
    private static void WriteUpstreamItem(Utf8JsonWriter w, JsonElement item, ImmutableArray<ReadOnlyMemory<float>> vectors, int position,
        EmbeddingEncoding encoding)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            item.WriteTo(w);
            return;
        }
        w.WriteStartObject();
        foreach (var p in item.EnumerateObject())
        {
            if (!p.NameEquals("embedding") || Matches(p.Value, encoding))
            {
                p.WriteTo(w);
                continue;
            }
            // ReadVectors placed this entry by its index (else its position).
            var index = item.TryGetProperty("index", out var n) && n.TryGetInt32(out var k) && k >= 0 && k < vectors.Length ? k : position;
            w.WritePropertyName("embedding");
            EmbeddingVectors.Write(w, vectors[index].Span, encoding);
        }
        w.WriteEndObject();
    }

    private static bool NeedsConversion(JsonElement raw, EmbeddingEncoding encoding)
    {
        if (!raw.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array) return false;
        foreach (var item in data.EnumerateArray())
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("embedding", out var e) && !Matches(e, encoding)) return true;
        return false;
    }

    private static bool Matches(JsonElement embedding, EmbeddingEncoding encoding) =>
        encoding == EmbeddingEncoding.Base64 ? embedding.ValueKind == JsonValueKind.String : embedding.ValueKind == JsonValueKind.Array;

    private static async ValueTask FlushIfLargeAsync(Utf8JsonWriter w, System.IO.Pipelines.PipeWriter pipe, CancellationToken ct)
    {
        if (w.BytesPending + (pipe.CanGetUnflushedBytes ? pipe.UnflushedBytes : 0) < FlushThreshold) return;
        w.Flush();
        await pipe.FlushAsync(ct);
    }
}
