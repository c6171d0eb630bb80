using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// What every Gemini wire shares (<c>google-generative-ai</c>, <c>google-vertex</c>, Cloud Code Assist): the request object of
/// <see cref="GeminiRequestWriter"/> by the table of <see cref="GeminiFields"/>, SSE events read by
/// <see cref="GeminiStreamDecoder"/>, whole answers by <see cref="GeminiCompletionParser"/>, Google's error shape by
/// <see cref="GeminiErrors"/>. A wire adds its URL and its credential, and, for an envelope around the request (Cloud Code
/// Assist), <see cref="WriteBody"/> (<see cref="GeminiChunk"/> unwraps the answer's).
/// </summary>
internal abstract class GeminiTransport(IHttpClientFactory httpClients, UpstreamSettings upstream)
    : HttpChatTransport<GeminiChunk>(httpClients, upstream)
{
    /// <summary>The method and query of a call: <c>:streamGenerateContent?alt=sse</c> or <c>:generateContent</c>.</summary>
    protected static string Method(bool stream) => stream ? ":streamGenerateContent?alt=sse" : ":generateContent";

    /// <summary>The model's path segment: its id, escaped, unless it is already a resource name (<c>models/...</c>, <c>tunedModels/...</c>).</summary>
    protected static string ModelSegment(ResolvedModel target) =>
        target.Model.Id.Contains('/') ? target.Model.Id : "models/" + Uri.EscapeDataString(target.Model.Id);

    protected override IStreamFraming<GeminiChunk> Framing => Sse;

    private static readonly SseFraming<GeminiChunk> Sse = new(static (_, data) => GeminiChunk.Parse(data));

    public override UnsupportedField? Unsupported(ChatRequest request, ResolvedModel target) => GeminiFields.Unsupported(request, target);

    public override ImmutableArray<string> Dropped(ChatRequest request, ResolvedModel target) => GeminiFields.Dropped(request);

    protected override void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream) => GeminiRequestWriter.Write(w, call);

    protected override IStreamDecoder<GeminiChunk> NewStreamDecoder(UpstreamCall call) => new GeminiStreamDecoder();

    protected override ChatCompletion ParseCompletion(JsonElement root, UpstreamCall call) =>
        GeminiCompletionParser.Parse(GeminiChunk.From(root), call.Target.Provider.Id);

    protected override Resilience.UpstreamFailure ErrorFailure(HttpResponseMessage response, string body, string providerId) =>
        GeminiErrors.FromResponse(response, body, providerId);
}
