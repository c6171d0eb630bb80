using System.Collections.Immutable;
using Durar.Actors.Catalog;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Transports;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Actors.Tests.Transports;

/// <summary>
/// The transports as production wires them (the named upstream client with its real handler, <see cref="TransportRegistry"/>)
/// in front of a <see cref="FakeProvider"/> on 127.0.0.1, so transport specs go through real sockets, HTTP and framing.
/// </summary>
internal sealed class UpstreamHarness : IAsyncDisposable
{
    public const string ProviderId = "fake-upstream";
    public const string ApiKey = "sk-harness";

    private readonly ServiceProvider _services;

    private UpstreamHarness(FakeProvider fake, UpstreamSettings settings)
    {
        Fake = fake;
        Settings = settings;
        _services = new ServiceCollection().AddUpstreamHttpClient(settings).Services.BuildServiceProvider();
        Registry = new TransportRegistry(HttpClients, settings);
    }

    public FakeProvider Fake { get; }

    public UpstreamSettings Settings { get; }

    public TransportRegistry Registry { get; }

    /// <summary>The production client factory (for transports built outside the registry).</summary>
    public IHttpClientFactory HttpClients => _services.GetRequiredService<IHttpClientFactory>();

    public static async Task<UpstreamHarness> StartAsync(UpstreamSettings? settings = null) =>
        new(await FakeProvider.StartAsync(), settings ?? UpstreamSettings.Defaults);

    public IChatTransport Transport(string api) => Registry.Find(api) ?? throw new ArgumentException($"no transport for {api}");

    /// <summary>One call to the fake on <paramref name="api"/>'s wire, asking for "hi there".</summary>
    public UpstreamCall Call(string api, bool stream, TimeSpan? idleTimeout = null, string? baseUrl = null)
    {
        var provider = new ProviderDefinition
        {
            Id = ProviderId,
            Name = "Fake upstream",
            Api = api,
            BaseUrl = baseUrl ?? BaseUrl(api),
            Auth = "api-key",
            Headers = ImmutableDictionary<string, string>.Empty.Add("x-harness", "yes"),
        };
        var request = new ChatRequest { Messages = [new ChatMessage("user", "hi there")], Stream = stream };
        return new UpstreamCall(new ResolvedModel(provider, ModelDefinition.PassThrough("fake-model"), null), ApiKey, request,
            idleTimeout ?? TimeSpan.FromSeconds(30));
    }

    /// <summary>The base URL the fake serves <paramref name="api"/> under.</summary>
    public string BaseUrl(string api) => api == ApiKinds.AnthropicMessages ? Fake.AnthropicBaseUrl : Fake.OpenAiBaseUrl.TrimEnd('/');

    /// <summary>Reads a stream to its end; a failure is returned with the events that came before it.</summary>
    public static async Task<(List<ChatEvent> Events, Exception? Failure)> DrainAsync(IAsyncEnumerable<ChatEvent> stream,
        CancellationToken cancellationToken = default)
    {
        var events = new List<ChatEvent>();
        try
        {
            await foreach (var e in stream.WithCancellation(cancellationToken)) events.Add(e);
            return (events, null);
        }
        catch (Exception e)
        {
            return (events, e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Fake.DisposeAsync();
    }
}
