using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Providers;

/// <summary>
/// One provider. It owns the provider's key actors (one child per key), knows each key's health from their pushes, and
/// decides which key serves the next attempt (<see cref="KeyOrderPolicy"/>): the request is forwarded to that key actor,
/// which answers the caller directly. When every key is cooling it answers with the soonest recovery, and lets at most one
/// probe through per probe interval. Keys come from the environment at start and from the auth-profile store at runtime
/// (<see cref="ProviderCommands.UpsertCredential"/> / <see cref="ProviderCommands.RemoveCredential"/>); the store's order
/// override (<see cref="ProviderCommands.SetOrder"/>) wins over <c>auth.order</c>.
/// <para>
/// In a cluster the key actors are sharded entities shared by every node (<see cref="KeyHosting"/>): each node's provider
/// attaches to them, keeps their pushed health as its local read path (no network hop to lease a plain key), and
/// re-attaches every <see cref="ShardedKeys.Resync"/>. Keys with an <c>rpm</c> limit are leased by their key actor, the
/// only place that can count a minute's requests across nodes.
/// </para>
/// </summary>
public sealed class ProviderActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    private const string RecoveryTimer = "keys-recovered";
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(15);

    private readonly ProviderDefinition _provider;
    private readonly ImmutableArray<ApiKeyCredential> _credentials;
    private readonly ImmutableArray<string> _explicitOrder;
    private readonly CooldownSettings _cooldowns;
    private readonly FailoverSettings _failover;
    private readonly IOAuthTokenClient? _tokens;
    private readonly ShardedKeys? _sharded;
    private readonly KeyLeaseBoard? _board;
    private bool _active;
    /// <summary>The newest stamped key-set change applied (<see cref="KeyLeaseBoard.Stamp"/>), published with the view.</summary>
    private long _epoch;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<KeySlot> _slots = [];
    /// <summary>
    /// Keys removed whose actor has not stopped yet, with the credential to serve again once it has: the new actor has the
    /// same name and persistence id, so it must not start before the old one is gone.
    /// </summary>
    private readonly Dictionary<string, StoppingKey> _stopping = new(StringComparer.Ordinal);
    /// <summary>Operators waiting for a key reset, by key id (answered when the key actor confirms it).</summary>
    private readonly Dictionary<string, List<IActorRef>> _resetReplies = new(StringComparer.Ordinal);
    private ImmutableArray<string> _storedOrder = [];
    private DateTimeOffset _lastProbe = DateTimeOffset.MinValue;

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    private sealed class KeySlot(ApiKeyCredential credential, IActorRef actor, IActorRef? owner)
    {
        public ApiKeyCredential Credential { get; set; } = credential;
        public IActorRef Actor { get; set; } = actor;
        public IActorRef? Owner { get; set; } = owner;
        /// <summary>
        /// The sharded key actor itself (the sender of its state pushes), watched: outcome reports and forwarded leases go to
        /// it directly instead of through the proxy, the shard region and the shard. Null until known or after it stopped.
        /// </summary>
        public IActorRef? Entity { get; set; }
        /// <summary>Until when the key's per-minute budget is spent (pushed by the key actor); null = it has room.</summary>
        public DateTimeOffset? LimitedUntil { get; set; }
        /// <summary>The key actor stopped unexpectedly (e.g. its journal write failed) and is being restarted with backoff.</summary>
        public bool Down { get; set; }
        public int Restarts { get; set; }
        /// <summary>Operator resets that arrived while the key actor was down, delivered when it is back.</summary>
        public List<(ProviderCommands.ResetKey Reset, IActorRef ReplyTo)> PendingResets { get; } = [];
        public KeyStateView? View { get; set; }
        public KeyHealth Health { get; set; } = KeyHealth.Healthy;
        /// <summary>Last lease time and lease count, shared with the <see cref="KeyLeaseBoard"/> (which leases too).</summary>
        public LeaseCounters Counters { get; } = new();
        public KeyCandidate Candidate => new(Credential.Id, Credential.Source, Credential.Type, Health, Counters.LastLeased);
    }

    public ProviderActor(ProviderDefinition provider, ImmutableArray<ApiKeyCredential> credentials, ImmutableArray<string> explicitOrder,
        CooldownSettings cooldowns, FailoverSettings failover, IOAuthTokenClient? tokens = null, ShardedKeys? sharded = null,
        KeyLeaseBoard? board = null)
    {
        _provider = provider;
        _sharded = sharded;
        _board = board;
        _credentials = credentials;
        _explicitOrder = explicitOrder;
        _cooldowns = cooldowns;
        _failover = failover;
        _tokens = tokens;
        Recovering();
    }

    /// <summary>The stored order override when there is one (reference item 26), else <c>auth.order</c>.</summary>
    private ImmutableArray<string> ExplicitOrder => _storedOrder.IsDefaultOrEmpty ? _explicitOrder : _storedOrder;

    /// <summary>
    /// Until every key actor has recovered its persisted health and reported it, requests wait: leasing a key whose
    /// cooldown has not been read back yet would send it straight into another 429 after a restart.
    /// </summary>
    private void Recovering()
    {
        Receive<KeyStateChanged>(changed =>
        {
            OnKeyState(changed);
            if (_slots.TrueForAll(s => s.View is not null)) BecomeActive();
        });
        Receive<KeysRecoveryTimeout>(_ =>
        {
            _log.Warning("Provider [{ProviderId}]: not every key reported its state within {Timeout}; serving anyway", _provider.Id, RecoveryTimeout);
            BecomeActive();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void BecomeActive()
    {
        Timers.Cancel(RecoveryTimer);
        Become(Active);
        Stash.UnstashAll();
    }

    /// <summary>Serving: the board mirrors the keys from now on (every state change republishes the view).</summary>
    private void Active()
    {
        _active = true;
        Publish();
        Serving();
    }

    protected override bool AroundReceive(Akka.Actor.Receive receive, object message)
    {
        var handled = base.AroundReceive(receive, message);
        if (_active && message is IKeySetChange { BoardEpoch: > 0 } change) _epoch = Math.Max(_epoch, change.BoardEpoch);
        // Leases and successes change only the shared counters; anything else may change what the board must show.
        if (_active && message is not (ProviderCommands.AcquireKey or ProviderCommands.GetProviderState or Resync or UsagePending or FlushUsage
                or KeyCommands.ReportOutcome { Outcome: not AttemptOutcome.Failed }))
            Publish();
        return handled;
    }

    private void Publish()
    {
        if (_board is null) return;
        var slots = ImmutableArray.CreateBuilder<LeaseSlot>(_slots.Count);
        foreach (var s in _slots)
            slots.Add(ProviderLeaseView.Slot(s.Credential, s.Health, s.LimitedUntil, s.Down, _provider.Limits, s.Counters, Self));
        _board.Publish(new ProviderLeaseView(_provider.Id, Self, Context.System.Scheduler, slots.MoveToImmutable(), ExplicitOrder, _cooldowns, _epoch));
    }

    protected override void PostStop()
    {
        _board?.Withdraw(_provider.Id, Self);
        OnFlushUsage(); // batched successes still reach sharded keys (child key actors have stopped before this)
        base.PostStop();
    }

    private void Serving()
    {
        Receive<ProviderCommands.AcquireKey>(OnAcquire);
        Receive<KeyStateChanged>(OnKeyState);
        Receive<KeyCommands.ReportOutcome>(OnOutcome);
        Receive<KeysRecoveryTimeout>(_ => { });
        Receive<UsagePending>(_ =>
        {
            if (!Timers.IsTimerActive(nameof(FlushUsage))) Timers.StartSingleTimer(nameof(FlushUsage), FlushUsage.Instance, UsageFlushInterval);
        });
        Receive<FlushUsage>(_ => OnFlushUsage());
        Receive<Resync>(_ =>
        {
            foreach (var slot in _slots) slot.Actor.Tell(AttachOf(slot.Credential, slot.Owner));
        });
        Receive<ProviderCommands.ResetKey>(reset =>
        {
            var slot = _slots.Find(s => s.Credential.Id == reset.KeyId);
            if (slot is null) Sender.Tell(new KeyResetDone(reset.KeyId, false));
            else if (slot.Down) slot.PendingResets.Add((reset, Sender));
            else SendReset(slot, reset, Sender);
        });
        Receive<KeyResetDone>(done =>
        {
            // The key actor pushed its reset state before this answer (same sender, same receiver), so the view published
            // after this message already shows the key ready: the operator's next request can lease it.
            if (!_resetReplies.Remove(done.KeyId, out var waiting)) return;
            foreach (var replyTo in waiting) replyTo.Tell(done);
        });
        Receive<ProviderCommands.GetProviderState>(_ => Sender.Tell(View()));
        Receive<ProviderCommands.UpsertCredential>(upsert => OnUpsert(upsert.Credential, Sender));
        Receive<ProviderCommands.RemoveCredential>(remove => OnRemove(remove.KeyId));
        Receive<ProviderCommands.SetOrder>(order =>
        {
            _storedOrder = order.Order.IsDefault ? [] : order.Order;
            _log.Info("Provider [{ProviderId}]: key order {Order}", _provider.Id,
                _storedOrder.IsEmpty ? "from auth.order" : string.Join(", ", _storedOrder));
        });
        Receive<KeyCredentialChanged>(changed =>
        {
            if (_slots.Find(s => s.Credential.Id == changed.Credential.Id) is not { } slot) return;
            slot.Credential = changed.Credential;
            _sharded?.Directory.Set(new KeyDirectory.Entry(slot.Credential, slot.Owner, _provider.Limits));
        });
        Receive<Terminated>(terminated => OnKeyStopped(terminated.ActorRef));
        Receive<RestartKey>(OnRestartKey);
    }

    private void OnUpsert(ApiKeyCredential credential, IActorRef owner)
    {
        if (credential.ProviderId != _provider.Id) return;
        var owned = owner.IsNobody() ? null : owner;
        if (_stopping.TryGetValue(credential.Id, out var stopping))
        {
            stopping.Restart = (credential, owned);
            return;
        }
        if (_slots.Find(s => s.Credential.Id == credential.Id) is { } slot)
        {
            slot.Credential = credential;
            slot.Owner = owned;
            _sharded?.Directory.Set(new KeyDirectory.Entry(credential, owned, _provider.Limits));
            slot.Actor.Tell(new KeyCommands.UpdateCredential(credential, owned));
            _log.Info("Provider [{ProviderId}]: key [{KeyId}] updated ({Credential})", _provider.Id, credential.Id, credential);
            return;
        }
        var added = AddSlot(credential, owned);
        // A sharded key may already exist (served before, or by another node): the new credential replaces its copy.
        if (_sharded is not null) added.Actor.Tell(new KeyCommands.UpdateCredential(credential, owned));
        _log.Info("Provider [{ProviderId}]: key [{KeyId}] added ({Credential})", _provider.Id, credential.Id, credential);
    }

    private void OnRemove(string keyId)
    {
        if (_stopping.TryGetValue(keyId, out var stopping))
        {
            stopping.Restart = null;
            return;
        }
        if (_slots.Find(s => s.Credential.Id == keyId) is not { } slot) return;
        _slots.Remove(slot);
        if (slot.Entity is not null) Context.Unwatch(slot.Entity);
        if (_sharded is not null)
        {
            // Straight to the region: a message to the proxy could be dropped by the stop below.
            _sharded.Region.Tell(new Akka.Cluster.Sharding.ShardingEnvelope(keyId, new KeyCommands.Detach(Self)));
            _sharded.Directory.Remove(keyId);
        }
        _stopping[keyId] = new StoppingKey(slot.Actor);
        Context.Watch(slot.Actor);
        Context.Stop(slot.Actor);
        _log.Info("Provider [{ProviderId}]: key [{KeyId}] removed", _provider.Id, keyId);
    }

    private void OnKeyStopped(IActorRef actor)
    {
        if (_slots.Find(s => actor.Equals(s.Entity)) is { } moved)
        {
            // The key's entity stopped (hand-off, or its node left): back to the region until its next push names the new one.
            moved.Entity = null;
            return;
        }
        var keyId = _stopping.FirstOrDefault(e => e.Value.Actor.Equals(actor)).Key;
        if (keyId is not null && _stopping.Remove(keyId, out var stopped))
        {
            if (stopped.Restart is { } again) AddSlot(again.Credential, again.Owner);
            return;
        }
        // A key actor stopped on its own: Akka.Persistence stops an actor whose journal write failed. The key itself is
        // fine, so the provider keeps serving it from the last known health and restarts its actor with backoff.
        if (_slots.Find(s => s.Actor.Equals(actor)) is not { } slot) return;
        slot.Down = true;
        var delay = TimeSpan.FromMilliseconds(Math.Min(30_000, 1_000 * Math.Pow(2, Math.Min(slot.Restarts, 5))));
        slot.Restarts++;
        _log.Error("Provider [{ProviderId}]: key actor [{KeyId}] stopped unexpectedly; restarting it in {Delay}", _provider.Id, slot.Credential.Id, delay);
        Timers.StartSingleTimer("restart-" + slot.Credential.Id, new RestartKey(slot.Credential.Id), delay);
    }

    private void OnRestartKey(RestartKey restart)
    {
        if (_slots.Find(s => s.Credential.Id == restart.KeyId) is not { Down: true } slot) return;
        slot.Actor = Context.Watch(Context.ActorOf(KeyActor.Props(slot.Credential, _cooldowns, _tokens, null), ActorNames.Key(slot.Credential.Id)));
        slot.Down = false;
        foreach (var (reset, replyTo) in slot.PendingResets) SendReset(slot, reset, replyTo);
        slot.PendingResets.Clear();
        _log.Info("Provider [{ProviderId}]: key actor [{KeyId}] restarted", _provider.Id, slot.Credential.Id);
    }

    /// <summary>The key actor answers this provider, which answers the operator once its own view has the reset.</summary>
    private void SendReset(KeySlot slot, ProviderCommands.ResetKey reset, IActorRef replyTo)
    {
        if (!_resetReplies.TryGetValue(reset.KeyId, out var waiting)) _resetReplies[reset.KeyId] = waiting = [];
        waiting.Add(replyTo);
        slot.Actor.Tell(reset, Self);
    }

    private sealed record RestartKey(string KeyId) : INoSerializationVerificationNeeded;

    private sealed class StoppingKey(IActorRef actor)
    {
        public IActorRef Actor { get; } = actor;
        public (ApiKeyCredential Credential, IActorRef? Owner)? Restart { get; set; }
    }

    private KeySlot AddSlot(ApiKeyCredential credential, IActorRef? owner)
    {
        IActorRef child;
        if (_sharded is null)
            child = Context.Watch(Context.ActorOf(KeyActor.Props(credential, _cooldowns, _tokens, owner, _provider.Limits), ActorNames.Key(credential.Id)));
        else
        {
            _sharded.Directory.Set(new KeyDirectory.Entry(credential, owner, _provider.Limits));
            child = Context.Watch(Context.ActorOf(KeyProxy.Props(_sharded.Region, credential.Id), ActorNames.Key(credential.Id)));
            child.Tell(AttachOf(credential, owner));
        }
        var slot = new KeySlot(credential, child, owner);
        _slots.Add(slot);
        return slot;
    }

    private KeyCommands.Attach AttachOf(ApiKeyCredential credential, IActorRef? owner) => new(Self, credential, owner, _provider.Limits);

    /// <param name="tokens">Refreshes OAuth credentials added at runtime; null = they are never refreshed.</param>
    /// <param name="sharded">The key shard region when the node runs a cluster; null = key actors are this actor's children.</param>
    /// <param name="board">Where this provider publishes its keys for leases without a message; null = every lease is a message.</param>
    public static Props Props(ProviderDefinition provider, ImmutableArray<ApiKeyCredential> credentials, ImmutableArray<string> explicitOrder,
        CooldownSettings cooldowns, FailoverSettings failover, IOAuthTokenClient? tokens = null, ShardedKeys? sharded = null,
        KeyLeaseBoard? board = null) =>
        Akka.Actor.Props.Create(() => new ProviderActor(provider, credentials, explicitOrder, cooldowns, failover, tokens, sharded, board));

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    protected override void PreStart()
    {
        // A new incarnation (a restart) starts from the board's newest stamped change: it has no older view to hold back.
        if (_board is not null) _epoch = _board.RequiredEpoch(_provider.Id);
        foreach (var credential in _credentials) AddSlot(credential, null);
        if (_sharded is not null) Timers.StartPeriodicTimer("resync", Resync.Instance, _sharded.Resync);
        _log.Debug("Provider [{ProviderId}] started with {KeyCount} key(s)", _provider.Id, _slots.Count);
        if (_slots.Count == 0) Become(Active);
        else Timers.StartSingleTimer(RecoveryTimer, KeysRecoveryTimeout.Instance, RecoveryTimeout);
    }

    /// <summary>How long batched successes (<see cref="KeyLeaseBoard.TryAbsorbSuccess"/>) wait before they go to their key actors.</summary>
    public static readonly TimeSpan UsageFlushInterval = TimeSpan.FromSeconds(1);

    /// <summary>A key's success batch went from empty to not empty: flush the batches within <see cref="UsageFlushInterval"/>.</summary>
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

    /// <summary>Sends every key's pending success batch to its key actor.</summary>
    private void OnFlushUsage()
    {
        foreach (var slot in _slots)
            if (!slot.Down && slot.Counters.TakeBatch(slot.Credential.Id) is { } batch) // a down key keeps its batch for later
                (slot.Entity ?? slot.Actor).Tell(batch);
    }

    private sealed class Resync : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static readonly Resync Instance = new();
        private Resync() { }
    }

    private sealed class KeysRecoveryTimeout : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        public static readonly KeysRecoveryTimeout Instance = new();
        private KeysRecoveryTimeout() { }
    }

    private void OnAcquire(ProviderCommands.AcquireKey request)
    {
        if (_slots.Count == 0)
        {
            Sender.Tell(new NoKeyAvailable(_provider.Id, $"No API keys configured for provider \"{_provider.Id}\".", FailoverReason.Auth, null));
            return;
        }
        var now = Now;
        // An expired token (or OAuth access token without a refresh token) is not eligible (reference items 23–24), and the
        // keyless stand-in of an optional-key provider steps aside once a real key (an auth profile) is there.
        var usable = _slots.Where(s => s.Credential.UsableAt(now)).ToList();
        if (usable.Exists(s => !s.Credential.IsKeyless)) usable.RemoveAll(s => s.Credential.IsKeyless);
        var ordered = KeyOrderPolicy.Order(usable.Select(s => s.Candidate).ToList(), ExplicitOrder, request.ModelId, now);
        if (request.PreferredKeyId is { } preferred && _slots.Find(s => s.Credential.Id == preferred) is { } pinned
            && BlockedUntil(pinned, request.ModelId, now) is null)
            // A pinned key goes first even when it is outside auth.order (a user pin, reference item 31).
            ordered = [pinned.Candidate, .. ordered.Where(c => c.KeyId != preferred)];
        KeySlot? chosen = null;
        KeySlot? soonestBlocked = null;
        DateTimeOffset? soonest = null;
        foreach (var candidate in ordered)
        {
            if (request.Excluded.Contains(candidate.KeyId)) continue;
            var slot = _slots.Find(s => s.Credential.Id == candidate.KeyId)!;
            var blocked = BlockedUntil(slot, request.ModelId, now);
            if (blocked is null)
            {
                chosen = slot;
                break;
            }
            if (soonest is null || blocked < soonest)
            {
                soonest = blocked;
                soonestBlocked = slot;
            }
        }

        // A probe tests whether a cooling key works again; a key whose minute budget is spent is known not to serve.
        if (chosen is null && soonestBlocked is not null && !(soonestBlocked.LimitedUntil > now) && ProbeAllowed(request.Probe, soonest!.Value, now))
        {
            _lastProbe = now;
            chosen = soonestBlocked;
            _log.Info("Probing cooling key [{KeyId}] of provider [{ProviderId}] for model [{ModelId}]", chosen.Credential.Id, _provider.Id, request.ModelId);
        }

        if (chosen is null)
        {
            if (soonestBlocked is null)
            {
                var outside = ExplicitOrder.IsDefaultOrEmpty ? "" : " (keys outside auth.order are never tried)";
                Sender.Tell(new NoKeyAvailable(_provider.Id, $"Every key of provider \"{_provider.Id}\" was tried{outside}.", FailoverReason.RateLimit, null));
            }
            else
            {
                var (status, _, reason) = KeyHealthPolicy.StatusAt(soonestBlocked.Health, now);
                var why = reason ?? FailoverReason.RateLimit;
                var text = status == KeyStatus.Disabled
                    ? $"Provider {_provider.Id} has {why.ToWireName()} issue (every key disabled)."
                    : $"Provider {_provider.Id} is in cooldown (all profiles unavailable).";
                Sender.Tell(new NoKeyAvailable(_provider.Id, text, why, soonest));
            }
            return;
        }
        chosen.Counters.Leased(now);
        if (chosen.Credential.OAuth is null && chosen.Credential.UsableAt(now) && _provider.Limits.Rpm is null)
            // A plain key needs no refresh: answer here, one hop fewer on the hot path, and independent of the key
            // actor being alive (its outcome reports still go to it).
            Sender.Tell(new KeyLease(chosen.Credential.Id, chosen.Credential.Secret, Self));
        else if (!chosen.Down) (chosen.Entity ?? chosen.Actor).Forward(request with { Via = Self, Handle = Self });
        else Self.Forward(request with { Excluded = request.Excluded.Add(chosen.Credential.Id) });
    }

    /// <summary>At most one probe per interval; the primary only from the margin before its recovery (reference item 63).</summary>
    private bool ProbeAllowed(ProbeMode mode, DateTimeOffset soonest, DateTimeOffset now) => mode switch
    {
        ProbeMode.None => false,
        _ when now - _lastProbe < _failover.ProbeInterval => false,
        ProbeMode.PrimaryMargin => now >= soonest - _failover.ProbeMargin,
        _ => true,
    };

    private void OnKeyState(KeyStateChanged changed)
    {
        var slot = _slots.Find(s => s.Credential.Id == changed.View.KeyId);
        if (slot is null) return;
        slot.View = changed.View;
        slot.Health = changed.Health;
        slot.LimitedUntil = changed.LimitedUntil;
        if (_sharded is not null && !Sender.IsNobody() && !Sender.Equals(slot.Entity) && !Sender.Equals(slot.Actor))
        {
            if (slot.Entity is not null) Context.Unwatch(slot.Entity);
            slot.Entity = Context.Watch(Sender);
        }
    }

    /// <summary>
    /// Leases name this actor for outcome reports: a failure is applied to the local view at once, with the same policy the
    /// key actor uses, so the next lease on this node (already queued behind the report) skips the key even before the key
    /// actor — perhaps on another node — answers with its authoritative state. Then the report goes to the key actor.
    /// </summary>
    private void OnOutcome(KeyCommands.ReportOutcome report)
    {
        if (_slots.Find(s => s.Credential.Id == report.KeyId) is not { } slot) return;
        if (report.Outcome is AttemptOutcome.Failed failed)
        {
            var decided = KeyHealthPolicy.Decide(slot.Health, failed.Reason, report.ModelId, failed.Hints, Now, _cooldowns);
            if (decided.CountsAsError) slot.Health = KeyHealthPolicy.Apply(slot.Health, decided);
        }
        if (!slot.Down) (slot.Entity ?? slot.Actor).Tell(report);
    }

    /// <summary>When the key can next serve <paramref name="model"/>: its health, or its spent minute budget; null = now.</summary>
    private static DateTimeOffset? BlockedUntil(KeySlot slot, string model, DateTimeOffset now)
    {
        var blocked = KeyHealthPolicy.BlockedUntil(slot.Health, model, now);
        return slot.LimitedUntil is { } limited && limited > now && (blocked is null || limited > blocked) ? limited : blocked;
    }

    private ProviderStateView View() => new(_provider.Id, _provider.Api, _provider.BaseUrl,
        _slots.Select(s => (s.View ?? new KeyStateView(s.Credential.Id, s.Credential.Masked, s.Credential.Source, "ready", null, null, 0,
                ImmutableDictionary<string, int>.Empty, null, 0, 0)) with { Requests = s.Counters.Leases, LastUsed = s.Counters.LastLeased ?? s.View?.LastUsed })
            .ToImmutableArray());
}
