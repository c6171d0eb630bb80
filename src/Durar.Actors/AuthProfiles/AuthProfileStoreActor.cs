using System.Collections.Immutable;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.AuthProfiles;

/// <summary>
/// The persisted auth-profile store (reference items 18–26): <c>api_key</c>, <c>token</c> and <c>oauth</c> profiles and
/// the per-provider stored order. Secrets are encrypted with <see cref="ISecretProtector"/> before they enter an event, and
/// decrypted only in memory. The store does not serve keys itself: a key actor serves each eligible profile like an
/// environment key and writes refreshed OAuth tokens back here (<see cref="CredentialRefreshed"/>).
/// <para>
/// Without Akka.Cluster there is one store per actor system, and after recovery and on every change it pushes each profile
/// straight to the provider registry (<see cref="ProviderCommands.UpsertCredential"/>). In a cluster it is one cluster
/// singleton for all nodes (the only writer of its persistence id in the shared journal) and pushes nothing itself: every
/// node's <see cref="AuthProfileSubscriberActor"/> subscribes (<see cref="AuthProfileSubscription.Subscribe"/>, watched),
/// and receives the whole credential set (<see cref="AuthProfileCredentials"/>) then and after every change.
/// </para>
/// </summary>
internal sealed class AuthProfileStoreActor : ReceivePersistentActor
{
    /// <summary>The store's persistence id: one store per actor system, or one per cluster (a singleton).</summary>
    public const string StorePersistenceId = "auth-profiles";

    private const int SnapshotEvery = 100;

    private readonly ISecretProtector _protector;
    private readonly IActorRef? _providers;
    private readonly KeyLeaseBoard? _board;
    private readonly IReadOnlySet<string> _knownProviders;
    private readonly ImmutableDictionary<string, AuthProfileSettings> _config;
    private readonly string? _announceTo;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>The profiles' secrets, decrypted in memory only.</summary>
    private readonly ProfileVault _vault;

    /// <summary>The nodes' subscribers (watched); each gets the credential set after every change.</summary>
    private readonly HashSet<IActorRef> _subscribers = [];

    /// <summary>This run of the store; with <see cref="_revision"/> it names the state of the credential set subscribers hold.</summary>
    private readonly string _incarnation = Guid.NewGuid().ToString("N");

    private long _revision;
    private AuthProfileState _state = AuthProfileState.Empty;

    public override string PersistenceId => StorePersistenceId;

    private AuthProfileRevision Revision => new(_incarnation, _revision);

