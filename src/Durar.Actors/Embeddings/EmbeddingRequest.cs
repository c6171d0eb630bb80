using System.Collections.Immutable;
using System.Text.Json;

namespace Durar.Actors.Embeddings;

/// <summary>How the client wants each vector written: a JSON array of numbers, or base64 of the little-endian float32 bytes.</summary>
internal enum EmbeddingEncoding
{
    Float,
    Base64,
}

/// <summary>
/// The canonical embeddings request: what every wire can express (the inputs, as texts or as token arrays, the output
/// dimensions, the end-user id), the encoding the client wants back, and the client's own body when it came in OpenAI's
/// dialect (<see cref="Original"/>). An OpenAI-compatible upstream gets that body field for field with only <c>model</c>
/// rewritten; a native wire translates the typed fields and refuses, by name, what it cannot carry.
/// </summary>
internal sealed record EmbeddingRequest
{
    /// <summary>The inputs as text (a string or an array of strings); default when the inputs are token arrays.</summary>
    public ImmutableArray<string> Texts { get; init; }

    /// <summary>The inputs as token ids (one token array, or an array of them); default when the inputs are texts.</summary>
    public ImmutableArray<ImmutableArray<int>> Tokens { get; init; }

    /// <summary><c>dimensions</c>: the length of every vector, for models that can shorten theirs; null = the model's own.</summary>
    public int? Dimensions { get; init; }

    /// <summary><c>encoding_format</c> as the client wants the answer (float when it set none).</summary>
    public EmbeddingEncoding Encoding { get; init; }

    /// <summary><c>user</c>: the client's end-user id.</summary>
    public string? User { get; init; }

    /// <summary>The client's body in OpenAI's embeddings dialect, untouched; null when the request came another way (in-process).</summary>
    public JsonElement? Original { get; init; }

    /// <summary>Further body fields to send as written, by name (the in-process generator's additional properties).</summary>
    public ImmutableDictionary<string, JsonElement> Extra { get; init; } = ImmutableDictionary<string, JsonElement>.Empty;

    /// <summary>True when the inputs are token arrays, not texts.</summary>
    public bool IsTokens => Texts.IsDefault;

    /// <summary>How many vectors the answer holds.</summary>
    public int Count => IsTokens ? Tokens.Length : Texts.Length;
}
