using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Providers;

/// <summary>
/// The parent of every provider actor: it creates one per catalog provider at start and routes provider commands by id.
/// An unknown provider id is answered, never dropped, so a caller never waits for a timeout. When auth profiles are enabled
/// it holds key leases until the auth-profile store has pushed its recovered profiles (or a timeout passes), so requests
/// right after a restart do not miss them.
/// </summary>
internal sealed class ProviderRegistryActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    private const string ProfilesTimer = "profiles-loaded";

    private readonly ProviderCatalog _catalog;
    private readonly KeySources _keys;
    private readonly DurarSettings _settings;
    private readonly TimeSpan _collectTimeout;
    private readonly IOAuthTokenClient? _tokens;
    private readonly bool _awaitProfiles;
    private readonly IKeyHosting? _hosting;
    private readonly KeyLeaseBoard? _board;
    private readonly Dictionary<string, IActorRef> _providers = new(StringComparer.Ordinal);

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    public ProviderRegistryActor(ProviderCatalog catalog, KeySources keys, DurarSettings settings, IOAuthTokenClient? tokens = null,
        bool awaitProfiles = false, IKeyHosting? hosting = null, KeyLeaseBoard? board = null)
    {
        _hosting = hosting;
        _board = board;
        _catalog = catalog;
        _keys = keys;
        _settings = settings;
        _tokens = tokens;
        _awaitProfiles = awaitProfiles;
        _collectTimeout = settings.Gateway.AskTimeout;
        if (awaitProfiles) AwaitingProfiles();
        else Serving();
    }

    /// <summary>Credentials and orders from the store go through; leases and everything else wait for <see cref="ProviderCommands.CredentialsLoaded"/>.</summary>
    private void AwaitingProfiles()
    {
        Receive<ProviderCommands.CredentialsLoaded>(_ => BecomeServing());
        Receive<ProfilesNotLoaded>(_ =>
        {
            Context.GetLogger().Warning("The auth-profile store did not load within {Timeout}; serving without its profiles until it does",
                _settings.Auth.Keys.ProfilesLoadTimeout);
            BecomeServing();
        });
        Receive<ProviderCommands.UpsertCredential>(Route);
        Receive<ProviderCommands.RemoveCredential>(Route);
        Receive<ProviderCommands.SetOrder>(Route);
        ReceiveAny(_ => Stash.Stash());
    }

    private void BecomeServing()
    {
        Timers.Cancel(ProfilesTimer);
        Become(Serving);
        Stash.UnstashAll();
    }

    private void Serving()
    {
        _board?.Open();
        Receive<ProviderCommands.GetAllProviderStates>(_ =>
            Context.ActorOf(ProviderStateCollectorActor.Props(Sender, _providers.Values.ToImmutableArray(), _collectTimeout)));
        Receive<ProviderCommands.CredentialsLoaded>(_ => { });
        Receive<ProfilesNotLoaded>(_ => { });
        Receive<IProviderCommand>(Route);
    }

    private void Route(IProviderCommand command)
    {
        // A GitHub token stored by `durar auth login github-copilot` (or `auth add`) is exchanged like a configured one.
        if (command is ProviderCommands.UpsertCredential upsert && _catalog.Providers.TryGetValue(upsert.ProviderId, out var definition))
            command = upsert with { Credential = OAuthGrantKinds.ForProvider(definition, [upsert.Credential], _settings.Copilot.TokenUrl)[0] };
        if (_providers.TryGetValue(command.ProviderId, out var provider)) provider.Forward(command);
        else if (command is ProviderCommands.ResetKey reset) Sender.Tell(new KeyResetDone(reset.KeyId, false));
        else if (command is ProviderCommands.UpsertCredential or ProviderCommands.RemoveCredential or ProviderCommands.SetOrder)
            Context.GetLogger().Warning("No provider [{ProviderId}] for {Command}; ignored", command.ProviderId, command.GetType().Name);
        else if (command is ProviderCommands.AcquireKey)
            Sender.Tell(new NoKeyAvailable(command.ProviderId, $"Unknown provider \"{command.ProviderId}\".", Resilience.FailoverReason.ModelNotFound, null));
        else Sender.Tell(new Status.Failure(new KeyNotFoundException($"unknown provider {command.ProviderId}")));
    }

    /// <param name="tokens">Refreshes OAuth auth profiles; null = they are never refreshed.</param>
    /// <param name="awaitProfiles">Hold leases until the auth-profile store sends <see cref="ProviderCommands.CredentialsLoaded"/>.</param>
    /// <param name="hosting">Where key actors live (the key shard region in a cluster); null = each provider's own.</param>
    /// <param name="board">Where provider actors publish their keys for leases without a message (opened once this registry serves).</param>
    public static Props Props(ProviderCatalog catalog, KeySources keys, DurarSettings settings, IOAuthTokenClient? tokens = null,
        bool awaitProfiles = false, IKeyHosting? hosting = null, KeyLeaseBoard? board = null) =>
        Akka.Actor.Props.Create(() => new ProviderRegistryActor(catalog, keys, settings, tokens, awaitProfiles, hosting, board));

    private sealed class ProfilesNotLoaded : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        public static readonly ProfilesNotLoaded Instance = new();
        private ProfilesNotLoaded() { }
    }

    protected override void PostStop() => _board?.Close();

    protected override void PreStart()
    {
        foreach (var provider in _catalog.Providers.Values.OrderBy(p => p.Id, StringComparer.Ordinal))
        {
            var keys = provider.KeyOptional && _keys.Collect(provider) is { IsEmpty: true }
                ? [ApiKeyCredential.Keyless(provider.Id)]
                : _keys.Collect(provider);
            keys = OAuthGrantKinds.ForProvider(provider, keys, _settings.Copilot.TokenUrl);
            var order = _settings.Auth.Order.GetValueOrDefault(provider.Id, []);
            _providers[provider.Id] = Context.ActorOf(
                ProviderActor.Props(provider, keys, order, _settings.Auth.Keys, _settings.Gateway.Failover, _tokens, _hosting, _board),
                ActorNames.Provider(provider.Id));
        }
        if (_awaitProfiles) Timers.StartSingleTimer(ProfilesTimer, ProfilesNotLoaded.Instance, _settings.Auth.Keys.ProfilesLoadTimeout);
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
