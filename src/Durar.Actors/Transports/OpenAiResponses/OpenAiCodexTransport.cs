using System.Collections.Immutable;
using System.Net.Http.Headers;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Transports.Anthropic;

namespace Durar.Actors.Transports.OpenAiResponses;

/// <summary>
/// The <c>openai-chatgpt-responses</c> transport (<c>openai-codex</c>): the Responses wire against the ChatGPT backend,
/// <c>POST {baseUrl}/codex/responses</c> (<c>https://chatgpt.com/backend-api</c>), with the headers the Codex CLI sends:
/// <c>chatgpt-account-id</c> (the <c>chatgpt_account_id</c> claim of the OAuth access token), <c>OpenAI-Beta:
/// responses=experimental</c> and <c>originator</c>. The credential is an OAuth auth profile's access token, refreshed by
/// the key actor as every OAuth key. The backend streams only: a non-streaming request is streamed and folded into one
/// answer (<see cref="ChatEventCollector"/>). The system prompt goes as <c>instructions</c>; <c>store</c> is always false.
/// </summary>
internal sealed class OpenAiCodexTransport(IHttpClientFactory httpClients, UpstreamSettings upstream)
    : OpenAiResponsesTransport(httpClients, upstream), IChatTransport
{
    public const string Originator = "codex_cli_rs";

    /// <summary>The fields the ChatGPT backend does not take, reported in <c>x-durar-dropped</c> when the client set them.</summary>
    private static readonly ImmutableArray<string> NotTaken = ["max_tokens", "max_completion_tokens", "temperature", "top_p"];

    /// <summary>The last access token read and its account id: one token serves many requests until it is refreshed.</summary>
    private volatile Tuple<string, string?>? _account;

    protected override string RequestPath(UpstreamCall call, bool stream) => "/codex/responses";

    protected override void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream) => ResponsesRequestWriter.Write(w, call, stream, chatGpt: true);

    protected override void AddWireHeaders(HttpRequestHeaders headers, UpstreamCall call)
    {
        headers.TryAddWithoutValidation("OpenAI-Beta", "responses=experimental");
        headers.TryAddWithoutValidation("originator", Originator);
        if (call.ApiKey is { Length: > 0 } token && AccountId(token) is { } account) headers.TryAddWithoutValidation("chatgpt-account-id", account);
    }

    public override UnsupportedField? Unsupported(ChatRequest request, ResolvedModel target) => Refused(request, target);

    public override ImmutableArray<string> Dropped(ChatRequest request, ResolvedModel target)
    {
        var dropped = ImmutableArray.CreateBuilder<string>();
        foreach (var (name, value) in AnthropicFields.ClientFields(request))
            if (value.ValueKind != JsonValueKind.Null && NotTaken.Contains(name)) dropped.Add(name);
        if (request.Original is null && request.MaxTokens is not null && !dropped.Contains("max_tokens")) dropped.Add("max_tokens");
        return dropped.ToImmutable();
    }

    /// <summary>The Responses table, and <c>store: true</c>: the ChatGPT backend keeps nothing.</summary>
    public static UnsupportedField? Refused(ChatRequest request, ResolvedModel target) =>
        ResponsesFields.Unsupported(request, target)
        ?? (AnthropicFields.Field(request, "store") is { ValueKind: JsonValueKind.True }
            ? ResponsesFields.Refuse(target, "store", "`store` = true: the ChatGPT backend keeps no responses")
            : null);

    /// <summary>A non-streaming request on a stream-only backend: the stream, folded into one answer.</summary>
    async Task<ChatCompletion> IChatTransport.CompleteAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        var collector = new ChatEventCollector();
        StreamOpened? opened = null;
        await foreach (var e in StreamAsync(call, cancellationToken).ConfigureAwait(false))
        {
            if (e is StreamOpened o) opened = o;
            else collector.Add(e);
        }
        var completion = collector.ToCompletion(call.Target.Model.Id);
        return opened is null ? completion : completion with { Hints = opened.Hints, Headers = opened.Headers };
    }

    /// <summary>
    /// The <c>chatgpt_account_id</c> claim of a ChatGPT OAuth access token (a JWT: its payload's
    /// <c>https://api.openai.com/auth</c> object), read without verifying it (the backend does); null for any other token.
    /// </summary>
    public string? AccountId(string token)
    {
        if (_account is { } last && ReferenceEquals(last.Item1, token)) return last.Item2;
        var id = ReadAccountId(token);
        _account = Tuple.Create(token, id);
        return id;
    }

    public static string? ReadAccountId(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3) return null;
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
            using var doc = JsonDocument.Parse(Convert.FromBase64String(payload));
            return doc.RootElement.TryGetProperty("https://api.openai.com/auth", out var auth) && auth.ValueKind == JsonValueKind.Object
                   && auth.TryGetProperty("chatgpt_account_id", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }
}
