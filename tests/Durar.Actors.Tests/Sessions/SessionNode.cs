using System.Collections.Immutable;
using System.Text.Json;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit;
using Durar.Actors.Catalog;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Providers;
using Durar.Actors.Routing;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Actors.Transports;
using Durar.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// What a session actor needs from its node, built the production way for actor specs: the provider registry with its
/// provider and key actors, the request runner over real transports, and the model resolver, all for one fake provider
/// (<c>fake/m</c>, the OpenAI wire) served by a <see cref="FakeProvider"/>. Sessions are started under their key's name,
/// as sharding starts them.
/// </summary>
internal sealed class SessionNode(TestKitBase kit, FakeProvider fake)
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private IActorRef? _providers;
    private readonly SocketsHttpHandler _handler = new();

    /// <summary>The settings of a node serving <c>fake/m</c> with <paramref name="sessions"/> as <c>gateway.sessions</c>.</summary>
    public DurarSettings Settings(string sessions = "") => DurarSettingsLoader.Load(DurarSettingsLoader.FromText($$"""
        models {
          providers {
            fake { baseUrl = "{{fake.OpenAiBaseUrl}}", apiKey = "sk-session-spec-0001", api = "openai-completions", models = [{ id = "m" }] }
          }
        }
        agents { defaults { model { primary = "fake/m" } } }
        gateway {
          failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s }
          sessions { {{sessions}} }
        }
        """));

    /// <summary>Starts a session entity named by <paramref name="key"/>, with <paramref name="sessions"/> as its settings.</summary>
    public IActorRef Start(string key, string sessions = "")
    {
        var settings = Settings(sessions);
        var catalog = new ProviderCatalog(settings);
        _providers ??= kit.Sys.ActorOf(ProviderRegistryActor.Props(catalog, KeySources.FromEnvironment(settings.Env), settings), ActorNames.Providers);
        var runner = new ChatRunner(_providers, new TransportRegistry(new Clients(_handler)), settings.Gateway, NullLogger<ChatRunner>.Instance);
        var services = new SessionServices(runner, new ModelResolver(catalog, settings.Agents), settings);
        return kit.Sys.ActorOf(SessionActor.Props(services), Uri.EscapeDataString(key));
    }

    /// <summary>Sends a message and expects it accepted (journaled and queued); the reply's events are read from then on.</summary>
    public Task<IImmutableList<ChatEvent>> Send(IActorRef session, string key, string content, QueueMode? mode = null)
    {
        session.Tell(new SessionCommands.SendMessage(key, content, mode), kit.TestActor);
        return Read(kit.ExpectMsg<TurnAccepted>(Patience));
    }

    /// <summary>Reads a reply to its end.</summary>
    public Task<IImmutableList<ChatEvent>> Read(TurnAccepted accepted) =>
        accepted.Events.Source.RunWith(Sink.Seq<ChatEvent>(), kit.Sys.Materializer()).WaitAsync(Patience);

    public SessionView View(IActorRef session, string key)
    {
        session.Tell(new SessionCommands.GetSession(key), kit.TestActor);
        return kit.ExpectMsg<SessionView>(Patience);
    }

    public TranscriptPage Transcript(IActorRef session, string key)
    {
        session.Tell(new SessionCommands.GetMessages(key, 0, 100), kit.TestActor);
        return kit.ExpectMsg<TranscriptPage>(Patience);
    }

    /// <summary>The text of a reply's deltas.</summary>
    public static string Text(IEnumerable<ChatEvent> events) => string.Concat(events.OfType<TextDelta>().Select(d => d.Text));

    /// <summary>The messages an upstream request carried, as <c>role:content</c>.</summary>
    public static IReadOnlyList<string> Messages(RecordedRequest request) =>
        [.. request.Json.RootElement.GetProperty("messages").EnumerateArray()
            .Select(m => m.GetProperty("role").GetString() + ":" + Content(m.GetProperty("content")))];

    /// <summary>The last user message of an upstream request: which turn it runs.</summary>
    public static string LastUser(RecordedRequest request) =>
        Messages(request).Last(m => m.StartsWith("user:", StringComparison.Ordinal))["user:".Length..];

    private static string Content(JsonElement content) => content.ValueKind == JsonValueKind.String
        ? content.GetString()!
        : string.Concat(content.EnumerateArray().Select(p => p.GetProperty("text").GetString()));

    /// <summary>Upstream clients over one handler, as the gateway's client factory hands them out.</summary>
    private sealed class Clients(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
    }
}
