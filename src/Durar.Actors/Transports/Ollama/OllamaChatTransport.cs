using System.Collections.Immutable;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Embeddings;
using Durar.Actors.Models;
using Durar.Actors.Resilience;
using Durar.Actors.Transports.OpenAi;

namespace Durar.Actors.Transports.Ollama;

/// <summary>
/// The <c>ollama</c> transport: Ollama's native <c>POST {baseUrl}/api/chat</c> (base URL without <c>/v1</c>), streamed as
/// newline-delimited JSON. Native rather than Ollama's OpenAI shim because only the native API carries <c>num_ctx</c> (the
/// shim runs every model at Ollama's small default window), <c>keep_alive</c> and <c>think</c>. The request crosses by the
/// table of <see cref="OllamaFields"/>, written by <see cref="OllamaRequestWriter"/>; answers come back through
/// <see cref="OllamaStreamDecoder"/>. Embedding models are served from Ollama's OpenAI-compatible
/// <c>{baseUrl}/v1/embeddings</c>, the same body and answer as OpenAI's (<see cref="OpenAiEmbeddings"/>). Installed models are
/// listed by <see cref="OllamaDiscovery"/>.
/// </summary>
internal sealed class OllamaChatTransport(IHttpClientFactory httpClients, UpstreamSettings upstream)
    : HttpChatTransport<OllamaLine>(httpClients, upstream), IEmbeddingTransport
{
    public const string ChatPath = "/api/chat";
    public const string EmbeddingsPath = "/v1/embeddings";

    private static readonly NdjsonFraming<OllamaLine> Ndjson = new(static line => OllamaLine.Parse(line));
    private static readonly Action<Utf8JsonWriter, EmbeddingCall> WriteEmbeddings = OpenAiEmbeddings.Write;
    private static readonly Func<JsonElement, string, EmbeddingResult> ParseEmbeddings = OpenAiEmbeddings.Parse;

    protected override IStreamFraming<OllamaLine> Framing => Ndjson;

    protected override string RequestPath(UpstreamCall call, bool stream) => ChatPath;

    protected override void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream) => OllamaRequestWriter.Write(w, call, stream);

    protected override IStreamDecoder<OllamaLine> NewStreamDecoder(UpstreamCall call) => new OllamaStreamDecoder();

    public override UnsupportedField? Unsupported(ChatRequest request, ResolvedModel target) => OllamaFields.Unsupported(request, target);

    public override ImmutableArray<string> Dropped(ChatRequest request, ResolvedModel target) => OllamaFields.Dropped(request);

    public Task<EmbeddingResult> EmbedAsync(EmbeddingCall call, CancellationToken cancellationToken) =>
        EmbedJsonAsync(call, EmbeddingsPath, WriteEmbeddings, ParseEmbeddings, cancellationToken);

    protected override ChatCompletion ParseCompletion(JsonElement root, UpstreamCall call)
    {
        var providerId = call.Target.Provider.Id;
        var line = OllamaLine.Parse(JsonSerializer.SerializeToUtf8Bytes(root));
        if (line.Error is { } error)
            throw new UpstreamException(OllamaErrors.Failure(null, error) with { ProviderId = providerId }, UpstreamException.NoHints);
        if (!line.Done)
            throw UpstreamErrors.Transport(providerId, UpstreamTransportError.MalformedStream, "Ollama's answer is not done (no done: true)");
        var calls = line.ToolCalls.Select((c, i) => c.Id.Length > 0 ? c : c with { Id = OllamaLine.ToolCallId(i) }).ToImmutableArray();
        return new ChatCompletion(line.Content, calls, OllamaStreamDecoder.FinishReason(line.DoneReason, calls.Length > 0), line.Usage, line.Model)
        {
            Reasoning = line.Thinking is { Length: > 0 } thinking ? thinking : null,
        };
    }
}
