using System.Buffers;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Transports.Anthropic;

namespace Durar.Actors.Transports.Google;

/// <summary>
/// The <c>anthropic-vertex</c> transport: Claude on Vertex AI,
/// <c>POST .../publishers/anthropic/models/{model}:streamRawPredict</c> (or <c>:rawPredict</c>), the Anthropic Messages body of
/// the <c>anthropic-messages</c> wire (<see cref="AnthropicFields"/>, <see cref="AnthropicRequestWriter"/>: the same table of
/// translated and refused fields) with the model in the URL instead of the body and <c>anthropic_version: vertex-2023-10-16</c>
/// in it, as Vertex requires; Anthropic's SSE events and answers read as on Anthropic's own API. A Google access token
/// (<see cref="VertexEndpoint"/>) is the credential.
/// </summary>
internal sealed class AnthropicVertexTransport(IHttpClientFactory httpClients, UpstreamSettings upstream, VertexEndpoint endpoint)
    : HttpChatTransport<AnthropicEvent>(httpClients, upstream), IChatTransport
{
    public const string VertexAnthropicVersion = "vertex-2023-10-16";

    private static readonly SseFraming<AnthropicEvent> Sse = new(static (type, data) => AnthropicEvent.Parse(type, data));

    protected override IStreamFraming<AnthropicEvent> Framing => Sse;

    protected override string RequestPath(UpstreamCall call, bool stream) =>
        endpoint.ModelPath(call.Target) + (stream ? ":streamRawPredict" : ":rawPredict");

    public override UnsupportedField? Unsupported(ChatRequest request, ResolvedModel target) => AnthropicFields.Unsupported(request, target);

    public override ImmutableArray<string> Dropped(ChatRequest request, ResolvedModel target) => AnthropicFields.Dropped(request, target);

    /// <summary>The Anthropic body, without <c>model</c> (it is in the URL) and with Vertex's <c>anthropic_version</c> first.</summary>
    protected override void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var inner = new Utf8JsonWriter(buffer))
            AnthropicRequestWriter.Write(inner, call, stream);
        using var body = JsonDocument.Parse(buffer.WrittenMemory);
        w.WriteStartObject();
        w.WriteString("anthropic_version", VertexAnthropicVersion);
        foreach (var property in body.RootElement.EnumerateObject())
            if (!property.NameEquals("model")) property.WriteTo(w);
        w.WriteEndObject();
    }

    protected override Resilience.UpstreamFailure ErrorFailure(HttpResponseMessage response, string body, string providerId) =>
        GeminiErrors.FromResponse(response, body, providerId);

    protected override IStreamDecoder<AnthropicEvent> NewStreamDecoder(UpstreamCall call) => new AnthropicStreamDecoder(JsonTool(call));

    protected override ChatCompletion ParseCompletion(JsonElement root, UpstreamCall call) =>
        AnthropicCompletionParser.Parse(root, call.Target.Provider.Id, JsonTool(call));

    private static string? JsonTool(UpstreamCall call) => JsonAnswerTool.For(call.Request, forced: true)?.Name;

    public new async Task<ChatCompletion> CompleteAsync(UpstreamCall call, CancellationToken cancellationToken) =>
        await base.CompleteAsync(await endpoint.PrepareAsync(call, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    public new async IAsyncEnumerable<ChatEvent> StreamAsync(UpstreamCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prepared = await endpoint.PrepareAsync(call, cancellationToken).ConfigureAwait(false);
        await foreach (var e in base.StreamAsync(prepared, cancellationToken).ConfigureAwait(false)) yield return e;
    }
}
