using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Durar.Actors.Telemetry;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Keys;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Providers;

/// <summary>
/// One API key (or auth profile) of one provider, and the single owner of that key's health: every attempt's outcome comes
/// here, becomes an event through <see cref="KeyHealthPolicy.Decide(KeyHealth, string?, AttemptOutcome, DateTimeOffset, CooldownSettings)"/>,
/// and is journaled (only changes of health are: a success on a healthy key costs no write), so a restart keeps every
/// cooldown. Each change is pushed to the providers attached to the key, which order keys from it.
/// <para>
/// A change of health is applied and pushed at once and written behind it (<c>PersistAsync</c>): outcomes that arrive while a
/// write is on its way are decided on the health already applied and leave in the next write together, one journal batch.
/// With one write per outcome (<c>Persist</c>, which holds every other message until its write returns) a 429 storm queued
/// one journal round trip per failure behind the key, and that backlog ran on for tens of seconds after the storm, in whatever
/// came next (bench/RESULTS.md, "allocation growth after failover rounds").
/// </para>
/// <para>
/// Its behaviours are the phases of its protocol, not its health (ready, cooling and disabled are data, read through
/// <see cref="KeyHealthPolicy.StatusAt"/>): <see cref="AwaitingCredential"/> (a sharded entity started before anyone told it
/// its secret), <see cref="Serving"/>, and <see cref="Refreshing"/>, while the single call to an OAuth token endpoint runs
/// and every lease waits for the new token (<see cref="OAuthRefresh"/>).
/// </para>
/// <para>
/// It is also the single authority for the key's per-minute limits (<see cref="MinuteWindow"/>): keys with an <c>rpm</c>
/// are leased here, and a full window is published like a cooldown so that no provider hands the key out until it frees.
/// On one node it lives under its provider (<see cref="LocalKeyHosting"/>); in a cluster it is one Cluster Sharding entity
/// for every node (<see cref="ShardedKeys"/>), so a 429 seen on one node is known to all the others one message later.
/// </para>
/// </summary>
/// <remarks>
/// Longer than the house's ~300 lines because it is one persistent actor's whole protocol (three phases and their
/// handlers); what is not protocol already lives elsewhere: every decision in <see cref="KeyHealthPolicy"/>, and the parts in
/// <c>Providers/Keys/</c> (<see cref="MinuteWindow"/>, <see cref="OAuthRefresh"/>, <see cref="KeyUsageLedger"/>, the view).
/// </remarks>
internal sealed class KeyActor : ReceivePersistentActor, IWithTimers
{
    private const string ExpiryTimer = "expiry";
    private const string FlushTimer = "flush-last-used";

    private ApiKeyCredential _key = null!;
    private IActorRef? _owner;
    /// <summary>The provider a local key reports to from the start; null for a sharded entity (its providers attach).</summary>
    private readonly IActorRef? _home;
    private readonly bool _sharded;
    private readonly KeySettings _settings;
    private readonly HashSet<IActorRef> _watchers = [];
    private readonly MinuteWindow _window;
    private readonly OAuthRefresh _refresh;
    private readonly KeyUsageLedger _usage = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly DurarTelemetry? _telemetry = DurarTelemetry.Of(Context.System);
    private KeyHealth _health = KeyHealth.Healthy;
    /// <summary>The health as of the last event written (a snapshot holds this, never events still on their way).</summary>
    private KeyHealth _journaled = KeyHealth.Healthy;

    public ITimerScheduler Timers { get; set; } = null!;

    public override string PersistenceId { get; }

