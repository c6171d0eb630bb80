using System.Collections.Immutable;
using Durar.Actors.Models;
using Durar.Actors.Chat;

namespace Durar.Actors.Transports;

/// <summary>
/// One upstream API family (<c>openai-completions</c>, <c>anthropic-messages</c>, the in-process echo). A transport is
/// stateless and thread-safe: it turns a <see cref="UpstreamCall"/> into one HTTP exchange and maps the wire format onto the
/// neutral model. Keys, retries and failover are decided by the actors, never here.
/// </summary>
internal interface IChatTransport
{
    /// <summary>Non-streaming call. Failures throw <see cref="UpstreamException"/>.</summary>
    Task<ChatCompletion> CompleteAsync(UpstreamCall call, CancellationToken cancellationToken);

    /// <summary>
    /// Streaming call. The first element is <see cref="StreamOpened"/> once the upstream answered 2xx; failures (including
    /// before the first element) throw <see cref="UpstreamException"/>. Cancelling the token aborts the upstream request.
    /// </summary>
    IAsyncEnumerable<ChatEvent> StreamAsync(UpstreamCall call, CancellationToken cancellationToken);

    /// <summary>
    /// The fields the client set that this wire does not send to <paramref name="target"/> (compat rules), reported to the
    /// client in <c>x-durar-dropped</c>. A wire that cannot carry a field refuses the request instead (a 400 naming it).
    /// </summary>
    ImmutableArray<string> Dropped(ChatRequest request, ResolvedModel target) => [];

    /// <summary>
    /// The first field of <paramref name="request"/> this wire cannot carry to <paramref name="target"/>, or null. The run asks
    /// before it leases a key and skips a candidate that refuses (no upstream call, nothing counted against a key); a transport
    /// never sends a request this refuses.
    /// </summary>
    UnsupportedField? Unsupported(ChatRequest request, ResolvedModel target) => null;
}

/// <summary>Everything one upstream attempt needs: the target, the credential (null for keyless providers) and the request.</summary>
internal sealed record UpstreamCall(ResolvedModel Target, string? ApiKey, ChatRequest Request, TimeSpan IdleTimeout);
