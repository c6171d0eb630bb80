using System.Collections.Immutable;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using Akka.Pattern;
using Akka.Hosting;
using Akka.Persistence;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.Models;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.AuthProfiles;

/// <summary>
/// The persisted auth-profile store (reference items 18–26): <c>api_key</c>, <c>token</c> and <c>oauth</c> profiles and
/// the per-provider stored order, one store per node. Secrets are encrypted with <see cref="ISecretProtector"/> before they
/// enter an event, and decrypted only in memory. The store does not serve keys itself: after recovery and on every change
/// it pushes each eligible profile to its provider (<see cref="ProviderCommands.UpsertCredential"/>), where a key actor
/// serves it like an environment key and writes refreshed OAuth tokens back here (<see cref="CredentialRefreshed"/>).
/// </summary>
public sealed class AuthProfileStoreActor : ReceivePersistentActor
{
    /// <summary>The store's persistence id (one store per node for now).</summary>
    public const string StorePersistenceId = "auth-profiles";

    private const int SnapshotEvery = 100;

    private readonly ISecretProtector _protector;
    private readonly IActorRef _providers;
    private readonly IReadOnlySet<string> _knownProviders;
    private readonly ImmutableDictionary<string, AuthProfileSettings> _config;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Decrypted secrets by profile id; null when a profile's ciphertext cannot be decrypted (key ring lost).</summary>
    private readonly Dictionary<string, ProfileSecrets?> _secrets = new(StringComparer.Ordinal);

    private AuthProfileState _state = AuthProfileState.Empty;

    public override string PersistenceId => StorePersistenceId;

    /// <param name="protector">Encrypts secrets before they are persisted.</param>
    /// <param name="providers">The provider registry, which routes credentials and orders to the provider actors.</param>
    /// <param name="knownProviders">Provider ids of the catalog: a profile for another provider is rejected.</param>
    /// <param name="config">The config's <c>auth.profiles</c> metadata (provider and mode per id) that eligibility checks against.</param>
    public AuthProfileStoreActor(ISecretProtector protector, IActorRef providers, IReadOnlySet<string> knownProviders,
        ImmutableDictionary<string, AuthProfileSettings> config)
    {
        _protector = protector;
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
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(f => _log.Warning("Auth-profile snapshot failed: {Error}", f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("Could not delete old auth-profile events: {Error}", f.Cause.Message));
    }

    public static Props Props(ISecretProtector protector, IActorRef providers, IReadOnlySet<string> knownProviders,
        ImmutableDictionary<string, AuthProfileSettings> config) =>
        Akka.Actor.Props.Create(() => new AuthProfileStoreActor(protector, providers, knownProviders, config));

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    /// <summary>Decrypts every profile once, serves the eligible ones, applies the stored orders, then opens the providers.</summary>
    private void OnRecovered()
    {
        foreach (var profile in _state.Profiles.Values)
        {
            _secrets[profile.Id] = Decrypt(profile);
            Serve(profile);
        }
        foreach (var (provider, order) in _state.Orders) _providers.Tell(new ProviderCommands.SetOrder(provider, order));
        _providers.Tell(ProviderCommands.CredentialsLoaded.Instance);
        _log.Info("Auth-profile store recovered: {ProfileCount} profile(s), {OrderCount} stored order(s)", _state.Profiles.Count, _state.Orders.Count);
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
            Sender.Tell(new Status.Failure(new InvalidOperationException($"The secret of profile {valid.Id} could not be encrypted ({e.GetType().Name}).")));
            return;
        }
        var replyTo = Sender;
        Persist(upserted, e =>
        {
            Apply(e);
            _secrets[valid!.Id] = valid.Secrets;
            var profile = _state.Profiles[valid.Id];
            var reason = Serve(profile);
            _log.Info("Auth profile [{ProfileId}] {Action} ({Type}){Eligibility}", profile.Id, created ? "created" : "updated", profile.Type,
                reason is null ? "" : ", not eligible: " + reason);
            replyTo.Tell(new AuthProfileSaved(AuthProfileRules.View(profile, valid.Secrets, reason), created));
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
            _secrets.Remove(profile.Id);
            _providers.Tell(new ProviderCommands.RemoveCredential(profile.Provider, profile.Id));
            _log.Info("Auth profile [{ProfileId}] deleted", profile.Id);
            replyTo.Tell(new AuthProfileDeleted(profile.Id, true));
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
            _providers.Tell(new ProviderCommands.SetOrder(provider, order));
            replyTo.Tell(new AuthProfileOrderSaved(provider, order));
        });
    }

