using System.Collections.Immutable;
using System.Net.Http.Headers;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;

namespace Durar.Actors.Transports.Anthropic;

/// <summary>
/// The <c>anthropic-messages</c> transport: <c>POST {baseUrl}/v1/messages</c>. The OpenAI-shaped canonical request crosses by
/// the translation table (<see cref="AnthropicFields"/>: every field translated, ignored for a stated reason, or refused with a
/// 400 naming it before any upstream call), written by <see cref="AnthropicRequestWriter"/>; the answer comes back through
/// <see cref="AnthropicStreamDecoder"/> and <see cref="AnthropicCompletionParser"/>. Non-Anthropic hosts get no implicit beta
/// headers and no service tier.
/// </summary>
internal sealed class AnthropicMessagesTransport(IHttpClientFactory httpClients, UpstreamSettings upstream)
    : HttpChatTransport<AnthropicEvent>(httpClients, upstream), ITokenCountTransport
{
    private static readonly Action<Utf8JsonWriter, UpstreamCall> WriteCount = AnthropicRequestWriter.WriteCountTokens;
    private static readonly Func<JsonElement, string, long> ParseCount = static (root, providerId) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("input_tokens", out var n) && n.TryGetInt64(out var count)
            ? count
            : throw UpstreamErrors.Transport(providerId, Resilience.UpstreamTransportError.MalformedStream, "count_tokens answer has no input_tokens");

    /// <summary>Anthropic's own count: <c>POST {baseUrl}/v1/messages/count_tokens</c> with the request's prompt.</summary>
    public Task<long> CountTokensAsync(UpstreamCall call, CancellationToken cancellationToken) =>
        PostJsonAsync(call, "/v1/messages/count_tokens", WriteCount, ParseCount, cancellationToken);

    public const string ApiVersion = "2023-06-01";

    private static readonly SseFraming<AnthropicEvent> Sse = new(static (type, data) => AnthropicEvent.Parse(type, data));

    protected override IStreamFraming<AnthropicEvent> Framing => Sse;

    protected override string RequestPath(UpstreamCall call, bool stream) => "/v1/messages";

    /// <summary><c>x-api-key</c>, or <c>Authorization: Bearer</c> when the provider sets <c>authHeader</c> (proxies, OAuth tokens).</summary>
    protected override void AddAuthentication(HttpRequestHeaders headers, UpstreamCall call)
    {
        if (call.ApiKey is not { Length: > 0 } key) return;
        if (call.Target.Provider.AuthHeader) headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        else headers.TryAddWithoutValidation("x-api-key", key);
    }

    protected override void AddWireHeaders(HttpRequestHeaders headers, UpstreamCall call) =>
        headers.TryAddWithoutValidation("anthropic-version", ApiVersion);

    public override UnsupportedField? Unsupported(ChatRequest request, ResolvedModel target) => AnthropicFields.Unsupported(request, target);

    public override ImmutableArray<string> Dropped(ChatRequest request, ResolvedModel target) => AnthropicFields.Dropped(request, target);

    protected override void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream) => AnthropicRequestWriter.Write(w, call, stream);

    /// <summary>The common error shapes, plus Anthropic's <c>error.param</c> when it names one.</summary>
    protected override Resilience.UpstreamFailure ErrorFailure(HttpResponseMessage response, string body, string providerId)
    {
        var failure = base.ErrorFailure(response, body, providerId);
        if (failure.Param is not null || !body.Contains("\"param\"", StringComparison.Ordinal)) return failure;
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && AnthropicEvent.Failure(doc.RootElement, providerId).Param is { } param
                ? failure with { Param = param }
                : failure;
        }
        catch (Exception e) when (UpstreamErrors.IsMalformed(e))
        {
            return failure;
        }
    }

    protected override IStreamDecoder<AnthropicEvent> NewStreamDecoder(UpstreamCall call) => new AnthropicStreamDecoder(JsonTool(call));

    protected override ChatCompletion ParseCompletion(JsonElement root, UpstreamCall call) =>
        AnthropicCompletionParser.Parse(root, call.Target.Provider.Id, JsonTool(call));

    /// <summary>The name of the tool that carries a JSON answer to this call, if the client asked for one.</summary>
    private static string? JsonTool(UpstreamCall call) => JsonAnswerTool.For(call.Request, forced: true)?.Name;
}