    public KeyActor(string keyId, ApiKeyCredential? key, KeyLimits limits, KeySettings settings, IOAuthTokenClient? tokens, IActorRef? owner,
        IActorRef? home, bool sharded)
    {
        if (key is not null) _key = key;
        _window = new MinuteWindow(limits);
        _settings = settings;
        _refresh = new OAuthRefresh(settings.OAuth, tokens);
        _owner = owner;
        _home = home;
        _sharded = sharded;
        PersistenceId = "key-" + keyId;
        Recover<IKeyEvent>(e => _health = KeyHealthPolicy.Apply(_health, e));
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is KeyHealthSnapshot snapshot) _health = snapshot.Health;
        });
        Recover<RecoveryCompleted>(_ =>
        {
            _journaled = _health;
            if (_key is null) Become(AwaitingCredential);
            else Serve();
        });
    }

    /// <summary>A key with the default settings and the given cooldowns, reporting to its parent (specs, embedders).</summary>
    public static Props Props(ApiKeyCredential key, CooldownSettings cooldowns) => Props(key, KeySettings.Default with { Cooldowns = cooldowns });

    /// <param name="key">The credential.</param>
    /// <param name="settings">Cooldowns, snapshots, OAuth refresh.</param>
    /// <param name="tokens">Refreshes an OAuth credential; null = the key is never refreshed.</param>
    /// <param name="owner">Receives <see cref="CredentialRefreshed"/> after a refresh (the auth-profile store); null = nobody.</param>
    /// <param name="limits">Per-minute request and token limits; null = none.</param>
    /// <param name="provider">The provider it reports to; null = its parent.</param>
    public static Props Props(ApiKeyCredential key, KeySettings settings, IOAuthTokenClient? tokens = null, IActorRef? owner = null,
        KeyLimits? limits = null, IActorRef? provider = null) =>
        Akka.Actor.Props.Create(() => new KeyActor(key.Id, key, limits ?? KeyLimits.None, settings, tokens, owner, provider, false));

    /// <summary>
    /// The key as a Cluster Sharding entity: its provider actors attach to it. <paramref name="known"/> is this node's copy of
    /// the credential when it has one (it starts serving at once); without it the entity waits for the first attach.
    /// </summary>
    internal static Props ShardedProps(string keyId, KeyDirectory.Entry? known, KeySettings settings, IOAuthTokenClient? tokens)
    {
        var credential = known?.Credential;
        var limits = known?.Limits ?? KeyLimits.None;
        var owner = known?.Owner;
        return Akka.Actor.Props.Create(() => new KeyActor(keyId, credential, limits, settings, tokens, owner, null, true));
    }

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    /// <summary>
    /// A sharded key started by a message other than an attach, on a node that does not know its credential (a profile added
    /// on another node): everything waits until a provider attaches with the credential (or hands it over).
    /// </summary>
    private void AwaitingCredential()
    {
        Command<KeyCommands.Attach>(attach =>
        {
            _key = attach.Credential;
            _owner = attach.Owner;
            _window.Limits = attach.Limits;
            AddWatcher(attach.Provider);
            Serve();
            Stash.UnstashAll();
        });
        Command<KeyCommands.UpdateCredential>(update =>
        {
            _key = update.Credential;
            _owner = update.Owner;
            Serve();
            Stash.UnstashAll();
        });
        Command<KeyCommands.Stop>(_ => Context.Stop(Self)); // handed off before anyone attached: nothing to write
        CommandAny(_ => Stash.Stash());
    }

    private void Serve()
    {
        Become(Serving);
        Arm(Now);
        PublishState();
    }

    private void Serving()
    {
        Command<ProviderCommands.AcquireKey>(OnAcquire);
        Command<KeyCommands.ReportOutcome>(OnOutcome);
        // Batched successes of a healthy plain key: bookkeeping only, written with the next flush.
        Command<KeyCommands.ReportUsage>(batch =>
        {
            _usage.Add(batch);
            if (_health.LastUsed is null || batch.LastUsed > _health.LastUsed) _health = _health with { LastUsed = batch.LastUsed };
        });
        Command<KeyCommands.Attach>(attach =>
        {
            _window.Limits = attach.Limits;
            if (attach.Owner is not null) _owner = attach.Owner;
            AddWatcher(attach.Provider);
        });
        Command<KeyCommands.Detach>(detach =>
        {
            _watchers.Remove(detach.Provider);
            Context.Unwatch(detach.Provider);
        });
        Command<Terminated>(terminated => _watchers.Remove(terminated.ActorRef));
        Command<KeyCommands.UpdateCredential>(update =>
        {
            if (update.Credential.Id != _key.Id) return;
            _key = update.Credential;
            _owner = update.Owner;
            _refresh.Reset();
            PublishState();
        });
        Command<ProviderCommands.ResetKey>(_ =>
        {
            var replyTo = Sender;
            Persist(new KeyEvents.Reset(Now), e =>
            {
                Applied(e, publish: true);
                _log.Info("Key [{KeyId}] reset by an operator", _key.Id);
                replyTo.Tell(new KeyResetDone(_key.Id, true));
            });
        });
        Command<Expire>(_ =>
        {
            Arm(Now);
            PublishState();
        });
        Command<FlushLastUsed>(_ =>
        {
            if (_usage.Take() is { } used)
                Persist(used, e =>
                {
                    _health = KeyHealthPolicy.Apply(_health, e);
                    Journaled(e);
                    PublishState(); // usage totals reach the providers once per flush interval, not per request
                });
        });
        Command<KeyCommands.Stop>(stop =>
        {
            // Hand-off (a node leaving the cluster): write what is not in the journal yet, then stop.
            // Either waits for the health changes still being written, so the next incarnation recovers them.
            if (_usage.Take() is { } used) Persist(used, _ => Context.Stop(Self));
            else DeferAsync(stop, _ => Context.Stop(Self));
        });
        Command<SaveSnapshotSuccess>(s =>
        {
            DeleteMessages(s.Metadata.SequenceNr);
            // Only the newest snapshot is ever read: the older ones would pile up, one per SnapshotEvery events, for good.
            if (s.Metadata.SequenceNr > 1) DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1));
        });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning("Key [{KeyId}] could not delete old snapshots: {Error}", _key.Id, f.Cause.Message));
        Command<SaveSnapshotFailure>(f => _log.Warning("Key [{KeyId}] snapshot failed: {Error}", _key.Id, f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("Key [{KeyId}] could not delete old events: {Error}", _key.Id, f.Cause.Message));
    }

    private void OnAcquire(ProviderCommands.AcquireKey acquire)
    {
        var now = Now;
        if (_refresh.Due(_key, now))
        {
            _log.Info("Key [{KeyId}]: access token expires at {ExpiresAt}; refreshing", _key.Id, _key.ExpiresAt);
            _refresh.Start(_key, Self);
            Become(Refreshing);
            Stash.Stash();
            return;
        }
        var provider = acquire.Via ?? _home ?? Context.Parent;
        if (!_key.UsableAt(now) || OAuthRefresh.Expired(_key, now))
        {
            // Nothing this key can send: let the provider choose another key for this request.
            provider.Tell(acquire with { Excluded = acquire.Excluded.Add(_key.Id) }, Sender);
            return;
        }
        if (_window.LimitedUntil(now) is not null)
        {
            // The minute's budget is spent (possibly by another node): the provider learns it first (same sender, same
            // receiver, so in order), then gets the request back to choose another key.
            PublishState();
            provider.Tell(acquire.Hops >= 2 ? acquire with { Excluded = acquire.Excluded.Add(_key.Id) } : acquire with { Hops = acquire.Hops + 1 }, Sender);
            return;
        }
        if (_window.Grant(now)) PublishState(); // that was the minute's last request: every provider skips the key from now on
        _usage.Leased(now);
        _health = _health with { LastUsed = now };
        // The secret is not serialized: a requester on another node completes the lease from its own copy of the credential.
        Sender.Tell(new KeyLease(_key.Id, _key.Secret, acquire.Handle ?? Self) { HasSecret = _key.Secret is not null, CredentialExpiresAt = _key.ExpiresAt });
    }

    private void OnOutcome(KeyCommands.ReportOutcome report)
    {
        var now = Now;
        _usage.Note(report.Outcome, now);
        _health = _health with { LastUsed = now };
        if (report.Outcome is AttemptOutcome.Succeeded { Usage: { } usage } && _window.Spend(usage.Total, now))
            PublishState(); // the minute's tokens are spent: every node skips the key
        switch (KeyHealthPolicy.Decide(_health, report.ModelId, report.Outcome, now, _settings.Cooldowns))
        {
            case null:
                break;
            case KeyEvents.Failed { CountsAsError: false }:
                PublishState(); // the request's fault: nothing to write, but the failure count changed
                break;
            case var e:
                PersistAndApply(e);
                break;
        }
    }

    /// <summary>
    /// One call to the token endpoint is in flight. Everything else waits in the stash, leases included, so they all get the
    /// new access token (or go to another key if the refresh fails).
    /// </summary>
    private void Refreshing()
    {
        Command<OAuthRefresh.Succeeded>(done =>
        {
            (_key, var writeBack) = _refresh.Apply(_key, done.Tokens, Now);
            _log.Info("Key [{KeyId}]: access token refreshed, valid until {ExpiresAt}", _key.Id, _key.ExpiresAt);
            _owner?.Tell(writeBack);
            Notify(new KeyCredentialChanged(_key));
            Serve();
            Stash.UnstashAll();
        });
        Command<OAuthRefresh.Failed>(failed =>
        {
            var now = Now;
            _refresh.Failure(now);
            _log.Warning("Key [{KeyId}]: access token refresh failed: {Error}", _key.Id, failed.Error);
            Serve();
            // Counted like an upstream auth failure, so the key cools down (or is disabled for a refused grant).
            PersistAndApply(KeyHealthPolicy.Decide(_health, failed.Permanent ? FailoverReason.AuthPermanent : FailoverReason.Auth, null,
                RateLimitHints.None, now, _settings.Cooldowns));
            Stash.UnstashAll();
        });
        CommandAny(_ => Stash.Stash());
    }

    private void PersistAndApply(IKeyEvent e)
    {
        // The providers hear of the new health at once, before the journal write returns: a key that just answered 429 must
        // not be handed out again while its cooldown is being written (a cold database can take hundreds of ms). The next
        // outcome is decided on this health too, so the write need not hold the mailbox: it is batched with those that
        // follow it while it is on its way (see the type's remarks).
        if (_telemetry is not null && CooldownStarts.Of(_health, e) is var (kind, reason)) _telemetry.CooldownStarted(_key.ProviderId, kind, reason);
        Apply(e);
        Notify(new KeyStateChanged(ViewOf(_health), _health) { LimitedUntil = _window.LimitedUntil(Now) });
        PersistAsync(e, Journaled);
    }

    /// <summary>An event that changed the health in memory; <paramref name="publish"/> = push the new state to the providers.</summary>
    private void Applied(IKeyEvent e, bool publish)
    {
        Apply(e);
        Journaled(e);
        if (publish) PublishState();
    }

    private void Apply(IKeyEvent e)
    {
        var now = Now;
        var before = KeyHealthPolicy.StatusAt(_health, now).Status;
        _health = KeyHealthPolicy.Apply(_health, e);
        Arm(now);
        var (after, until, reason) = KeyHealthPolicy.StatusAt(_health, now);
        if (before != after) _log.Info("Key [{KeyId}] {Before} -> {After} until {Until} ({Reason})", _key.Id, before, after, until, reason?.ToWireName());
    }

    /// <summary>An event is in the journal: the snapshot, every <c>SnapshotEvery</c> events, holds the health as of that event.</summary>
    private void Journaled(IKeyEvent e)
    {
        _journaled = KeyHealthPolicy.Apply(_journaled, e);
        // The last use is bookkeeping, not an event's effect: the newest one known is kept (it is never counted twice).
        if (LastSequenceNr % _settings.SnapshotEvery == 0) SaveSnapshot(new KeyHealthSnapshot(_journaled with { LastUsed = _health.LastUsed }));
    }

    /// <summary>Arms the timer for the next moment a cooldown, disable or model window ends (to publish the key ready again).</summary>
    private void Arm(DateTimeOffset now)
    {
        if (KeyHealthPolicy.NextExpiry(_health, now) is { } next) Timers.StartSingleTimer(ExpiryTimer, Expire.Instance, next - now);
        else Timers.Cancel(ExpiryTimer);
    }

    private void AddWatcher(IActorRef provider)
    {
        if (_watchers.Add(provider)) Context.Watch(provider);
        provider.Tell(new KeyStateChanged(ViewOf(_health), _health) { LimitedUntil = _window.LimitedUntil(Now) });
    }

    private void Notify(object message)
    {
        foreach (var watcher in _watchers) watcher.Tell(message);
    }

    private void PublishState() => Notify(new KeyStateChanged(ViewOf(_health), _health) { LimitedUntil = _window.LimitedUntil(Now) });

    private KeyStateView ViewOf(KeyHealth health) => KeyViews.Of(_key, health, _window, _usage, Now);

    protected override void PreStart()
    {
        if (!_sharded) _watchers.Add(_home ?? Context.Parent);
        Timers.StartPeriodicTimer(FlushTimer, FlushLastUsed.Instance, _settings.Cooldowns.LastUsedFlushInterval);
        base.PreStart();
    }

    protected override void PostStop()
    {
        _refresh.Cancel();
        base.PostStop();
    }

    private sealed class Expire : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static readonly Expire Instance = new();
        private Expire() { }
    }

    private sealed class FlushLastUsed : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static readonly FlushLastUsed Instance = new();
        private FlushLastUsed() { }
    }
}
