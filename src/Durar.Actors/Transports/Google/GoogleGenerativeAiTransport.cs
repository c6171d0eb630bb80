using System.Net.Http.Headers;
using System.Text.Json;
using Durar.Actors.Configuration;
using Durar.Actors.Embeddings;
using Durar.Actors.Transports.OpenAi;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// The <c>google-generative-ai</c> transport, Gemini's own API (<c>generativelanguage.googleapis.com/v1beta</c>):
/// <c>POST {baseUrl}/models/{model}:streamGenerateContent?alt=sse</c> or <c>:generateContent</c>, the key in
/// <c>x-goog-api-key</c> (<c>Authorization: Bearer</c> when the provider sets <c>authHeader</c>, for OAuth tokens and proxies).
/// Embedding models go to the OpenAI-compatible endpoint under the same base (<c>{baseUrl}/openai/embeddings</c>), which
/// Google documents for them with the same key.
/// </summary>
internal sealed class GoogleGenerativeAiTransport(IHttpClientFactory httpClients, UpstreamSettings upstream)
    : GeminiTransport(httpClients, upstream), IEmbeddingTransport
{
    /// <summary>The OpenAI-compatible embeddings endpoint under the native base.</summary>
    public const string EmbeddingsPath = "/openai" + OpenAiEmbeddings.Path;

    private static readonly Action<Utf8JsonWriter, EmbeddingCall> WriteEmbeddings = OpenAiEmbeddings.Write;
    private static readonly Func<JsonElement, string, EmbeddingResult> ParseEmbeddings = OpenAiEmbeddings.Parse;

    protected override string RequestPath(UpstreamCall call, bool stream) => "/" + ModelSegment(call.Target) + Method(stream);

    protected override void AddAuthentication(HttpRequestHeaders headers, UpstreamCall call)
    {
        if (call.ApiKey is not { Length: > 0 } key) return;
        if (call.Target.Provider.AuthHeader) headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        else headers.TryAddWithoutValidation("x-goog-api-key", key);
    }

    public Task<EmbeddingResult> EmbedAsync(EmbeddingCall call, CancellationToken cancellationToken) =>
        EmbedJsonAsync(call, EmbeddingsPath, WriteEmbeddings, ParseEmbeddings, cancellationToken);
}
