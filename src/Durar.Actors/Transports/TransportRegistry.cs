using System.Collections.Frozen;
using Durar.Actors.Configuration;
using Durar.Actors.Transports.Anthropic;
using Durar.Actors.Transports.OpenAi;

namespace Durar.Actors.Transports;

/// <summary>
/// Maps an API family to its transport. A family without one is reported to the client, not thrown. A new HTTP wire is a
/// <see cref="HttpChatTransport{TFrame}"/> registered here under its <see cref="ApiKinds"/> name.
/// </summary>
internal sealed class TransportRegistry
{
    private readonly FrozenDictionary<string, IChatTransport> _transports;

    /// <summary>The transports with <c>gateway.upstream</c> as the built-in defaults file sets it.</summary>
    public TransportRegistry(IHttpClientFactory httpClientFactory)
        : this(httpClientFactory, UpstreamSettings.Defaults)
    {
    }

    public TransportRegistry(IHttpClientFactory httpClientFactory, UpstreamSettings upstream)
    {
        _transports = new Dictionary<string, IChatTransport>
        {
            [ApiKinds.OpenAiCompletions] = new OpenAiCompletionsTransport(httpClientFactory, upstream),
            [ApiKinds.AnthropicMessages] = new AnthropicMessagesTransport(httpClientFactory, upstream),
            [ApiKinds.Ollama] = new Ollama.OllamaChatTransport(httpClientFactory, upstream),
            [ApiKinds.OpenAiResponses] = new OpenAiResponses.OpenAiResponsesTransport(httpClientFactory, upstream),
            [ApiKinds.OpenAiChatGptResponses] = new OpenAiResponses.OpenAiCodexTransport(httpClientFactory, upstream),
            [ApiKinds.Echo] = new EchoTransport(),
        }.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public IChatTransport? Find(string api) => _transports.GetValueOrDefault(api);

    /// <summary>The embeddings endpoint of an API family, or null when its wire has none (<c>anthropic-messages</c>).</summary>
    public IEmbeddingTransport? FindEmbeddings(string api) => _transports.GetValueOrDefault(api) as IEmbeddingTransport;

    public IEnumerable<string> Supported => _transports.Keys;
}
