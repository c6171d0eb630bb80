using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Chat;

namespace Durar.Actors.Providers;

/// <summary>
/// One API key (or auth profile) of one provider, and the single owner of that key's health. A persistent state machine:
/// <see cref="Ready"/> → <see cref="CoolingDown"/> → <see cref="Disabled"/>, with a timer that brings it back when the
/// window ends. Every attempt's outcome comes here; only changes of health are persisted (a success on a healthy key costs
/// no write), so a restart keeps every cooldown. Each change is pushed to the parent provider, which orders keys from it.
/// For an OAuth profile it is also the single writer of the access token: a lease that finds the token expired (or about
/// to) starts one refresh and <see cref="Refreshing"/> stashes every lease until it ends, so concurrent requests cause one
/// call to the token endpoint and all use the new token; the result is written back to the credential's owner (the store).
/// <para>
/// It is also the single authority for the key's per-minute limits (<see cref="KeyLimits"/>): keys with an <c>rpm</c> are
/// leased here, and a full window is published like a cooldown so that no provider hands the key out until it frees.
/// </para>
/// <para>
/// On one node it is a child of its provider. In a cluster it is a Cluster Sharding entity (one per key, cluster-wide,
/// <see cref="KeyHosting"/>): every node's provider actor attaches to it (<see cref="KeyCommands.Attach"/>) and receives
/// each change of health directly, so a 429 seen on one node is known to all the others one message later.
/// </para>
/// </summary>
public sealed class KeyActor : ReceivePersistentActor, IWithTimers
{
    private const string ExpiryTimer = "expiry";
    private const string FlushTimer = "flush-last-used";
    private const int SnapshotEvery = 100;

    /// <summary>An access token this close to its expiry is refreshed before it is leased, so it cannot expire mid-request.</summary>
    internal static readonly TimeSpan RefreshMargin = TimeSpan.FromSeconds(60);

    /// <summary>Upper bound of one call to the token endpoint.</summary>
    internal static readonly TimeSpan RefreshTimeout = TimeSpan.FromSeconds(30);

    /// <summary>After a failed refresh, leases inside this window go to other keys instead of starting another refresh.</summary>
    internal static readonly TimeSpan RefreshRetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>Lifetime assumed when a token endpoint omits <c>expires_in</c> (RFC 6749 leaves it optional).</summary>
    internal static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromHours(1);

    private ApiKeyCredential _key = null!;
    private IActorRef? _owner;
    private KeyLimits _limits;
    private readonly bool _sharded;
    /// <summary>The provider actors that order this key (its parent on one node; every node's provider in a cluster).</summary>
    private readonly HashSet<IActorRef> _watchers = [];
    /// <summary>Leases in the last minute (keys with an <c>rpm</c>), oldest first.</summary>
    private Queue<DateTimeOffset>? _granted;
    /// <summary>Tokens answered in the last minute (keys with a <c>tpm</c>), oldest first.</summary>
    private Queue<(DateTimeOffset At, long Tokens)>? _spent;
    private long _spentTotal;
    private readonly IOAuthTokenClient? _tokens;
    private readonly CooldownSettings _cooldowns;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private CancellationTokenSource? _refreshCancel;
    private DateTimeOffset _refreshRetryAt = DateTimeOffset.MinValue;
    private KeyHealth _health = KeyHealth.Healthy;
    private DateTimeOffset? _unflushedLastUsed;
    private TokenUsage? _unflushedUsage;
    private decimal _unflushedCost;
    private long _requests;
    private long _failures;

    public ITimerScheduler Timers { get; set; } = null!;

    public override string PersistenceId { get; }

