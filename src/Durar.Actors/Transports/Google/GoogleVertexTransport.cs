using System.Runtime.CompilerServices;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// The <c>google-vertex</c> transport: Gemini on Vertex AI,
/// <c>POST https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:streamGenerateContent?alt=sse</c>
/// (or <c>:generateContent</c>), the same request and answers as Gemini's own API (<see cref="GeminiTransport"/>), with a
/// Google access token (<see cref="VertexEndpoint"/>, <see cref="GoogleCloudAuth"/>) as <c>Authorization: Bearer</c>.
/// </summary>
internal sealed class GoogleVertexTransport(IHttpClientFactory httpClients, UpstreamSettings upstream, VertexEndpoint endpoint)
    : GeminiTransport(httpClients, upstream), IChatTransport
{
    protected override string RequestPath(UpstreamCall call, bool stream) => endpoint.ModelPath(call.Target) + Method(stream);

    public new async Task<ChatCompletion> CompleteAsync(UpstreamCall call, CancellationToken cancellationToken) =>
        await base.CompleteAsync(await endpoint.PrepareAsync(call, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    public new async IAsyncEnumerable<ChatEvent> StreamAsync(UpstreamCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prepared = await endpoint.PrepareAsync(call, cancellationToken).ConfigureAwait(false);
        await foreach (var e in base.StreamAsync(prepared, cancellationToken).ConfigureAwait(false)) yield return e;
    }
}
