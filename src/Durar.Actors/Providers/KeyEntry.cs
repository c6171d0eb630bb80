using Akka.Actor;
using Durar.Actors.Catalog;
using Durar.Actors.Chat;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Providers;

/// <summary>
/// One key as its provider sees it: the credential, the health its key actor last pushed (with the provider's own outcomes
/// applied on top until the next push), whether its minute budget is spent, and whether its key actor is reachable. Immutable
/// apart from <see cref="Counters"/>: the provider actor replaces an entry on every change and publishes the whole set
/// (<see cref="ProviderKeys"/>) to the <see cref="KeyLeaseBoard"/>, so the actor and the board decide from the same data.
/// </summary>
internal sealed class KeyEntry
{
    private KeyEntry(ApiKeyCredential credential, KeyHealth health, DateTimeOffset? limitedUntil, bool down, KeyStateView? view,
        LeaseCounters counters, KeyLease lease, KeyLimits limits)
    {
        Credential = credential;
        Health = health;
        LimitedUntil = limitedUntil;
        Down = down;
        View = view;
        Counters = counters;
        Lease = lease;
        Limits = limits;
    }

    /// <summary>A key the provider has just been given: healthy until its key actor says otherwise.</summary>
    public static KeyEntry New(ApiKeyCredential credential, KeyLimits limits, IActorRef reportTo) =>
        new(credential, KeyHealth.Healthy, null, false, null, new LeaseCounters(), new KeyLease(credential.Id, credential.Secret, reportTo), limits);

    public ApiKeyCredential Credential { get; }
    public string Id => Credential.Id;
    public KeyHealth Health { get; }

    /// <summary>Until when the key's per-minute budget is spent (pushed by the key actor); null = it has room.</summary>
    public DateTimeOffset? LimitedUntil { get; }

    /// <summary>The key actor is not running (it stopped and is being restarted with backoff): only a plain lease can use the key.</summary>
    public bool Down { get; }

    /// <summary>The key actor's last published operator view; null until it reported (the provider is still recovering it).</summary>
    public KeyStateView? View { get; }

    /// <summary>Last lease time, lease count and the pending usage batch, shared with the <see cref="KeyLeaseBoard"/> (which leases too).</summary>
    public LeaseCounters Counters { get; }

    /// <summary>The lease handed out for this key (immutable, so one instance serves every request); it names the provider for reports.</summary>
    public KeyLease Lease { get; }

    private KeyLimits Limits { get; }

    /// <summary>
    /// A plain key: no OAuth token to refresh, no request count to keep. Its lease needs no message to its key actor, so the
    /// provider (or the board) hands it out itself, as long as the key can be used at all.
    /// </summary>
    public bool IsPlain => Credential.OAuth is null && Limits.Rpm is null;

    /// <summary>The board may lease this key on its own: plain, and its key actor running (its reports have somewhere to go).</summary>
    public bool Fast => IsPlain && !Down;

    /// <summary>Its successes may travel in usage batches: a fast key without a tpm limit (which must count every answer at once).</summary>
    public bool Batched => Fast && Limits.Tpm is null;

    /// <summary>A success on this key changes nothing in its state machine (no error to clear, no window to end): bookkeeping only.</summary>
    public bool IsClean => LimitedUntil is null && Health is { ErrorCount: 0, CooldownUntil: null, DisabledUntil: null, ModelCooldowns.IsEmpty: true };

    /// <summary>When the key can next serve <paramref name="model"/>: its health, or its spent minute budget, whichever is later; null = now.</summary>
    public DateTimeOffset? BlockedUntil(string? model, DateTimeOffset now)
    {
        var blocked = KeyHealthPolicy.BlockedUntil(Health, model, now);
        return LimitedUntil is { } limited && limited > now && (blocked is null || limited > blocked) ? limited : blocked;
    }

    /// <summary>The key's state as its key actor pushed it (the actor is running again if it was down).</summary>
    public KeyEntry WithPush(KeyStateView view, KeyHealth health, DateTimeOffset? limitedUntil) =>
        new(Credential, health, limitedUntil, false, view, Counters, Lease, Limits);

