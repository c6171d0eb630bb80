using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Embeddings;

namespace Durar.Api.Apis;

/// <summary>An OpenAI embeddings request body, validated: the neutral request plus the gateway-level fields.</summary>
internal sealed record ParsedEmbeddingRequest(string Model, EmbeddingRequest Request, ImmutableArray<string>? Fallbacks);

/// <summary>
/// Parses and validates a <c>POST /v1/embeddings</c> body as OpenAI's reference defines it: <c>input</c> is a string, an array
/// of strings, an array of token ids or an array of token arrays (never empty, no empty string); <c>encoding_format</c> is
/// <c>float</c> (the default) or <c>base64</c>; <c>dimensions</c> a positive integer; <c>user</c> a string. A bad field is a 400
/// naming it in <c>param</c>. The body itself is kept (<see cref="EmbeddingRequest.Original"/>): an OpenAI-compatible upstream
/// gets every field as written, unknown ones included.
/// </summary>
/// <remarks>The element passed in must outlive the request (the caller keeps its document until the answer is written).</remarks>
internal static class EmbeddingRequestParser
{
    private const string InputShapes = "a string, an array of strings, an array of token ids or an array of token arrays";

    public static ParsedEmbeddingRequest Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Bad("The request body must be a JSON object.", "invalid_json", null);

        var model = root.TryGetProperty("model", out var m) ? m : default;
        if (model.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(model.GetString()))
            throw Bad("`model` is required: a provider/model ref of an embedding model, or an alias.", "missing_model", "model");

        var request = Input(root) with
        {
            Encoding = Encoding(root),
            Dimensions = Dimensions(root),
            User = User(root),
            Original = root,
        };
        return new ParsedEmbeddingRequest(model.GetString()!.Trim(), request, ChatRequestParser.Fallbacks(root));
    }

    private static EmbeddingRequest Input(JsonElement root)
    {
        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
            throw Bad($"`input` is required: {InputShapes}.", "missing_input", "input");
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                return new EmbeddingRequest { Texts = [NonEmpty(input, "input")] };
            case JsonValueKind.Array when input.GetArrayLength() == 0:
                throw Bad("`input` must not be an empty array.", "invalid_value", "input");
            case JsonValueKind.Array:
                return input[0].ValueKind switch
                {
                    JsonValueKind.String => new EmbeddingRequest { Texts = Texts(input) },
                    JsonValueKind.Number => new EmbeddingRequest { Tokens = [TokenArray(input, "input")] },
                    JsonValueKind.Array => new EmbeddingRequest { Tokens = TokenArrays(input) },
                    _ => throw Bad($"`input[0]` must be a string, a token id or a token array; `input` is {InputShapes}.", "invalid_type", "input[0]"),
                };
            default:
                throw Bad($"`input` must be {InputShapes}.", "invalid_type", "input");
        }
    }

    private static ImmutableArray<string> Texts(JsonElement input)
    {
        var texts = ImmutableArray.CreateBuilder<string>(input.GetArrayLength());
        var i = 0;
        foreach (var item in input.EnumerateArray())
        {
            var path = $"input[{i++}]";
            if (item.ValueKind != JsonValueKind.String)
                throw Bad($"`{path}` must be a string: an array of strings holds only strings.", "invalid_type", path);
            texts.Add(NonEmpty(item, path));
        }
        return texts.MoveToImmutable();
    }

    private static ImmutableArray<ImmutableArray<int>> TokenArrays(JsonElement input)
    {
        var arrays = ImmutableArray.CreateBuilder<ImmutableArray<int>>(input.GetArrayLength());
        var i = 0;
        foreach (var item in input.EnumerateArray())
        {
            var path = $"input[{i++}]";
            if (item.ValueKind != JsonValueKind.Array)
                throw Bad($"`{path}` must be an array of token ids: an array of token arrays holds only arrays.", "invalid_type", path);
            if (item.GetArrayLength() == 0) throw Bad($"`{path}` must not be an empty token array.", "invalid_value", path);
            arrays.Add(TokenArray(item, path));
        }
        return arrays.MoveToImmutable();
    }

    private static ImmutableArray<int> TokenArray(JsonElement array, string path)
    {
        var tokens = ImmutableArray.CreateBuilder<int>(array.GetArrayLength());
        var i = 0;
        foreach (var token in array.EnumerateArray())
        {
            if (token.ValueKind != JsonValueKind.Number || !token.TryGetInt32(out var id) || id < 0)
                throw Bad($"`{path}[{i}]` must be a token id (a non-negative integer).", "invalid_type", $"{path}[{i}]");
            tokens.Add(id);
            i++;
        }
        return tokens.MoveToImmutable();
    }

    private static string NonEmpty(JsonElement text, string path)
    {
        var value = text.GetString()!;
        return value.Length > 0 ? value : throw Bad($"`{path}` must not be an empty string.", "invalid_value", path);
    }

    private static EmbeddingEncoding Encoding(JsonElement root)
    {
        if (!root.TryGetProperty("encoding_format", out var format) || format.ValueKind == JsonValueKind.Null) return EmbeddingEncoding.Float;
        return format.ValueKind == JsonValueKind.String && format.GetString() is "float" or "base64"
            ? format.ValueEquals("base64") ? EmbeddingEncoding.Base64 : EmbeddingEncoding.Float
            : throw Bad("`encoding_format` must be float or base64.", "invalid_value", "encoding_format");
    }

    private static int? Dimensions(JsonElement root)
    {
        if (!root.TryGetProperty("dimensions", out var d) || d.ValueKind == JsonValueKind.Null) return null;
        return d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out var n) && n >= 1
            ? n
            : throw Bad("`dimensions` must be a positive integer.", "invalid_value", "dimensions");
    }

    private static string? User(JsonElement root)
    {
        if (!root.TryGetProperty("user", out var u) || u.ValueKind == JsonValueKind.Null) return null;
        return u.ValueKind == JsonValueKind.String ? u.GetString() : throw Bad("`user` must be a string.", "invalid_type", "user");
    }

    private static ApiErrorException Bad(string message, string code, string? param) => new(ApiError.BadRequest(message, code, param));
}
