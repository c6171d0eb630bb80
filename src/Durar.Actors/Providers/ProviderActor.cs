using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Providers;

/// <summary>
/// One provider. It keeps its keys as pure state (<see cref="ProviderKeys"/>: each key's health as its key actor last pushed
/// it, with this node's outcomes applied on top), answers lease requests from it (a plain key at once, any other key through
/// its key actor, which answers the caller directly), lets at most one probe of a cooling key through per probe interval, and
/// publishes every new state to the <see cref="KeyLeaseBoard"/> so requests can lease plain keys without a message. Keys come
/// from the environment at start and from the auth-profile store at runtime (<see cref="ProviderCommands.UpsertCredential"/>,
/// <see cref="ProviderCommands.RemoveCredential"/>, <see cref="ProviderCommands.SetOrder"/>).
/// <para>
/// Where the key actors live is <see cref="IKeyHosting"/>'s business: under this actor with a backoff supervisor on one node,
/// or as cluster-wide sharded entities. Either way this actor has one child per key (its handle) and sends straight to the key
/// actor once a push named it (watching it: when it stops, messages go through the handle again, or, on one node, the key is
/// down until its restarted actor reports).
/// </para>
/// </summary>
/// <remarks>
/// A little over the house's ~300 lines: it is the provider's protocol (leases, pushes, outcomes, resets, key-set changes,
/// usage batches); the decisions are <see cref="ProviderKeys"/>' and the children's bookkeeping is <see cref="KeyRoutes"/>'.
/// </remarks>
internal sealed class ProviderActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    private const string RecoveryTimer = "keys-recovered";
    private const string FlushTimer = "flush-usage";

    private readonly ProviderDefinition _provider;
    private readonly ImmutableArray<ApiKeyCredential> _initial;
    private readonly KeySettings _settings;
    private readonly FailoverSettings _failover;
    private readonly KeyLeaseBoard? _board;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly KeyRoutes _routes;
    /// <summary>Operators waiting for a key reset, by key id (answered when the key actor confirms it).</summary>
    private readonly Dictionary<string, List<IActorRef>> _resetReplies = new(StringComparer.Ordinal);
    private ProviderKeys _keys;
    /// <summary>The newest stamped key-set change applied (<see cref="KeyLeaseBoard.Stamp"/>), published with the keys.</summary>
    private long _epoch;
    private bool _publishing;

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    public ProviderActor(ProviderDefinition provider, ImmutableArray<ApiKeyCredential> credentials, ImmutableArray<string> explicitOrder,
        KeySettings settings, FailoverSettings failover, IKeyHosting hosting, KeyLeaseBoard? board)
    {
        _provider = provider;
        _initial = credentials;
        _settings = settings;
        _failover = failover;
        _board = board;
        _routes = new KeyRoutes(Context, hosting, provider.Limits);
        _keys = ProviderKeys.Start(provider.Id, Self, [], explicitOrder, provider.Limits, settings.Cooldowns);
        Recovering();
    }

    /// <param name="provider">The catalog entry.</param>
    /// <param name="credentials">The keys from configuration and the environment.</param>
    /// <param name="explicitOrder"><c>auth.order</c> for this provider (empty = round robin).</param>
    /// <param name="settings"><c>auth.keys</c> and the cooldown schedules.</param>
    /// <param name="failover">Probe interval and margin.</param>
    /// <param name="tokens">Refreshes OAuth credentials; null = they are never refreshed.</param>
    /// <param name="hosting">Where the key actors live; null = this actor's own (<see cref="LocalKeyHosting"/>).</param>
    /// <param name="board">Where this provider publishes its keys for leases without a message; null = every lease is a message.</param>
    public static Props Props(ProviderDefinition provider, ImmutableArray<ApiKeyCredential> credentials, ImmutableArray<string> explicitOrder,
        KeySettings settings, FailoverSettings failover, IOAuthTokenClient? tokens = null, IKeyHosting? hosting = null, KeyLeaseBoard? board = null)
    {
        var keyHosting = hosting ?? new LocalKeyHosting(settings, tokens);
        return Akka.Actor.Props.Create(() => new ProviderActor(provider, credentials, explicitOrder, settings, failover, keyHosting, board));
    }

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    /// <summary>
    /// Until every key actor has recovered its persisted health and reported it, requests wait: leasing a key whose cooldown
    /// has not been read back yet would send it straight into another 429 after a restart.
    /// </summary>
    private void Recovering()
    {
        Receive<KeyStateChanged>(changed =>
        {
            OnPush(changed);
            if (_keys.AllReported) BecomeActive();
        });
        Receive<RecoveryTimeout>(_ =>
        {
            _log.Warning("Provider [{ProviderId}]: not every key reported its state within {Timeout}; serving anyway", _provider.Id,
                _settings.RecoveryTimeout);
            BecomeActive();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void BecomeActive()
    {
        Timers.Cancel(RecoveryTimer);
        _publishing = true;
        Publish();
        Become(Active);
        Stash.UnstashAll();
    }

    private void Active()
    {
        Receive<ProviderCommands.AcquireKey>(OnAcquire);
        Receive<KeyStateChanged>(OnPush);
        Receive<KeyCommands.ReportOutcome>(OnOutcome);
        Receive<UsagePending>(_ =>
        {
            if (!Timers.IsTimerActive(FlushTimer)) Timers.StartSingleTimer(FlushTimer, FlushUsage.Instance, _settings.UsageFlushInterval);
        });
        Receive<FlushUsage>(_ => OnFlushUsage());
        Receive<ProviderCommands.ResetKey>(OnReset);
        Receive<KeyResetDone>(done =>
        {
            // The key actor pushed its reset state before this answer (same sender, same receiver), so the published keys
            // already show it ready: the operator's next request can lease it.
            if (!_resetReplies.Remove(done.KeyId, out var waiting)) return;
            foreach (var replyTo in waiting) replyTo.Tell(done);
        });
        Receive<ProviderCommands.GetProviderState>(_ => Sender.Tell(View()));
        Receive<ProviderCommands.UpsertCredential>(upsert => KeySetChanged(upsert, () => OnUpsert(upsert.Credential, Sender)));
        Receive<ProviderCommands.RemoveCredential>(remove => KeySetChanged(remove, () => OnRemove(remove.KeyId)));
        Receive<ProviderCommands.SetOrder>(order => KeySetChanged(order, () =>
        {
            Update(_keys.WithStoredOrder(order.Order));
            _log.Info("Provider [{ProviderId}]: key order {Order}", _provider.Id,
                _keys.StoredOrder.IsEmpty ? "from auth.order" : string.Join(", ", _keys.StoredOrder));
        }));
        Receive<KeyCredentialChanged>(changed =>
        {
            if (!_routes.TryGet(changed.Credential.Id, out var route)) return;
            Update(_keys.WithCredential(changed.Credential));
            _routes.Refreshed(route, changed);
        });
        Receive<Terminated>(terminated => OnTerminated(terminated.ActorRef));
        Receive<RecoveryTimeout>(_ => { });
    }

    private void OnAcquire(ProviderCommands.AcquireKey request)
    {
        var now = Now;
        var (decision, next) = _keys.Acquire(request, now, _failover);
        _keys = next; // a probe is remembered; nothing the board reads changed
        switch (decision)
        {
            case LeaseDecision.Lease lease:
                LogProbe(lease.Probe, lease.Key, request.ModelId);
                lease.Key.Counters.Leased(now);
                // A plain key needs no refresh: answered here, one hop fewer, and independent of its key actor being alive.
                Sender.Tell(lease.Key.Lease);
                break;
            case LeaseDecision.ToKeyActor toKey:
                LogProbe(toKey.Probe, toKey.Key, request.ModelId);
                toKey.Key.Counters.Leased(now);
                _routes.TryGet(toKey.Key.Id, out var route);
                route.Target.Forward(request with { Via = Self, Handle = Self });
                break;
            case LeaseDecision.Exclude exclude:
                Self.Forward(request with { Excluded = request.Excluded.Add(exclude.Key.Id) });
                break;
            case LeaseDecision.NoKey none:
                Sender.Tell(none.Answer);
                break;
        }
    }

    private void LogProbe(bool probe, KeyEntry key, string model)
    {
        if (probe) _log.Info("Probing cooling key [{KeyId}] of provider [{ProviderId}] for model [{ModelId}]", key.Id, _provider.Id, model);
    }

    /// <summary>
    /// A key actor's state: the key's entry follows it, the sender is where this key's messages go from now on, and the change
    /// is published on the node's event stream for observers (<see cref="KeyStateObserved"/>).
    /// </summary>
    private void OnPush(KeyStateChanged changed)
    {
        if (!_routes.TryGet(changed.View.KeyId, out var route)) return;
        Update(_keys.WithPush(changed));
        if (_keys.Find(changed.View.KeyId) is { } pushed) Context.System.EventStream.Publish(new KeyStateObserved(_provider.Id, pushed.OperatorView()));
        _routes.Pushed(route, Sender);
        foreach (var (reset, replyTo) in route.PendingResets) SendReset(route, reset, replyTo);
        route.PendingResets.Clear();
    }

    /// <summary>
    /// Leases name this actor for outcome reports: the outcome is applied to this node's copy at once, with the function the
    /// key actor uses, so the next lease on this node (already queued behind the report) skips a key that just failed even
    /// before its key actor (perhaps on another node) answers with its authoritative state. Then the report goes to the key.
    /// </summary>
    private void OnOutcome(KeyCommands.ReportOutcome report)
    {
        if (!_routes.TryGet(report.KeyId, out var route)) return;
        Update(_keys.WithOutcome(report.KeyId, report.ModelId, report.Outcome, Now));
        if (!IsDown(report.KeyId)) route.Target.Tell(report);
    }

    private void OnReset(ProviderCommands.ResetKey reset)
    {
        if (!_routes.TryGet(reset.KeyId, out var route)) Sender.Tell(new KeyResetDone(reset.KeyId, false));
        else if (IsDown(reset.KeyId)) route.PendingResets.Add((reset, Sender)); // delivered once its actor is back
        else SendReset(route, reset, Sender);
    }

    /// <summary>The key actor answers this provider, which answers the operator once its own keys show the reset.</summary>
    private void SendReset(KeyRoute route, ProviderCommands.ResetKey reset, IActorRef replyTo)
    {
        if (!_resetReplies.TryGetValue(reset.KeyId, out var waiting)) _resetReplies[reset.KeyId] = waiting = [];
        waiting.Add(replyTo);
        route.Target.Tell(reset, Self);
    }

    private void OnUpsert(ApiKeyCredential credential, IActorRef owner)
    {
        if (credential.ProviderId != _provider.Id) return;
        var owned = owner.IsNobody() ? null : owner;
        if (_routes.DeferWhileStopping(credential.Id, (credential, owned))) return;
        var known = _routes.TryGet(credential.Id, out var route);
        if (known)
        {
            _routes.Remember(route, credential, owned);
            Update(_keys.WithCredential(credential));
        }
        else route = AddKey(credential, owned);
        // A key actor that exists already (served before, or by another node) takes the new credential and keeps its health.
        route.Handle.Tell(new KeyCommands.UpdateCredential(credential, owned));
        _log.Info("Provider [{ProviderId}]: key [{KeyId}] {Change} ({Credential})", _provider.Id, credential.Id, known ? "updated" : "added", credential);
    }

    private void OnRemove(string keyId)
    {
        if (_routes.DeferWhileStopping(keyId, null)) return;
        if (_routes.Remove(keyId, Self) is not { } route) return;
        Update(_keys.Remove(keyId));
        foreach (var (_, replyTo) in route.PendingResets) replyTo.Tell(new KeyResetDone(keyId, false));
        _log.Info("Provider [{ProviderId}]: key [{KeyId}] removed", _provider.Id, keyId);
    }

    private void OnTerminated(IActorRef actor)
    {
        switch (_routes.OnTerminated(actor))
        {
            case KeyRoutes.Stopped.KeyActor { Down: true } stopped:
                Update(_keys.WithDown(stopped.KeyId, true));
                _log.Warning("Provider [{ProviderId}]: key actor [{KeyId}] stopped; its supervisor restarts it with backoff", _provider.Id, stopped.KeyId);
                break;
            case KeyRoutes.Stopped.Handle restarted:
                _log.Error("Provider [{ProviderId}]: the handle of key [{KeyId}] stopped unexpectedly; started it again", _provider.Id, restarted.KeyId);
                break;
            case KeyRoutes.Stopped.Removed again:
                AddKey(again.Credential, again.Owner).Handle.Tell(new KeyCommands.UpdateCredential(again.Credential, again.Owner));
                break;
        }
    }

    /// <summary>Applies a stamped key-set change: the published keys reach its epoch even when nothing else changed.</summary>
    private void KeySetChanged(IKeySetChange change, Action apply)
    {
        apply();
        if (change.BoardEpoch <= _epoch) return;
        _epoch = change.BoardEpoch;
        Publish();
    }

    private KeyRoute AddKey(ApiKeyCredential credential, IActorRef? owner)
    {
        var route = _routes.Add(credential, owner);
        Update(_keys.Add(credential));
        return route;
    }

    private bool IsDown(string keyId) => _keys.Find(keyId) is { Down: true };

    /// <summary>Every state change goes through here, and is published.</summary>
    private void Update(ProviderKeys next)
    {
        if (ReferenceEquals(next, _keys)) return;
        _keys = next;
        Publish();
    }

    private void Publish()
    {
        if (_publishing) _board?.Publish(new ProviderLeaseView(_keys, _epoch, Context.System.Scheduler));
    }

    /// <summary>Sends every key's pending success batch to its key actor (a down key keeps its batch for later).</summary>
    private void OnFlushUsage()
    {
        foreach (var entry in _keys.Entries)
            if (!entry.Down && _routes.TryGet(entry.Id, out var route) && entry.Counters.TakeBatch(entry.Id) is { } batch)
                route.Target.Tell(batch);
    }

    private ProviderStateView View() =>
        new(_provider.Id, _provider.Api, _provider.BaseUrl, [.. _keys.Entries.Select(e => e.OperatorView())]);

    protected override void PreStart()
    {
        // A new incarnation (a restart) starts from the board's newest stamped change: it has no older view to hold back.
        if (_board is not null) _epoch = _board.RequiredEpoch(_provider.Id);
        foreach (var credential in _initial) AddKey(credential, null);
        _log.Debug("Provider [{ProviderId}] started with {KeyCount} key(s)", _provider.Id, _routes.Count);
        if (_routes.Count == 0) BecomeActive();
        else Timers.StartSingleTimer(RecoveryTimer, RecoveryTimeout.Instance, _settings.RecoveryTimeout);
    }

    protected override void PostStop()
    {
        _board?.Withdraw(_provider.Id, Self);
        OnFlushUsage(); // batched successes still reach sharded keys (local key actors have stopped before this)
        base.PostStop();
    }

    /// <summary>A key's success batch went from empty to not empty: flush the batches within the usage flush interval.</summary>
    internal sealed class UsagePending : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static readonly UsagePending Instance = new();
        private UsagePending() { }
    }

    private sealed class FlushUsage : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static readonly FlushUsage Instance = new();
        private FlushUsage() { }
    }

    private sealed class RecoveryTimeout : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        public static readonly RecoveryTimeout Instance = new();
        private RecoveryTimeout() { }
    }
}
