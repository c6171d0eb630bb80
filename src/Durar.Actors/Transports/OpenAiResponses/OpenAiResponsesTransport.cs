using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.OpenAiResponses;

/// <summary>
/// The <c>openai-responses</c> transport: OpenAI's Responses API, <c>POST {baseUrl}/responses</c>, JSON or SSE of
/// <c>response.*</c> events. Used for xAI (the seed: native xAI requests use the Responses path) and for any OpenAI-style
/// provider configured with <c>api = "openai-responses"</c>. The request crosses by <see cref="ResponsesFields"/> (written by
/// <see cref="ResponsesRequestWriter"/>); answers come back through <see cref="ResponsesStreamDecoder"/> and
/// <see cref="ParseCompletion"/>. Native-only fields (<c>service_tier</c>, <c>store</c>, prompt-cache hints) reach
/// <c>api.openai.com</c> only.
/// </summary>
internal class OpenAiResponsesTransport(IHttpClientFactory httpClients, UpstreamSettings upstream)
    : HttpChatTransport<ResponsesEvent>(httpClients, upstream)
{
    private static readonly SseFraming<ResponsesEvent> Sse = new(static (_, data) => ResponsesEvent.Parse(data));

    protected override IStreamFraming<ResponsesEvent> Framing => Sse;

    protected override string RequestPath(UpstreamCall call, bool stream) => "/responses";

    protected override void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream) => ResponsesRequestWriter.Write(w, call, stream);

    protected override IStreamDecoder<ResponsesEvent> NewStreamDecoder(UpstreamCall call) => new ResponsesStreamDecoder();

    public override UnsupportedField? Unsupported(ChatRequest request, ResolvedModel target) => ResponsesFields.Unsupported(request, target);

    public override ImmutableArray<string> Dropped(ChatRequest request, ResolvedModel target) => ResponsesFields.Dropped(request, target);

    /// <summary>
    /// A whole Responses API answer: the output items in order (reasoning summaries, message text and refusals, function
    /// calls), the finish reason by <see cref="ResponsesStreamDecoder.FinishReason"/>, the usage; a failed response or an
    /// error object throws.
    /// </summary>
    protected override ChatCompletion ParseCompletion(JsonElement root, UpstreamCall call)
    {
        var providerId = call.Target.Provider.Id;
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            throw new UpstreamException(ResponsesErrors.FromResponse(root) with { ProviderId = providerId }, UpstreamException.NoHints);
        if (ResponsesEvent.Str(root, "status") == "failed")
            throw new UpstreamException(ResponsesErrors.FromResponse(root) with { ProviderId = providerId }, UpstreamException.NoHints);
        if (!root.TryGetProperty("output", out var output) || output.ValueKind != JsonValueKind.Array)
            throw UpstreamErrors.Transport(providerId, UpstreamTransportError.MalformedStream, "the Responses API answer has no output");
        StringBuilder? text = null, reasoning = null, refusal = null;
        var calls = ImmutableArray.CreateBuilder<ToolCall>();
        foreach (var item in output.EnumerateArray())
        {
            switch (ResponsesEvent.Str(item, "type"))
            {
                case "message" when item.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array:
                    foreach (var part in content.EnumerateArray())
                        if (ResponsesEvent.Str(part, "type") == "output_text") (text ??= new()).Append(ResponsesEvent.Str(part, "text"));
                        else if (ResponsesEvent.Str(part, "type") == "refusal") (refusal ??= new()).Append(ResponsesEvent.Str(part, "refusal"));
                    break;
                case "reasoning":
                    foreach (var name in (string[])["summary", "content"])
                        if (item.TryGetProperty(name, out var parts) && parts.ValueKind == JsonValueKind.Array)
                            foreach (var part in parts.EnumerateArray())
                                (reasoning ??= new()).Append(ResponsesEvent.Str(part, "text"));
                    break;
                case "function_call":
                    calls.Add(new ToolCall(ResponsesEvent.Str(item, "call_id") ?? ResponsesEvent.Str(item, "id") ?? "",
                        ResponsesEvent.Str(item, "name") ?? "", ResponsesEvent.Str(item, "arguments") ?? ""));
                    break;
            }
        }
        var usage = root.TryGetProperty("usage", out var u) ? ResponsesUsage.Parse(u) : null;
        return new ChatCompletion(text?.ToString(), calls.ToImmutable(), ResponsesStreamDecoder.FinishReason(root, calls.Count > 0), usage,
            ResponsesEvent.Str(root, "model"))
        {
            Reasoning = reasoning?.ToString(),
            Refusal = refusal?.ToString(),
        };
    }
}
