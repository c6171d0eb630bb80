using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;

namespace Durar.Actors.Providers;

/// <summary>
/// One API key (or auth profile) of one provider, and the single owner of that key's health. A persistent state machine:
/// <see cref="Ready"/> → <see cref="CoolingDown"/> → <see cref="Disabled"/>, with a timer that brings it back when the
/// window ends. Every attempt's outcome comes here; only changes of health are persisted (a success on a healthy key costs
/// no write), so a restart keeps every cooldown. Each change is pushed to the parent provider, which orders keys from it.
/// For an OAuth profile it is also the single writer of the access token: a lease that finds the token expired (or about
/// to) starts one refresh and <see cref="Refreshing"/> stashes every lease until it ends, so concurrent requests cause one
/// call to the token endpoint and all use the new token; the result is written back to the credential's owner (the store).
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

    private ApiKeyCredential _key;
    private IActorRef? _owner;
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

    public KeyActor(ApiKeyCredential key, CooldownSettings cooldowns, IOAuthTokenClient? tokens, IActorRef? owner)
    {
        _key = key;
        _cooldowns = cooldowns;
        _tokens = tokens;
        _owner = owner;
        PersistenceId = "key-" + key.Id;
        Recover<IKeyEvent>(e => _health = KeyHealthPolicy.Apply(_health, e));
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is KeyHealthSnapshot snapshot) _health = snapshot.Health;
        });
        Recover<RecoveryCompleted>(_ => BecomeFor(Now));
    }

    public static Props Props(ApiKeyCredential key, CooldownSettings cooldowns) => Props(key, cooldowns, null, null);

    /// <param name="tokens">Refreshes an OAuth credential; null = the key is never refreshed.</param>
    /// <param name="owner">Receives <see cref="CredentialRefreshed"/> after a refresh (the auth-profile store); null = nobody.</param>
    public static Props Props(ApiKeyCredential key, CooldownSettings cooldowns, IOAuthTokenClient? tokens, IActorRef? owner) =>
        Akka.Actor.Props.Create(() => new KeyActor(key, cooldowns, tokens, owner));

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
            if (!_key.UsableAt(now) || HasExpired(now))
            {
                // Nothing this key can send: let the provider choose another key for this request.
                Context.Parent.Tell(acquire with { Excluded = acquire.Excluded.Add(_key.Id) }, Sender);
                return;
            }
            _requests++;
            _unflushedLastUsed = now;
            _health = _health with { LastUsed = _unflushedLastUsed };
            Sender.Tell(new KeyLease(_key.Id, _key.Secret, Self));
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
            if (_unflushedLastUsed is { } at)
            {
                var used = new KeyEvents.Used(at) { UsageDelta = _unflushedUsage, CostDelta = _unflushedCost };
                _unflushedLastUsed = null;
                _unflushedUsage = null;
                _unflushedCost = 0m;
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
            Context.Parent.Tell(new KeyCredentialChanged(_key));
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
        Context.Parent.Tell(new KeyStateChanged(ViewOf(next), next));
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
        Timers.StartPeriodicTimer(FlushTimer, FlushLastUsed.Instance, _cooldowns.LastUsedFlushInterval);
        base.PreStart();
    }

    private void PublishState() => Context.Parent.Tell(new KeyStateChanged(View(), _health));

    private KeyStateView View() => ViewOf(_health);

    private KeyStateView ViewOf(KeyHealth health)
    {
        var (status, until, reason) = KeyHealthPolicy.StatusAt(health, Now);
        return new KeyStateView(_key.Id, _key.Masked, _key.Source,
            status switch { KeyStatus.Disabled => "disabled", KeyStatus.CoolingDown => "cooling", _ => "ready" },
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
internal sealed record KeyCredentialChanged(ApiKeyCredential Credential);

/// <summary>A key's state changed; sent by the key actor to its provider with the full health for ordering.</summary>
internal sealed record KeyStateChanged(KeyStateView View, KeyHealth Health);
