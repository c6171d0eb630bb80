using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Providers;

/// <summary>
/// The parent of every provider actor: it creates one per catalog provider at start and routes provider commands by id.
/// An unknown provider id is answered, never dropped, so a caller never waits for a timeout.
/// </summary>
public sealed class ProviderRegistryActor : ReceiveActor
{
    private readonly ProviderCatalog _catalog;
    private readonly KeySources _keys;
    private readonly DurarSettings _settings;
    private readonly TimeSpan _collectTimeout;
    private readonly Dictionary<string, IActorRef> _providers = new(StringComparer.Ordinal);

    public ProviderRegistryActor(ProviderCatalog catalog, KeySources keys, DurarSettings settings)
    {
        _catalog = catalog;
        _keys = keys;
        _settings = settings;
        _collectTimeout = settings.Gateway.AskTimeout;
        Receive<ProviderCommands.GetAllProviderStates>(_ =>
            Context.ActorOf(ProviderStateCollectorActor.Props(Sender, _providers.Values.ToImmutableArray(), _collectTimeout)));
        Receive<IProviderCommand>(command =>
        {
            if (_providers.TryGetValue(command.ProviderId, out var provider)) provider.Forward(command);
            else if (command is ProviderCommands.ResetKey reset) Sender.Tell(new KeyResetDone(reset.KeyId, false));
            else if (command is ProviderCommands.AcquireKey)
                Sender.Tell(new NoKeyAvailable(command.ProviderId, $"Unknown provider \"{command.ProviderId}\".", Resilience.FailoverReason.ModelNotFound, null));
            else Sender.Tell(new Status.Failure(new KeyNotFoundException($"unknown provider {command.ProviderId}")));
        });
    }

    public static Props Props(ProviderCatalog catalog, KeySources keys, DurarSettings settings) =>
        Akka.Actor.Props.Create(() => new ProviderRegistryActor(catalog, keys, settings));

    protected override void PreStart()
    {
        foreach (var provider in _catalog.Providers.Values.OrderBy(p => p.Id, StringComparer.Ordinal))
        {
            var keys = provider.KeyOptional && _keys.Collect(provider) is { IsEmpty: true }
                ? [ApiKeyCredential.Keyless(provider.Id)]
                : _keys.Collect(provider);
            var order = _settings.Auth.Order.GetValueOrDefault(provider.Id, []);
            _providers[provider.Id] = Context.ActorOf(
                ProviderActor.Props(provider, keys, order, _settings.Auth.Cooldowns, _settings.Gateway.Failover), ActorNames.Provider(provider.Id));
        }
    }
}

/// <summary>Gathers one state snapshot from every provider for the operator surface (scatter-gather, no Ask).</summary>
internal sealed class ProviderStateCollectorActor : ReceiveActor, IWithTimers
{
    private readonly IActorRef _replyTo;
    private readonly int _expected;
    private readonly ImmutableArray<IActorRef> _providers;
    private readonly TimeSpan _timeout;
    private readonly List<ProviderStateView> _views = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public ProviderStateCollectorActor(IActorRef replyTo, ImmutableArray<IActorRef> providers, TimeSpan timeout)
    {
        _replyTo = replyTo;
        _expected = providers.Length;
        _providers = providers;
        _timeout = timeout;
        Receive<ProviderStateView>(view =>
        {
            _views.Add(view);
            if (_views.Count == _expected) Finish();
        });
        Receive<CollectTimeout>(_ => Finish());
    }

    protected override void PreStart()
    {
        foreach (var provider in _providers) provider.Tell(new ProviderCommands.GetProviderState(""), Self);
        if (_expected == 0) Self.Tell(CollectTimeout.Instance);
        else Timers.StartSingleTimer(CollectTimeout.Instance, CollectTimeout.Instance, _timeout);
    }

    public static Props Props(IActorRef replyTo, ImmutableArray<IActorRef> providers, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new ProviderStateCollectorActor(replyTo, providers, timeout));

    private void Finish()
    {
        _replyTo.Tell(new ProviderStates(_views.OrderBy(v => v.ProviderId, StringComparer.Ordinal).ToImmutableArray()));
        Context.Stop(Self);
    }

    private sealed class CollectTimeout : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        public static readonly CollectTimeout Instance = new();
        private CollectTimeout() { }
    }
}
