using System.Buffers.Binary;
using System.Text.Json;

namespace Durar.Testing;

/// <summary>
/// OpenAI embeddings (<c>POST /v1/embeddings</c>, <c>/embeddings</c>, and Gemini's <c>/v1beta/openai/embeddings</c>):
/// <c>{"object":"list","data":[{"object":"embedding","index":i,"embedding":...}],"model","usage":{"prompt_tokens","total_tokens"}}</c>
/// with every vector from <see cref="FakeEmbeddings.Vector"/>, as floats or as base64 of the little-endian float32 bytes per
/// <c>encoding_format</c> (or <see cref="FakeResponse.EmbeddingEncoding"/>), of length <c>dimensions</c>. Errors, statuses,
/// latency and raw bodies are scripted as for chat; prompt tokens default to the words of all inputs (one per token id).
/// </summary>
internal sealed class OpenAiEmbeddingsWire : WireFormat
{
    public static readonly OpenAiEmbeddingsWire Instance = new();

    public override string Name => "openai-embeddings";

    protected override string MalformedFrame => throw NotStreamed();

    public override string LastUserText(JsonElement body) => FakeEmbeddings.Inputs(body).FirstOrDefault() ?? "";

    public override int CountPromptWords(JsonElement body) =>
        FakeEmbeddings.Inputs(body).Sum(i => i.StartsWith(FakeEmbeddings.TokenPrefix, StringComparison.Ordinal)
            ? i.Count(c => c == ',') + 1
            : Reply.CountWords(i));

    protected override byte[] ErrorBody(FakeResponse response, int status) => OpenAiWire.ErrorJson(response, status);

    protected override byte[] CompletionBody(Exchange exchange)
    {
        var body = exchange.Body;
        var inputs = FakeEmbeddings.Inputs(body);
        var dimensions = body.TryGetProperty("dimensions", out var d) && d.TryGetInt32(out var n)
            ? n
            : exchange.Response.EmbeddingDimensions ?? FakeEmbeddings.DefaultDimensions;
        var base64 = (exchange.Response.EmbeddingEncoding ?? StringProperty(body, "encoding_format")) == "base64";
        return JsonBytes.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            for (var i = 0; i < inputs.Count; i++)
            {
                var vector = FakeEmbeddings.Vector(inputs[i], dimensions);
                w.WriteStartObject();
                w.WriteString("object", "embedding");
                w.WriteNumber("index", i);
                w.WritePropertyName("embedding");
                if (base64)
                {
                    var bytes = new byte[vector.Length * sizeof(float)];
                    for (var j = 0; j < vector.Length; j++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(j * sizeof(float)), vector[j]);
                    w.WriteStringValue(Convert.ToBase64String(bytes));
                }
                else
                {
                    w.WriteStartArray();
                    foreach (var value in vector) w.WriteNumberValue(value);
                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("model", exchange.Model);
            if (!exchange.Response.OmitUsage)
            {
                w.WriteStartObject("usage");
                w.WriteNumber("prompt_tokens", exchange.Reply.PromptTokens);
                w.WriteNumber("total_tokens", exchange.Reply.PromptTokens);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        });
    }

    protected override Task WriteStreamStartAsync(Exchange exchange) => throw NotStreamed();

    protected override Task WriteStreamPieceAsync(Exchange exchange, int index) => throw NotStreamed();

    protected override Task WriteStreamEndAsync(Exchange exchange) => throw NotStreamed();

    protected override Task WriteStreamErrorAsync(Exchange exchange) => throw NotStreamed();

    private static NotSupportedException NotStreamed() => new("OpenAI's embeddings endpoint does not stream.");
}

/// <summary>The fake's embedding vectors, public so that tests can compute what a correct gateway must hand back.</summary>
public static class FakeEmbeddings
{
    /// <summary>The vector length when neither the request nor the script sets one.</summary>
    public const int DefaultDimensions = 8;

    /// <summary>How a token-array input is named in <see cref="Inputs"/> (<c>tokens:1,2,3</c>).</summary>
    public const string TokenPrefix = "tokens:";

    /// <summary>
    /// The vector the fake answers for <paramref name="input"/>: deterministic values in [-1, 1] with six decimals, seeded by
    /// the input and the length, so two inputs (and two lengths) differ.
    /// </summary>
    public static float[] Vector(string input, int dimensions)
    {
        var seed = (int)(Fnv(input) ^ (uint)dimensions);
        var random = new Random(seed);
        var vector = new float[dimensions];
        for (var i = 0; i < dimensions; i++) vector[i] = (float)Math.Round(random.NextDouble() * 2 - 1, 6);
        return vector;
    }

    /// <summary>A request's inputs as strings: the texts, or each token array as <c>tokens:1,2,3</c>.</summary>
    public static IReadOnlyList<string> Inputs(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("input", out var input)) return [];
        return input.ValueKind switch
        {
            JsonValueKind.String => [input.GetString()!],
            JsonValueKind.Array when input.GetArrayLength() > 0 && input[0].ValueKind == JsonValueKind.Number => [Tokens(input)],
            JsonValueKind.Array => input.EnumerateArray().Select(i => i.ValueKind == JsonValueKind.Array ? Tokens(i) : i.GetString() ?? "").ToList(),
            _ => [],
        };

        static string Tokens(JsonElement array) => TokenPrefix + string.Join(',', array.EnumerateArray().Select(t => t.GetRawText()));
    }

    private static uint Fnv(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash ^= c;
            hash *= 16777619u;
        }

        return hash;
    }
}