    /// <summary>An OAuth key actor refreshed its access token: persist the new tokens (encrypted). The key already uses them.</summary>
    private void OnRefreshed(CredentialRefreshed refreshed)
    {
        if (!_state.Profiles.TryGetValue(refreshed.KeyId, out var profile) || profile.Type != CredentialTypes.OAuth) return;
        AuthProfileEvents.OAuthRefreshed e;
        try
        {
            e = new AuthProfileEvents.OAuthRefreshed(profile.Id, _protector.Protect(refreshed.AccessToken), _protector.Protect(refreshed.RefreshToken),
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
            var previous = _secrets.GetValueOrDefault(profile.Id);
            _secrets[profile.Id] = (previous ?? new ProfileSecrets(null, null, null, null)) with
            {
                Access = refreshed.AccessToken,
                Refresh = refreshed.RefreshToken,
            };
            _log.Info("Auth profile [{ProfileId}]: refreshed access token stored, valid until {ExpiresAt}", profile.Id, refreshed.ExpiresAt);
        });
    }

    private void Apply(IAuthProfileEvent e)
    {
        _state = _state.Apply(e);
        if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(_state.ToSnapshot());
    }

    /// <summary>Pushes an eligible profile to its provider, or takes an ineligible one away; returns the ineligibility reason.</summary>
    private string? Serve(StoredProfile profile)
    {
        var secrets = _secrets.GetValueOrDefault(profile.Id);
        var reason = AuthProfileRules.Ineligibility(profile, secrets, _config.GetValueOrDefault(profile.Id), Now);
        if (reason is null) _providers.Tell(new ProviderCommands.UpsertCredential(profile.Provider, AuthProfileRules.ToCredential(profile, secrets!)));
        else _providers.Tell(new ProviderCommands.RemoveCredential(profile.Provider, profile.Id));
        return reason;
    }

    private ProfileSecrets? Decrypt(StoredProfile profile)
    {
        try
        {
            return new ProfileSecrets(Unprotect(profile.ProtectedKey), Unprotect(profile.ProtectedToken), Unprotect(profile.ProtectedAccess),
                Unprotect(profile.ProtectedRefresh));
        }
        catch (CryptographicException)
        {
            _log.Warning("Auth profile [{ProfileId}] cannot be decrypted (was the key ring in the data directory's keys folder lost?); it is not served",
                profile.Id);
            return null;
        }

        string? Unprotect(string? stored) => stored is null ? null : _protector.Unprotect(stored);
    }

    private AuthProfileList List()
    {
        var now = Now;
        var views = _state.Profiles.Values
            .Select(p =>
            {
                var secrets = _secrets.GetValueOrDefault(p.Id);
                return AuthProfileRules.View(p, secrets, AuthProfileRules.Ineligibility(p, secrets, _config.GetValueOrDefault(p.Id), now));
            })
            .ToImmutableArray();
        return new AuthProfileList(views, _state.Orders);
    }
}

/// <summary>Marker type for the auth-profile store in Akka.Hosting's <see cref="ActorRegistry"/>.</summary>
public sealed class AuthProfileStoreKey;

public static class AuthProfileStoreHostingExtensions
{
    /// <summary>
    /// Starts the auth-profile store when an <see cref="ISecretProtector"/> is registered (see
    /// <see cref="AuthProfilesServiceCollectionExtensions.AddDurarAuthProfiles"/>); without one, nothing happens. Needs the
    /// provider registry (<see cref="DurarHostingExtensions.WithDurarActors"/>) started before it.
    /// </summary>
    public static AkkaConfigurationBuilder WithDurarAuthProfiles(this AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, registry, resolver) =>
        {
            if (resolver.GetService<ISecretProtector>() is not { } protector) return;
            var catalog = resolver.GetService<ProviderCatalog>();
            var settings = resolver.GetService<DurarSettings>();
            var store = AuthProfileStoreActor.Props(protector, registry.Get<ProvidersRegistryKey>(),
                catalog.Providers.Keys.ToImmutableHashSet(StringComparer.Ordinal), settings.Auth.Profiles);
            // A journal failure stops a persistent actor; the supervisor starts the store again (it recovers and pushes every
            // profile once more), and forwards commands to whichever incarnation is running.
            var supervisor = system.ActorOf(BackoffSupervisor.Props(Backoff.OnStop(store, "store",
                minBackoff: TimeSpan.FromSeconds(1), maxBackoff: TimeSpan.FromSeconds(30), randomFactor: 0.2, maxNrOfRetries: -1)),
                ActorNames.AuthProfiles);
            registry.Register<AuthProfileStoreKey>(supervisor);
        });
}
