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
public interface IEmbeddingTransport
{
    /// <summary>One embeddings call. Failures throw <see cref="UpstreamException"/>.</summary>
    Task<EmbeddingResult> EmbedAsync(EmbeddingCall call, CancellationToken cancellationToken);

    /// <summary>
    /// The request field this wire cannot carry to <paramref name="target"/> (e.g. token arrays to a text-only API), or null.
    /// The gateway refuses such a request with a 400 naming the field before any call.
    /// </summary>
    string? Unsupported(EmbeddingRequest request, ResolvedModel target) => null;
}

/// <summary>Everything one embeddings attempt needs: the target, the credential (null for keyless providers) and the request.</summary>
public sealed record EmbeddingCall(ResolvedModel Target, string? ApiKey, EmbeddingRequest Request, TimeSpan IdleTimeout)
{
    private static readonly ChatRequest NoChat = new() { Messages = [] };

    /// <summary>
    /// The same target, key and timeout as a chat call: a wire's authentication and its own headers are the same for all of
    /// its endpoints, and the skeleton builds them from an <see cref="UpstreamCall"/>.
    /// </summary>
    internal UpstreamCall AsUpstreamCall() => new(Target, ApiKey, NoChat, IdleTimeout);
}
