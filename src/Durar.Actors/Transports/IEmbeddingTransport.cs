using Durar.Actors.Chat;
using Durar.Actors.Embeddings;
using Durar.Actors.Models;

namespace Durar.Actors.Transports;

/// <summary>
/// The embeddings endpoint of an upstream API family. A wire that has one implements this beside <see cref="IChatTransport"/>
/// (the <see cref="TransportRegistry"/> finds it under the same api name); a wire without one (<c>anthropic-messages</c>) is
/// refused before any call, with a 400 naming the model. An HTTP wire writes only its mapping (path, body, answer) and leaves
/// the exchange to <see cref="HttpChatTransport{TFrame}"/>'s <c>EmbedJsonAsync</c>: the same client, authentication,
/// headers, idle timer and failure translation as its chat calls. A native wire (Gemini <c>batchEmbedContents</c>, Ollama
/// <c>/api/embed</c>, Bedrock) is such a mapping from <see cref="EmbeddingRequest"/>'s typed fields.
/// </summary>
internal interface IEmbeddingTransport
{
    /// <summary>One embeddings call. Failures throw <see cref="UpstreamException"/>.</summary>
    Task<EmbeddingResult> EmbedAsync(EmbeddingCall call, CancellationToken cancellationToken);

    /// <summary>
    /// The first field of <paramref name="request"/> this wire cannot carry to <paramref name="target"/> (e.g. token arrays to
    /// a text-only API), or null. The run asks before it leases a key and skips a candidate that refuses (no upstream call,
    /// nothing counted against a key); with no candidate able to carry it, the answer is a 400 naming the field.
    /// </summary>
    UnsupportedField? Unsupported(EmbeddingRequest request, ResolvedModel target) => null;
}

/// <summary>Everything one embeddings attempt needs: the target, the credential (null for keyless providers) and the request.</summary>
internal sealed record EmbeddingCall(ResolvedModel Target, string? ApiKey, EmbeddingRequest Request, TimeSpan IdleTimeout)
{
    private static readonly ChatRequest NoChat = new() { Messages = [] };

    /// <summary>
    /// The same target, key and timeout as a chat call: a wire's authentication and its own headers are the same for all of
    /// its endpoints, and the skeleton builds them from an <see cref="UpstreamCall"/>.
    /// </summary>
    internal UpstreamCall AsUpstreamCall() => new(Target, ApiKey, NoChat, IdleTimeout);
}