    /// <param name="protector">Encrypts secrets before they are persisted.</param>
    /// <param name="providers">
    /// The provider registry, which routes credentials and orders to the provider actors; null in a cluster, where the nodes'
    /// subscribers receive them instead.
    /// </param>
    /// <param name="knownProviders">Provider ids of the catalog: a profile for another provider is rejected.</param>
    /// <param name="config">The config's <c>auth.profiles</c> metadata (provider and mode per id) that eligibility checks against.</param>
    /// <param name="announceTo">
    /// In a cluster, the actor name (under <c>/user</c>) of the subscriber on every member, told after recovery that this
    /// store runs (<see cref="AuthProfileSubscription.StoreStarted"/>); null = nobody is told.
    /// </param>
    /// <param name="board">This node's lease board: key changes sent to <paramref name="providers"/> are stamped on it first.</param>
    public AuthProfileStoreActor(ISecretProtector protector, IActorRef? providers, IReadOnlySet<string> knownProviders,
        ImmutableDictionary<string, AuthProfileSettings> config, string? announceTo = null, KeyLeaseBoard? board = null)
    {
        _board = board;
        _announceTo = announceTo;
        _protector = protector;
        _vault = new ProfileVault(protector, _log);
        _providers = providers;
        _knownProviders = knownProviders;
        _config = config;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is AuthProfileStoreSnapshot snapshot) _state = AuthProfileState.FromSnapshot(snapshot);
        });
        Recover<IAuthProfileEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Command<AuthProfileCommands.ListProfiles>(_ => Sender.Tell(List()));
        Command<AuthProfileCommands.UpsertProfile>(OnUpsert);
        Command<AuthProfileCommands.RemoveProfile>(OnRemove);
        Command<AuthProfileCommands.SetOrder>(OnSetOrder);
        Command<CredentialRefreshed>(OnRefreshed);
        Command<AuthProfileSubscription.Subscribe>(OnSubscribe);
        Command<Terminated>(t => _subscribers.Remove(t.ActorRef));
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(f => _log.Warning("Auth-profile snapshot failed: {Error}", f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("Could not delete old auth-profile events: {Error}", f.Cause.Message));
    }

    public static Props Props(ISecretProtector protector, IActorRef? providers, IReadOnlySet<string> knownProviders,
        ImmutableDictionary<string, AuthProfileSettings> config, string? announceTo = null, KeyLeaseBoard? board = null) =>
        Akka.Actor.Props.Create(() => new AuthProfileStoreActor(protector, providers, knownProviders, config, announceTo, board));

    /// <summary>A credential or order change to the providers, stamped on the lease board so the next lease sees it.</summary>
    private void ToProviders(IProviderCommand command) => _providers?.Tell(_board?.Stamp(command) ?? command);

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    /// <summary>Decrypts every profile once, serves the eligible ones, applies the stored orders, then opens the providers.</summary>
    private void OnRecovered()
    {
        foreach (var profile in _state.Profiles.Values)
        {
            _vault.Load(profile);
            Serve(profile);
        }
        if (_providers is not null)
        {
            foreach (var (provider, order) in _state.Orders) ToProviders(new ProviderCommands.SetOrder(provider, order));
            _providers.Tell(ProviderCommands.CredentialsLoaded.Instance);
        }
        // An empty store is the usual start: said at Debug, so that a healthy start stays quiet.
        _log.Log(_state.Profiles.Count + _state.Orders.Count == 0 ? LogLevel.DebugLevel : LogLevel.InfoLevel,
            "Auth-profile store recovered: {ProfileCount} profile(s), {OrderCount} stored order(s)", [_state.Profiles.Count, _state.Orders.Count]);
        Announce();
    }

    private void OnUpsert(AuthProfileCommands.UpsertProfile command)
    {
        var (valid, rejected) = AuthProfileRules.Validate(command.Input, _knownProviders);
        if (rejected is not null)
        {
            Sender.Tell(rejected);
            return;
        }
        AuthProfileEvents.ProfileUpserted upserted;
        bool created;
        try
        {
            (upserted, created) = AuthProfileRules.DecideUpsert(_state, valid!, _protector.Protect, Now);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            // The key ring could not be read or written; the message names the type only (it never holds the secret anyway).
            _log.Error("Auth profile [{ProfileId}] could not be encrypted: {ErrorType}", valid!.Id, e.GetType().Name);
            Sender.Tell(new AuthProfileNotSaved(valid.Id, $"The secret of profile {valid.Id} could not be encrypted ({e.GetType().Name})."));
            return;
        }
        var replyTo = Sender;
        Persist(upserted, e =>
        {
            Apply(e);
            _vault.Set(valid!.Id, valid.Secrets);
            var profile = _state.Profiles[valid.Id];
            var reason = Serve(profile);
            _log.Info("Auth profile [{ProfileId}] {Action} ({Type}){Eligibility}", profile.Id, created ? "created" : "updated", profile.Type,
                reason is null ? "" : ", not eligible: " + reason);
            Publish();
            replyTo.Tell(new AuthProfileSaved(AuthProfileRules.View(profile, valid.Secrets, reason), created) { Revision = Revision });
        });
    }

    private void OnRemove(AuthProfileCommands.RemoveProfile command)
    {
        if (!_state.Profiles.TryGetValue(command.ProfileId, out var profile))
        {
            Sender.Tell(new AuthProfileDeleted(command.ProfileId, false));
            return;
        }
        var replyTo = Sender;
        Persist(new AuthProfileEvents.ProfileRemoved(profile.Id, Now), e =>
        {
            Apply(e);
            _vault.Remove(profile.Id);
            ToProviders(new ProviderCommands.RemoveCredential(profile.Provider, profile.Id));
            _log.Info("Auth profile [{ProfileId}] deleted", profile.Id);
            Publish();
            replyTo.Tell(new AuthProfileDeleted(profile.Id, true) { Revision = Revision });
        });
    }

    private void OnSetOrder(AuthProfileCommands.SetOrder command)
    {
        var provider = ModelRef.NormalizeProvider(command.Provider);
        var (order, rejected) = AuthProfileRules.ValidateOrder(provider, command.Order, _knownProviders);
        if (rejected is not null)
        {
            Sender.Tell(rejected);
            return;
        }
        var replyTo = Sender;
        Persist(new AuthProfileEvents.OrderSet(provider, order, Now), e =>
        {
            Apply(e);
            ToProviders(new ProviderCommands.SetOrder(provider, order));
            Publish();
            replyTo.Tell(new AuthProfileOrderSaved(provider, order) { Revision = Revision });
        });
    }

    /// <summary>An OAuth key actor refreshed its access token: persist the new tokens (encrypted). The key already uses them.</summary>
    private void OnRefreshed(CredentialRefreshed refreshed)
    {
        if (!_state.Profiles.TryGetValue(refreshed.KeyId, out var profile) || profile.Type != CredentialTypes.OAuth) return;
        AuthProfileEvents.OAuthRefreshed e;
        try
        {
            e = new AuthProfileEvents.OAuthRefreshed(profile.Id,
                _protector.Protect(refreshed.AccessToken, SecretBinding.Of(profile.Id, "access")),
                _protector.Protect(refreshed.RefreshToken, SecretBinding.Of(profile.Id, "refresh")),
                AuthProfileRules.ToEpochMs(refreshed.ExpiresAt), Now);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            _log.Error("Refreshed tokens of auth profile [{ProfileId}] could not be encrypted: {ErrorType}", profile.Id, ex.GetType().Name);
            return;
        }
        Persist(e, persisted =>
        {
            Apply(persisted);
            _vault.Refreshed(profile.Id, refreshed.AccessToken, refreshed.RefreshToken);
            _log.Info("Auth profile [{ProfileId}]: refreshed access token stored, valid until {ExpiresAt}", profile.Id, refreshed.ExpiresAt);
            // The key already uses the new tokens; the nodes' copies follow, so none of them ever hands the key an older one.
            Publish();
        });
    }

    /// <summary>A node's subscriber (new, or subscribing again): watched, and sent the set unless it already holds this revision.</summary>
    private void OnSubscribe(AuthProfileSubscription.Subscribe subscribe)
    {
        if (_subscribers.Add(subscribe.Subscriber))
        {
            Context.Watch(subscribe.Subscriber);
            _log.Debug("Auth-profile subscriber [{Subscriber}] added ({SubscriberCount} in all)", subscribe.Subscriber.Path, _subscribers.Count);
        }
        if (subscribe.Known != Revision) subscribe.Subscriber.Tell(Credentials());
    }

    /// <summary>Tells the subscriber of every member (this one included) that this store runs, so they subscribe at once.</summary>
    private void Announce()
    {
        if (_announceTo is null || !ShardedKeys.IsClustered(Context.System)) return;
        foreach (var member in Akka.Cluster.Cluster.Get(Context.System).State.Members)
            if (member.Status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.WeaklyUp)
                Context.ActorSelection(new RootActorPath(member.Address) / "user" / _announceTo).Tell(AuthProfileSubscription.StoreStarted.Instance);
    }

    /// <summary>A change was persisted: a new revision, sent whole to every subscriber.</summary>
    private void Publish()
    {
        _revision++;
        if (_subscribers.Count == 0) return;
        var credentials = Credentials();
        foreach (var subscriber in _subscribers) subscriber.Tell(credentials);
    }

    /// <summary>The credential of every eligible profile, and every stored order, at the current revision.</summary>
    private AuthProfileCredentials Credentials()
    {
        var now = Now;
        var credentials = ImmutableArray.CreateBuilder<ApiKeyCredential>(_state.Profiles.Count);
        foreach (var profile in _state.Profiles.Values)
        {
            var secrets = _vault.Get(profile.Id);
            if (AuthProfileRules.Ineligibility(profile, secrets, _config.GetValueOrDefault(profile.Id), now) is null)
                credentials.Add(AuthProfileRules.ToCredential(profile, secrets!));
        }
        return new AuthProfileCredentials(Revision, credentials.ToImmutable(), _state.Orders);
    }

    private void Apply(IAuthProfileEvent e)
    {
        _state = _state.Apply(e);
        if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(_state.ToSnapshot());
    }

    /// <summary>
    /// Pushes an eligible profile to its provider, or takes an ineligible one away (when the store pushes to a registry
    /// itself); returns the ineligibility reason.
    /// </summary>
    private string? Serve(StoredProfile profile)
    {
        var secrets = _vault.Get(profile.Id);
        var reason = AuthProfileRules.Ineligibility(profile, secrets, _config.GetValueOrDefault(profile.Id), Now);
        if (_providers is null) return reason;
        if (reason is null) ToProviders(new ProviderCommands.UpsertCredential(profile.Provider, AuthProfileRules.ToCredential(profile, secrets!)));
        else ToProviders(new ProviderCommands.RemoveCredential(profile.Provider, profile.Id));
        return reason;
    }

    private AuthProfileList List()
    {
        var now = Now;
        var views = _state.Profiles.Values
            .Select(p =>
            {
                var secrets = _vault.Get(p.Id);
                return AuthProfileRules.View(p, secrets, AuthProfileRules.Ineligibility(p, secrets, _config.GetValueOrDefault(p.Id), now));
            })
            .ToImmutableArray();
        return new AuthProfileList(views, _state.Orders);
    }
}
