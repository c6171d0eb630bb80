using System.Collections.Frozen;
using Durar.Actors.Configuration;
using Durar.Actors.Transports.Anthropic;
using Durar.Actors.Transports.OpenAi;

namespace Durar.Actors.Transports;

/// <summary>Maps an API family to its transport. A family without one is reported to the client, not thrown.</summary>
public sealed class TransportRegistry
{
    private readonly FrozenDictionary<string, IChatTransport> _transports;

    public TransportRegistry(IHttpClientFactory httpClientFactory)
    {
        _transports = new Dictionary<string, IChatTransport>
        {
            [ApiKinds.OpenAiCompletions] = new OpenAiCompletionsTransport(httpClientFactory),
            [ApiKinds.AnthropicMessages] = new AnthropicMessagesTransport(httpClientFactory),
            [ApiKinds.Echo] = new EchoTransport(),
        }.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public IChatTransport? Find(string api) => _transports.GetValueOrDefault(api);

    public IEnumerable<string> Supported => _transports.Keys;
}