    public KeyEntry WithHealth(KeyHealth health) =>
        ReferenceEquals(health, Health) ? this : new(Credential, health, LimitedUntil, Down, View, Counters, Lease, Limits);

    public KeyEntry WithDown(bool down) => down == Down ? this : new(Credential, Health, LimitedUntil, down, View, Counters, Lease, Limits);

    /// <summary>A new secret (a profile update, an OAuth refresh) for the same key: health and counters are kept.</summary>
    public KeyEntry WithCredential(ApiKeyCredential credential) =>
        new(credential, Health, LimitedUntil, Down, View, Counters, new KeyLease(credential.Id, credential.Secret, Lease.KeyActor), Limits);

    /// <summary>The operator view: the key actor's, or "ready" before it reported, with this node's lease counts.</summary>
    public KeyStateView OperatorView() =>
        (View ?? new KeyStateView(Id, Credential.Masked, Credential.Source, "ready", null, null, 0, System.Collections.Immutable.ImmutableDictionary<string, int>.Empty,
            null, 0, 0)) with { Requests = Counters.Leases, LastUsed = Counters.LastLeased ?? View?.LastUsed };
}

/// <summary>
/// Lease bookkeeping shared by the provider actor and the board (the only mutable part of a key's entry): when the key was
/// last leased, how often, and the successes waiting to be sent to its key actor in one usage report. Updated with
/// interlocked operations (and a lock for the batch) from both sides.
/// </summary>
internal sealed class LeaseCounters
{
    private long _lastLeasedTicks; // UTC ticks; 0 = never
    private long _leases;

    public DateTimeOffset? LastLeased
    {
        get
        {
            var ticks = Volatile.Read(ref _lastLeasedTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    public long LastLeasedTicks => Volatile.Read(ref _lastLeasedTicks);

    public long Leases => Volatile.Read(ref _leases);

    /// <summary>The provider actor leased the key at <paramref name="now"/> (it is the only writer then: no race to settle).</summary>
    public void Leased(DateTimeOffset now)
    {
        Volatile.Write(ref _lastLeasedTicks, now.UtcTicks);
        Interlocked.Increment(ref _leases);
    }

    /// <summary>Claims the key for a lease, stamped <paramref name="at"/> (UTC ticks), only if nobody leased it since <paramref name="seen"/> was read.</summary>
    public bool TryLease(long seen, long at)
    {
        var ticks = Math.Max(at, seen + 1); // strictly later, so the next reader sees the change
        if (Interlocked.CompareExchange(ref _lastLeasedTicks, ticks, seen) != seen) return false;
        Interlocked.Increment(ref _leases);
        return true;
    }

    private readonly Lock _batchLock = new();
    private int _batchedRequests;
    private TokenUsage? _batchedUsage;
    private decimal _batchedCost;
    private DateTimeOffset _batchedLastUsed;

    /// <summary>Adds one success to the pending batch; true when the batch was empty (the provider must be told to flush it).</summary>
    public bool AddSuccess(TokenUsage? usage, decimal cost, DateTimeOffset at)
    {
        lock (_batchLock)
        {
            var first = _batchedRequests == 0;
            _batchedRequests++;
            if (usage is not null) _batchedUsage = _batchedUsage is null ? usage : _batchedUsage.Add(usage);
            _batchedCost += cost;
            if (at > _batchedLastUsed) _batchedLastUsed = at;
            return first;
        }
    }

    /// <summary>The pending batch as one report (and cleared); null = nothing pending.</summary>
    public KeyCommands.ReportUsage? TakeBatch(string keyId)
    {
        lock (_batchLock)
        {
            if (_batchedRequests == 0) return null;
            var batch = new KeyCommands.ReportUsage(keyId, _batchedRequests, _batchedUsage, _batchedCost, _batchedLastUsed);
            _batchedRequests = 0;
            _batchedUsage = null;
            _batchedCost = 0m;
            _batchedLastUsed = default;
            return batch;
        }
    }
}