    public KeyActor(string keyId, ApiKeyCredential? key, KeyLimits limits, CooldownSettings cooldowns, IOAuthTokenClient? tokens,
        IActorRef? owner, bool sharded)
    {
        if (key is not null) _key = key;
        _limits = limits;
        _cooldowns = cooldowns;
        _tokens = tokens;
        _owner = owner;
        _sharded = sharded;
        PersistenceId = "key-" + keyId;
        Recover<IKeyEvent>(e => _health = KeyHealthPolicy.Apply(_health, e));
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is KeyHealthSnapshot snapshot) _health = snapshot.Health;
        });
        Recover<RecoveryCompleted>(_ =>
        {
            if (_key is null) Become(AwaitingCredential);
            else BecomeFor(Now);
        });
    }

    public static Props Props(ApiKeyCredential key, CooldownSettings cooldowns) => Props(key, cooldowns, null, null);

    /// <param name="tokens">Refreshes an OAuth credential; null = the key is never refreshed.</param>
    /// <param name="owner">Receives <see cref="CredentialRefreshed"/> after a refresh (the auth-profile store); null = nobody.</param>
    /// <param name="limits">Per-minute request and token limits; null = none.</param>
    public static Props Props(ApiKeyCredential key, CooldownSettings cooldowns, IOAuthTokenClient? tokens, IActorRef? owner, KeyLimits? limits = null) =>
        Akka.Actor.Props.Create(() => new KeyActor(key.Id, key, limits ?? KeyLimits.None, cooldowns, tokens, owner, false));

    /// <summary>
    /// The key as a Cluster Sharding entity: its provider actors attach to it. <paramref name="known"/> is this node's copy of
    /// the credential when it has one (it starts serving at once); without it the entity waits for the first attach.
    /// </summary>
    internal static Props ShardedProps(string keyId, KeyDirectory.Entry? known, CooldownSettings cooldowns, IOAuthTokenClient? tokens)
    {
        var credential = known?.Credential;
        var limits = known?.Limits ?? KeyLimits.None;
        var owner = known?.Owner;
        return Akka.Actor.Props.Create(() => new KeyActor(keyId, credential, limits, cooldowns, tokens, owner, true));
    }

    /// <summary>
    /// A sharded key started by a message other than an attach, on a node that does not know its credential (a profile
    /// added on another node): everything waits until a provider attaches with the credential.
    /// </summary>
    private void AwaitingCredential()
    {
        Command<KeyCommands.Attach>(attach =>
        {
            _key = attach.Credential;
            _owner = attach.Owner;
            _limits = attach.Limits;
            AddWatcher(attach.Provider);
            BecomeFor(Now);
            Stash.UnstashAll();
        });
        Command<KeyCommands.UpdateCredential>(update =>
        {
            _key = update.Credential;
            _owner = update.Owner;
            BecomeFor(Now);
            Stash.UnstashAll();
        });
        Command<KeyCommands.Stop>(_ => Context.Stop(Self)); // handed off before anyone attached: nothing to write
        CommandAny(_ => Stash.Stash());
    }

    private void AddWatcher(IActorRef provider)
    {
        if (_watchers.Add(provider)) Context.Watch(provider);
        provider.Tell(new KeyStateChanged(View(), _health) { LimitedUntil = LimitedUntil(Now) });
    }

    private void Notify(object message)
    {
        foreach (var watcher in _watchers) watcher.Tell(message);
    }

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    /// <summary>Serving normally. A success changes nothing that needs a write.</summary>
    private void Ready()
    {
        Common();
        Command<KeyCommands.ReportOutcome>(report =>
        {
            NoteUse(report.Outcome);
            switch (report.Outcome)
            {
                case AttemptOutcome.Succeeded ok when KeyHealthPolicy.DecideExhausted(_health, report.ModelId, ok.Hints, Now) is { } exhausted:
                    PersistAndApply(exhausted);
                    break;
                case AttemptOutcome.Succeeded when _health.ErrorCount > 0 || !_health.ModelCooldowns.IsEmpty:
                    // Failures below the cooldown threshold (or other models' cooldowns) are cleared by a success too.
                    PersistAndApply(new KeyEvents.Recovered(Now));
                    break;
                case AttemptOutcome.Failed failed:
                    OnFailed(report.ModelId, failed);
                    break;
            }
        });
    }

    /// <summary>Cooling down (key-wide or for some models). A success proves the key works again and clears everything.</summary>
    private void CoolingDown()
    {
        Common();
        Command<KeyCommands.ReportOutcome>(OnOutcomeWhileBlocked);
    }

    /// <summary>Disabled for billing or a revoked key. Only a success (a probe after a top-up) or an operator reset ends it early.</summary>
    private void Disabled()
    {
        Common();
        Command<KeyCommands.ReportOutcome>(OnOutcomeWhileBlocked);
    }

    /// <summary>While cooling or disabled, any success (a probe) recovers the key; failures follow the schedule.</summary>
    private void OnOutcomeWhileBlocked(KeyCommands.ReportOutcome report)
    {
        NoteUse(report.Outcome);
        switch (report.Outcome)
        {
            case AttemptOutcome.Succeeded:
                PersistAndApply(new KeyEvents.Recovered(Now));
                break;
            case AttemptOutcome.Failed failed:
                OnFailed(report.ModelId, failed);
                break;
        }
    }

    /// <summary>Handlers every state shares: leases (the provider decides whether a cooling key may serve), expiry, reset, flush.</summary>
    private void Common()
    {
        Command<ProviderCommands.AcquireKey>(acquire =>
        {
            var now = Now;
            if (NeedsRefresh(now) && now >= _refreshRetryAt && _tokens is not null)
            {
                StartRefresh();
                Stash.Stash();
                return;
            }
            var provider = acquire.Via ?? Context.Parent;
            if (!_key.UsableAt(now) || HasExpired(now))
            {
                // Nothing this key can send: let the provider choose another key for this request.
                provider.Tell(acquire with { Excluded = acquire.Excluded.Add(_key.Id) }, Sender);
                return;
            }
            if (LimitedUntil(now) is not null)
            {
                // The minute's budget is spent (possibly by another node): the provider learns it first (same sender,
                // same receiver, so in order), then gets the request back to choose another key.
                PublishState();
                provider.Tell(acquire.Hops >= 2 ? acquire with { Excluded = acquire.Excluded.Add(_key.Id) } : acquire with { Hops = acquire.Hops + 1 }, Sender);
                return;
            }
            if (_limits.Rpm is not null)
            {
                (_granted ??= new Queue<DateTimeOffset>()).Enqueue(now);
                if (LimitedUntil(now) is not null) PublishState(); // that was the last one: every provider skips the key from now on
            }
            _unflushedLastUsed = now;
            _health = _health with { LastUsed = _unflushedLastUsed };
            Sender.Tell(new KeyLease(_key.Id, _key.Secret, acquire.Handle ?? Self));
        });
        // Batched successes of a healthy plain key: bookkeeping only, written with the next flush.
        Command<KeyCommands.ReportUsage>(batch =>
        {
            if (batch.Usage is { } usage) _unflushedUsage = _unflushedUsage is null ? usage : _unflushedUsage.Add(usage);
            _unflushedCost += batch.Cost;
            _requests += batch.Requests;
            if (_unflushedLastUsed is null || batch.LastUsed > _unflushedLastUsed) _unflushedLastUsed = batch.LastUsed;
            if (_health.LastUsed is null || batch.LastUsed > _health.LastUsed) _health = _health with { LastUsed = batch.LastUsed };
        });
        Command<KeyCommands.Attach>(attach =>
        {
            _limits = attach.Limits;
            if (attach.Owner is not null) _owner = attach.Owner;
            AddWatcher(attach.Provider);
        });
        Command<KeyCommands.Detach>(detach =>
        {
            _watchers.Remove(detach.Provider);
            Context.Unwatch(detach.Provider);
        });
        Command<Terminated>(terminated => _watchers.Remove(terminated.ActorRef));
        Command<KeyCommands.Stop>(_ =>
        {
            // Hand-off (a node leaving the cluster): write what is not in the journal yet, then stop.
            if (Unflushed() is { } used) Persist(used, _ => Context.Stop(Self));
            else Context.Stop(Self);
        });
        Command<KeyCommands.UpdateCredential>(update =>
        {
            if (update.Credential.Id != _key.Id) return;
            _key = update.Credential;
            _owner = update.Owner;
            _refreshRetryAt = DateTimeOffset.MinValue;
            PublishState();
        });
        Command<ProviderCommands.ResetKey>(_ =>
        {
            var replyTo = Sender;
            Persist(new KeyEvents.Reset(Now), e =>
            {
                Apply(e);
                _log.Info("Key [{KeyId}] reset by an operator", _key.Id);
                replyTo.Tell(new KeyResetDone(_key.Id, true));
            });
        });
        Command<Expire>(_ => BecomeFor(Now));
        Command<FlushLastUsed>(_ =>
        {
            if (Unflushed() is { } used)
            {
                Persist(used, e =>
                {
                    _health = KeyHealthPolicy.Apply(_health, e);
                    PublishState(); // usage totals reach the provider's view once per flush interval, not per request
                });
            }
        });
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(f => _log.Warning("Key [{KeyId}] snapshot failed: {Error}", _key.Id, f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("Key [{KeyId}] could not delete old events: {Error}", _key.Id, f.Cause.Message));
    }

    /// <summary>The bookkeeping not written yet, as one event (and cleared); null = nothing to write.</summary>
    private KeyEvents.Used? Unflushed()
    {
        if (_unflushedLastUsed is not { } at) return null;
        var used = new KeyEvents.Used(at) { UsageDelta = _unflushedUsage, CostDelta = _unflushedCost };
        _unflushedLastUsed = null;
        _unflushedUsage = null;
        _unflushedCost = 0m;
        return used;
    }

    /// <summary>
    /// When the key's minute budget has room again, or null when it has room now. Prunes the window as it goes.
    /// </summary>
    private DateTimeOffset? LimitedUntil(DateTimeOffset now)
    {
        if (!_limits.Any) return null;
        var from = now - KeyLimits.Window;
        DateTimeOffset? until = null;
        if (_limits.Rpm is { } rpm && _granted is not null)
        {
            while (_granted.Count > 0 && _granted.Peek() <= from) _granted.Dequeue();
            if (_granted.Count >= rpm) until = _granted.ElementAt(_granted.Count - rpm) + KeyLimits.Window;
        }
        if (_limits.Tpm is { } tpm && _spent is not null)
        {
            while (_spent.Count > 0 && _spent.Peek().At <= from) _spentTotal -= _spent.Dequeue().Tokens;
            if (_spentTotal >= tpm)
            {
                // Room again once enough of the oldest answers leave the window to bring the total under the limit.
                var left = _spentTotal;
                foreach (var (at, tokens) in _spent)
                {
                    left -= tokens;
                    if (left < tpm)
                    {
                        var free = at + KeyLimits.Window;
                        if (until is null || free > until) until = free;
                        break;
                    }
                }
            }
        }
        return until;
    }

    /// <summary>
    /// One call to the token endpoint is in flight. Everything else waits in the stash, leases included, so they all get
    /// the new access token (or go to another key if the refresh fails).
    /// </summary>
    private void Refreshing()
    {
        Command<RefreshSucceeded>(done =>
        {
            var now = Now;
            var grant = _key.OAuth!;
            var refreshToken = done.Tokens.RefreshToken ?? grant.RefreshToken;
            var expires = now + (done.Tokens.ExpiresIn ?? DefaultTokenLifetime);
            _key = _key with { Secret = done.Tokens.AccessToken, ExpiresAt = expires, OAuth = grant with { RefreshToken = refreshToken } };
            EndRefresh();
            _log.Info("Key [{KeyId}]: access token refreshed, valid until {ExpiresAt}", _key.Id, expires);
            _owner?.Tell(new CredentialRefreshed(_key.ProviderId, _key.Id, done.Tokens.AccessToken, refreshToken, expires));
            Notify(new KeyCredentialChanged(_key));
            BecomeFor(now);
            Stash.UnstashAll();
        });
        Command<RefreshFailed>(failed =>
        {
            var now = Now;
            EndRefresh();
            _refreshRetryAt = now + RefreshRetryDelay;
            _log.Warning("Key [{KeyId}]: access token refresh failed: {Error}", _key.Id, failed.Error);
            BecomeFor(now);
            // Counted like an upstream auth failure, so the key cools down (or is disabled for a refused grant).
            PersistAndApply(KeyHealthPolicy.Decide(_health, failed.Permanent ? FailoverReason.AuthPermanent : FailoverReason.Auth, null,
                RateLimitHints.None, now, _cooldowns));
            Stash.UnstashAll();
        });
        CommandAny(_ => Stash.Stash());
    }

    private bool NeedsRefresh(DateTimeOffset now) =>
        _key.OAuth is not null && (_key.Secret is null || _key.ExpiresAt is { } expires && expires - now <= RefreshMargin);

    /// <summary>A token or access token past its expiry (an API key never expires; a keyless provider has no secret at all).</summary>
    private bool HasExpired(DateTimeOffset now) =>
        _key.Type != CredentialTypes.ApiKey && (_key.Secret is null || _key.ExpiresAt is { } expires && expires <= now);

    private void StartRefresh()
    {
        var grant = _key.OAuth!;
        _refreshCancel = new CancellationTokenSource(RefreshTimeout);
        _log.Info("Key [{KeyId}]: access token expires at {ExpiresAt}; refreshing", _key.Id, _key.ExpiresAt);
        _tokens!.RefreshAsync(grant, _refreshCancel.Token).PipeTo(Self,
            success: tokens => new RefreshSucceeded(tokens),
            failure: e => new RefreshFailed(Describe(e), e is OAuthRefreshException { Permanent: true }));
        Become(Refreshing);
    }

    private void EndRefresh()
    {
        _refreshCancel?.Dispose();
        _refreshCancel = null;
    }

    /// <summary>A failure as a log line: the token client's own message (it never holds a token), else only the exception type.</summary>
    private static string Describe(Exception e)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } aggregate) e = aggregate.InnerExceptions[0];
        return e switch
        {
            OAuthRefreshException refresh => refresh.Message,
            OperationCanceledException => $"no answer within {RefreshTimeout.TotalSeconds:0} s",
            _ => e.GetType().Name,
        };
    }

    protected override void PostStop()
    {
        _refreshCancel?.Cancel();
        EndRefresh();
        base.PostStop();
    }

    /// <summary>Plain keys are leased by the provider directly; the outcome report is where this actor learns of the use.</summary>
    private void NoteUse(AttemptOutcome outcome)
    {
        if (outcome is AttemptOutcome.Succeeded { Usage: { } usage } ok)
        {
            _unflushedUsage = _unflushedUsage is null ? usage : _unflushedUsage.Add(usage);
            _unflushedCost += ok.Cost;
            if (_limits.Tpm is not null && usage.Total > 0)
            {
                var now = Now;
                var wasLimited = LimitedUntil(now) is not null;
                (_spent ??= new Queue<(DateTimeOffset, long)>()).Enqueue((now, usage.Total));
                _spentTotal += usage.Total;
                if (!wasLimited && LimitedUntil(now) is not null) PublishState(); // the minute's tokens are spent: every node skips the key
            }
        }
        _requests++;
        _unflushedLastUsed = Now;
        _health = _health with { LastUsed = _unflushedLastUsed };
    }

    private void OnFailed(string model, AttemptOutcome.Failed failed)
    {
        _failures++;
        var decided = KeyHealthPolicy.Decide(_health, failed.Reason, model, failed.Hints, Now, _cooldowns);
        if (!decided.CountsAsError)
        {
            PublishState();
            return;
        }
        PersistAndApply(decided);
    }

    private void PersistAndApply(IKeyEvent e)
    {
        // The provider hears of the new health at once, before the journal write returns: a key that just answered 429
        // must not be handed out again while its cooldown is being written (a cold database can take hundreds of ms).
        var next = KeyHealthPolicy.Apply(_health, e);
        Notify(new KeyStateChanged(ViewOf(next), next) { LimitedUntil = LimitedUntil(Now) });
        Persist(e, persisted => Apply(persisted, publish: false));
    }

    private void Apply(IKeyEvent e) => Apply(e, publish: true);

    private void Apply(IKeyEvent e, bool publish)
    {
        var before = KeyHealthPolicy.StatusAt(_health, Now).Status;
        _health = KeyHealthPolicy.Apply(_health, e);
        if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(new KeyHealthSnapshot(_health));
        var after = BecomeFor(Now, publish);
        if (before != after)
        {
            var (_, until, reason) = KeyHealthPolicy.StatusAt(_health, Now);
            _log.Info("Key [{KeyId}] {Before} -> {After} until {Until} ({Reason})", _key.Id, before, after, until, reason?.ToWireName());
        }
    }

    /// <summary>Switches to the behaviour the health calls for at <paramref name="now"/> and arms the expiry timer.</summary>
    private KeyStatus BecomeFor(DateTimeOffset now, bool publish = true)
    {
        var (status, _, _) = KeyHealthPolicy.StatusAt(_health, now);
        switch (status)
        {
            case KeyStatus.Disabled: Become(Disabled); break;
            case KeyStatus.CoolingDown: Become(CoolingDown); break;
            default: Become(Ready); break;
        }
        if (KeyHealthPolicy.NextExpiry(_health, now) is { } next)
            Timers.StartSingleTimer(ExpiryTimer, Expire.Instance, next - now);
        else Timers.Cancel(ExpiryTimer);
        if (publish) PublishState();
        return status;
    }

    protected override void PreStart()
    {
        if (!_sharded) _watchers.Add(Context.Parent);
        Timers.StartPeriodicTimer(FlushTimer, FlushLastUsed.Instance, _cooldowns.LastUsedFlushInterval);
        base.PreStart();
    }

    private void PublishState() => Notify(new KeyStateChanged(View(), _health) { LimitedUntil = LimitedUntil(Now) });

    private KeyStateView View() => ViewOf(_health);

    private KeyStateView ViewOf(KeyHealth health)
    {
        var (status, until, reason) = KeyHealthPolicy.StatusAt(health, Now);
        var state = status switch { KeyStatus.Disabled => "disabled", KeyStatus.CoolingDown => "cooling", _ => "ready" };
        if (status == KeyStatus.Ready && _limits.Any && LimitedUntil(Now) is { } limited)
        {
            // Healthy, but this minute's rpm/tpm budget is spent.
            state = "limited";
            until = limited;
            reason = FailoverReason.RateLimit;
        }
        return new KeyStateView(_key.Id, _key.Masked, _key.Source, state,
            until, reason?.ToWireName(), health.ErrorCount, health.FailureCounts, health.LastUsed, _requests, _failures)
        {
            // Totals include what has not been flushed to the journal yet.
            Usage = _unflushedUsage is { } pending ? health.UsageTotal.Add(pending) : health.UsageTotal,
            Cost = health.CostTotal + _unflushedCost,
        };
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

    private sealed record RefreshSucceeded(OAuthTokens Tokens) : INoSerializationVerificationNeeded;

    private sealed record RefreshFailed(string Error, bool Permanent) : INoSerializationVerificationNeeded;
}

/// <summary>A key's credential changed inside the key actor (an OAuth refresh); sent to the provider so its view follows.</summary>
public sealed record KeyCredentialChanged(ApiKeyCredential Credential) : IDurarWireMessage;

/// <summary>A key's state changed; sent by the key actor to its provider(s) with the full health for ordering.</summary>
public sealed record KeyStateChanged(KeyStateView View, KeyHealth Health) : IDurarWireMessage
{
    /// <summary>Until when the key's per-minute budget is spent (<see cref="KeyLimits"/>); null = it has room.</summary>
    public DateTimeOffset? LimitedUntil { get; init; }
}
