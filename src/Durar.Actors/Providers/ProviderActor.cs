using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Durar.Actors.Catalog;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Providers;

/// <summary>
/// One provider. It owns the provider's key actors (one child per key), knows each key's latest state from their pushes,
/// and decides which key serves the next attempt: the request is forwarded to that key actor, which answers the caller.
/// </summary>
public sealed class ProviderActor : ReceiveActor
{
    private readonly ProviderDefinition _provider;
    private readonly ImmutableArray<ApiKeyCredential> _credentials;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<KeySlot> _slots = [];

    private sealed class KeySlot(ApiKeyCredential credential, IActorRef actor)
    {
        public ApiKeyCredential Credential { get; } = credential;
        public IActorRef Actor { get; } = actor;
        public KeyStateView? View { get; set; }
        public long LastLeasedTicks { get; set; }
    }

    public ProviderActor(ProviderDefinition provider, ImmutableArray<ApiKeyCredential> credentials)
    {
        _provider = provider;
        _credentials = credentials;
        Receive<ProviderCommands.AcquireKey>(OnAcquire);
        Receive<KeyStateChanged>(OnKeyState);
        Receive<ProviderCommands.GetProviderState>(_ => Sender.Tell(View()));
    }

    public static Props Props(ProviderDefinition provider, ImmutableArray<ApiKeyCredential> credentials) =>
        Akka.Actor.Props.Create(() => new ProviderActor(provider, credentials));

    protected override void PreStart()
    {
        foreach (var credential in _credentials)
        {
            var child = Context.ActorOf(KeyActor.Props(credential), ActorNames.Key(credential.Id));
            _slots.Add(new KeySlot(credential, child));
        }
        _log.Debug("Provider [{ProviderId}] started with {KeyCount} key(s)", _provider.Id, _slots.Count);
    }

    private void OnAcquire(ProviderCommands.AcquireKey request)
    {
        if (_slots.Count == 0)
        {
            Sender.Tell(new NoKeyAvailable(_provider.Id, $"No API keys configured for provider \"{_provider.Id}\".", FailoverReason.Auth, null));
            return;
        }
        KeySlot? chosen = null;
        foreach (var slot in _slots)
        {
            if (request.Excluded.Contains(slot.Credential.Id)) continue;
            // Least recently leased first: round-robin across keys that are all healthy.
            if (chosen is null || slot.LastLeasedTicks < chosen.LastLeasedTicks) chosen = slot;
        }
        if (chosen is null)
        {
            Sender.Tell(new NoKeyAvailable(_provider.Id, $"Every key of provider \"{_provider.Id}\" was tried.", FailoverReason.RateLimit, null));
            return;
        }
        chosen.LastLeasedTicks = DateTime.UtcNow.Ticks;
        chosen.Actor.Forward(request);
    }

    private void OnKeyState(KeyStateChanged changed)
    {
        var slot = _slots.Find(s => s.Credential.Id == changed.View.KeyId);
        if (slot is not null) slot.View = changed.View;
    }

    private ProviderStateView View() => new(_provider.Id, _provider.Api, _provider.BaseUrl,
        _slots.Select(s => s.View ?? new KeyStateView(s.Credential.Id, s.Credential.Masked, s.Credential.Source, "ready", null, null, 0,
            ImmutableDictionary<string, int>.Empty, null, 0, 0)).ToImmutableArray());
}
