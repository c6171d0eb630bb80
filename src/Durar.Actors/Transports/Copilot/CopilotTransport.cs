using System.Collections.Concurrent;
using System.Collections.Immutable;
using Durar.Actors.Catalog;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Transports.OpenAi;

namespace Durar.Actors.Transports.Copilot;

/// <summary>
/// The <c>github-copilot</c> transport: GitHub Copilot's OpenAI-compatible chat endpoint, <c>POST {endpoints.api}/chat/completions</c>
/// with the Copilot token as bearer and the editor headers Copilot requires (<see cref="CopilotHeaders"/>). The mapping is the
/// OpenAI wire's (<see cref="OpenAiCompletionsTransport"/>, every field, stream and error as there); this type only points
/// each call at the host its token belongs to and adds the headers.
/// </summary>
/// <remarks>
/// The secret a Copilot key leases is not the GitHub token: its key actor exchanges that for a Copilot token
/// (<see cref="CopilotTokenExchange"/>) and refreshes it before it expires, so every call here carries a live token and the
/// host packed with it (<see cref="CopilotSession"/>). The retargeted provider is built once per host, not per call.
/// </remarks>
internal sealed class CopilotTransport(IHttpClientFactory httpClients, UpstreamSettings upstream) : IChatTransport
{
    private readonly OpenAiCompletionsTransport _openAi = new(httpClients, upstream);
    private readonly ConcurrentDictionary<(ProviderDefinition Provider, string? Api), ProviderDefinition> _targets = new();

    public Task<ChatCompletion> CompleteAsync(UpstreamCall call, CancellationToken cancellationToken) =>
        _openAi.CompleteAsync(Retarget(call), cancellationToken);

    public IAsyncEnumerable<ChatEvent> StreamAsync(UpstreamCall call, CancellationToken cancellationToken) =>
        _openAi.StreamAsync(Retarget(call), cancellationToken);

    public ImmutableArray<string> Dropped(ChatRequest request, ResolvedModel target) => _openAi.Dropped(request, target);

    public UnsupportedField? Unsupported(ChatRequest request, ResolvedModel target) => _openAi.Unsupported(request, target);

    /// <summary>The call as the OpenAI wire sends it: the token's host as base URL, the token as key, Copilot's headers.</summary>
    private UpstreamCall Retarget(UpstreamCall call)
    {
        var (api, token) = call.ApiKey is { } secret ? CopilotSession.Unpack(secret) : (null, null);
        var provider = call.Target.Provider;
        if (!_targets.TryGetValue((provider, api), out var target))
        {
            var headers = CopilotHeaders.Chat;
            foreach (var (name, value) in provider.Headers) headers = headers.SetItem(name, value); // configured headers win
            target = provider with { BaseUrl = api ?? provider.BaseUrl, Headers = headers };
            if (_targets.Count < 256) _targets.TryAdd((provider, api), target); // hosts come from GitHub's answers: bounded anyway
        }
        return call with { Target = call.Target with { Provider = target }, ApiKey = token };
    }
}
