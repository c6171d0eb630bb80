using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Embeddings;
using Durar.Actors.Resilience;

namespace Durar.Actors.Transports.OpenAi;

/// <summary>
/// The <c>openai-completions</c> transport: <c>POST {baseUrl}/chat/completions</c>, JSON or SSE. Native OpenAI
/// (<c>api.openai.com</c>) keeps native-only fields; every other host is treated as a proxy: no <c>developer</c> role,
/// no <c>service_tier</c>, <c>store</c> or prompt-cache hints. Streaming always asks the upstream for usage. The same wire's
/// <c>POST {baseUrl}/embeddings</c> serves embedding models (<see cref="OpenAiEmbeddings"/>).
/// </summary>
internal sealed class OpenAiCompletionsTransport(IHttpClientFactory httpClients, UpstreamSettings upstream)
    : HttpChatTransport<OpenAiChunk>(httpClients, upstream), IEmbeddingTransport
{
    private static readonly Action<Utf8JsonWriter, EmbeddingCall> WriteEmbeddings = OpenAiEmbeddings.Write;
    private static readonly Func<JsonElement, string, EmbeddingResult> ParseEmbeddings = OpenAiEmbeddings.Parse;

    public Task<EmbeddingResult> EmbedAsync(EmbeddingCall call, CancellationToken cancellationToken) =>
        EmbedJsonAsync(call, OpenAiEmbeddings.Path, WriteEmbeddings, ParseEmbeddings, cancellationToken);

    private static readonly SseFraming<OpenAiChunk> Sse = new(static (_, data) => OpenAiChunk.Parse(data));

    protected override IStreamFraming<OpenAiChunk> Framing => Sse;

    protected override string RequestPath(UpstreamCall call, bool stream) => "/chat/completions";

    protected override IStreamDecoder<OpenAiChunk> NewStreamDecoder(UpstreamCall call) => new OpenAiStreamDecoder();

    protected override void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream) => OpenAiRequestWriter.Write(w, call, stream);

    /// <summary>Every choice of the upstream's own completion object (<see cref="OpenAiWholeAnswer"/>).</summary>
    protected override List<ChatEvent> WholeAnswerEvents(ChatCompletion completion) =>
        completion.Raw is { ValueKind: JsonValueKind.Object } raw ? OpenAiWholeAnswer.Events(raw, completion.Usage) : base.WholeAnswerEvents(completion);

    public override ImmutableArray<string> Dropped(ChatRequest request, Models.ResolvedModel target) => OpenAiShaping.For(target).Dropped(request);

    protected override ChatCompletion ParseCompletion(JsonElement root, UpstreamCall call)
    {
        var providerId = call.Target.Provider.Id;
        if (root.TryGetProperty("error", out var err) && err.ValueKind is JsonValueKind.Object or JsonValueKind.String)
        {
            var (errorMessage, type, code) = UpstreamErrors.ExtractError(root);
            var param = err.ValueKind == JsonValueKind.Object && err.TryGetProperty("param", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            throw new UpstreamException(new UpstreamFailure(null, errorMessage, code, type, providerId) { Param = param }, UpstreamException.NoHints);
        }
        if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            throw UpstreamErrors.Transport(providerId, UpstreamTransportError.MalformedStream, "upstream response has no choices");
        var choice = choices[0];
        var message = choice.TryGetProperty("message", out var msg) && msg.ValueKind == JsonValueKind.Object ? msg : default;
        var calls = ImmutableArray.CreateBuilder<ToolCall>();
        if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("tool_calls", out var tc) && tc.ValueKind == JsonValueKind.Array)
            foreach (var tool in tc.EnumerateArray())
            {
                if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object) continue;
                calls.Add(new ToolCall(Str(tool, "id") ?? "", Str(fn, "name") ?? "", Str(fn, "arguments") ?? ""));
            }
        var finish = Str(choice, "finish_reason") ?? "stop";
        if (finish == "error")
            throw new UpstreamException(new UpstreamFailure(500, "the provider ended the response with finish_reason: error", null, null, providerId), UpstreamException.NoHints);
        return new ChatCompletion(Str(message, "content"), calls.ToImmutable(), finish,
            root.TryGetProperty("usage", out var u) ? OpenAiChunk.ParseUsage(u) : null, Str(root, "model"))
        {
            Reasoning = Str(message, "reasoning_content") ?? Str(message, "reasoning"),
            Refusal = Str(message, "refusal"),
            // The whole answer, for a client of the same dialect (every choice, logprobs, annotations, unknown fields): lent, the
            // caller owns the document (HttpChatTransport: the completion takes it, or a copy is made).
            Raw = root,
        };

        static string? Str(JsonElement e, string name) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}
