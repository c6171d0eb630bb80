using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Providers;

/// <summary>
/// One API key (or auth profile) of one provider, and the single owner of that key's health. A persistent state machine:
/// <see cref="Ready"/> → <see cref="CoolingDown"/> → <see cref="Disabled"/>, with a timer that brings it back when the
/// window ends. Every attempt's outcome comes here; only changes of health are persisted (a success on a healthy key costs
/// no write), so a restart keeps every cooldown. Each change is pushed to the parent provider, which orders keys from it.
/// </summary>
public sealed class KeyActor : ReceivePersistentActor, IWithTimers
{
    private const string ExpiryTimer = "expiry";
    private const string FlushTimer = "flush-last-used";
    private const int SnapshotEvery = 100;

    private readonly ApiKeyCredential _key;
    private readonly CooldownSettings _cooldowns;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private KeyHealth _health = KeyHealth.Healthy;
    private DateTimeOffset? _unflushedLastUsed;
    private long _requests;
    private long _failures;

    public ITimerScheduler Timers { get; set; } = null!;

    public override string PersistenceId { get; }

    public KeyActor(ApiKeyCredential key, CooldownSettings cooldowns)
    {
        _key = key;
        _cooldowns = cooldowns;
        PersistenceId = "key-" + key.Id;
        Recover<IKeyEvent>(e => _health = KeyHealthPolicy.Apply(_health, e));
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is KeyHealthSnapshot snapshot) _health = snapshot.Health;
        });
        Recover<RecoveryCompleted>(_ => BecomeFor(Now));
    }

    public static Props Props(ApiKeyCredential key, CooldownSettings cooldowns) =>
        Akka.Actor.Props.Create(() => new KeyActor(key, cooldowns));

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    /// <summary>Serving normally. A success changes nothing that needs a write.</summary>
    private void Ready()
    {
        Common();
        Command<KeyCommands.ReportOutcome>(report =>
        {
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
        Command<KeyCommands.ReportOutcome>(report =>
        {
            switch (report.Outcome)
            {
                case AttemptOutcome.Succeeded:
                    PersistAndApply(new KeyEvents.Recovered(Now));
                    break;
                case AttemptOutcome.Failed failed:
                    OnFailed(report.ModelId, failed);
                    break;
            }
        });
    }

    /// <summary>Disabled for billing or a revoked key. Only a success (a probe after a top-up) or an operator reset ends it early.</summary>
    private void Disabled()
    {
        Common();
        Command<KeyCommands.ReportOutcome>(report =>
        {
            switch (report.Outcome)
            {
                case AttemptOutcome.Succeeded:
                    PersistAndApply(new KeyEvents.Recovered(Now));
                    break;
                case AttemptOutcome.Failed failed:
                    OnFailed(report.ModelId, failed);
                    break;
            }
        });
    }

    /// <summary>Handlers every state shares: leases (the provider decides whether a cooling key may serve), expiry, reset, flush.</summary>
    private void Common()
    {
        Command<ProviderCommands.AcquireKey>(_ =>
        {
            _requests++;
            _unflushedLastUsed = Now;
            _health = _health with { LastUsed = _unflushedLastUsed };
            Sender.Tell(new KeyLease(_key.Id, _key.Secret, Self));
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
                _unflushedLastUsed = null;
                Persist(new KeyEvents.Used(at), e => _health = KeyHealthPolicy.Apply(_health, e));
            }
        });
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(f => _log.Warning("Key [{KeyId}] snapshot failed: {Error}", _key.Id, f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("Key [{KeyId}] could not delete old events: {Error}", _key.Id, f.Cause.Message));
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

    private void PersistAndApply(IKeyEvent e) => Persist(e, Apply);

    private void Apply(IKeyEvent e)
    {
        var before = KeyHealthPolicy.StatusAt(_health, Now).Status;
        _health = KeyHealthPolicy.Apply(_health, e);
        if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(new KeyHealthSnapshot(_health));
        var after = BecomeFor(Now);
        if (before != after)
        {
            var (_, until, reason) = KeyHealthPolicy.StatusAt(_health, Now);
            _log.Info("Key [{KeyId}] {Before} -> {After} until {Until} ({Reason})", _key.Id, before, after, until, reason?.ToWireName());
        }
    }

    /// <summary>Switches to the behaviour the health calls for at <paramref name="now"/> and arms the expiry timer.</summary>
    private KeyStatus BecomeFor(DateTimeOffset now)
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
        PublishState();
        return status;
    }

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer(FlushTimer, FlushLastUsed.Instance, _cooldowns.LastUsedFlushInterval);
        base.PreStart();
    }

    private void PublishState() => Context.Parent.Tell(new KeyStateChanged(View(), _health));

    private KeyStateView View()
    {
        var (status, until, reason) = KeyHealthPolicy.StatusAt(_health, Now);
        return new KeyStateView(_key.Id, _key.Masked, _key.Source,
            status switch { KeyStatus.Disabled => "disabled", KeyStatus.CoolingDown => "cooling", _ => "ready" },
            until, reason?.ToWireName(), _health.ErrorCount, _health.FailureCounts, _health.LastUsed, _requests, _failures);
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

/// <summary>A key's state changed; sent by the key actor to its provider with the full health for ordering.</summary>
internal sealed record KeyStateChanged(KeyStateView View, KeyHealth Health);
