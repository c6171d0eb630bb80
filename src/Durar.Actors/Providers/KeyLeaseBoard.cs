using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Chat;

namespace Durar.Actors.Providers;

/// <summary>
/// The read side of the provider actors, for the request hot path: each provider actor publishes an immutable view of its
/// keys here whenever their state changes, and <see cref="Routing.ChatRunner"/> leases a plain key from that view without
/// a message round trip (no Ask on the hot path). The provider actor stays the only writer of key state; the board only
/// mirrors it. Whatever the view cannot decide on its own — probes of cooling keys, OAuth keys (their actor refreshes the
/// token), keys with an <c>rpm</c> limit (their actor counts the minute), a provider still recovering its keys' health or
/// waiting for the auth-profile store, and every "no key" answer — goes to the actors as before.
/// </summary>
/// <remarks>
/// Concurrent leases may read the same view; the least-recently-used order is kept with a compare-and-swap on the chosen
/// key's last-lease time, so two concurrent requests rotate over two keys as the actor would have.
/// </remarks>
public sealed class KeyLeaseBoard
{
    private readonly ConcurrentDictionary<string, ProviderLeaseView> _views = new(StringComparer.Ordinal);
    /// <summary>Per provider: the epoch of the last stamped key-set change; a view older than that is not served.</summary>
    private readonly ConcurrentDictionary<string, long> _required = new(StringComparer.Ordinal);
    private long _epoch;
    private volatile bool _open;

    /// <summary>Leases are served from the board once the registry serves (the auth-profile store has loaded, or is not used).</summary>
    public bool IsOpen => _open;

    internal void Open() => _open = true;

    internal void Close() => _open = false;

    /// <summary>
    /// Stamps a change to a provider's keys (<see cref="IKeySetChange"/>) just before its sender sends it: from now until the
    /// provider has applied it, leases of that provider go to the actors (ordered behind the change) instead of the board.
    /// </summary>
    public IProviderCommand Stamp(IProviderCommand command)
    {
        if (command is not IKeySetChange) return command;
        var epoch = Interlocked.Increment(ref _epoch);
        _required.AddOrUpdate(command.ProviderId, epoch, (_, current) => Math.Max(current, epoch));
        return command switch
        {
            ProviderCommands.UpsertCredential u => u with { BoardEpoch = epoch },
            ProviderCommands.RemoveCredential r => r with { BoardEpoch = epoch },
            ProviderCommands.SetOrder o => o with { BoardEpoch = epoch },
            _ => command,
        };
    }

    /// <summary>The newest stamped change for a provider: a new incarnation of its actor starts from it (it has no older view).</summary>
    internal long RequiredEpoch(string providerId) => _required.GetValueOrDefault(providerId);

    internal void Publish(ProviderLeaseView view) => _views[view.ProviderId] = view;

    internal void Withdraw(string providerId, IActorRef provider)
    {
        // Only the publisher's own view: a restarted provider may have published a new one already.
        if (_views.TryGetValue(providerId, out var view) && view.Provider.Equals(provider))
            _views.TryRemove(KeyValuePair.Create(providerId, view));
    }

    /// <summary>
    /// Applies a failed attempt to the published view at once, with the policy the provider and key actors use, so a
    /// lease that starts before the provider actor has read the report already skips the key (the report itself still
    /// goes to the provider, which republishes the same health and forwards it to the key actor).
    /// </summary>
    public void NoteFailure(IActorRef reportedTo, string providerId, string keyId, string modelId, AttemptOutcome.Failed failed)
    {
        for (var attempt = 0; attempt < 8; attempt++)
        {
            if (!_views.TryGetValue(providerId, out var view) || !view.Provider.Equals(reportedTo)) return;
            var updated = view.WithFailure(keyId, modelId, failed);
            if (updated is null || _views.TryUpdate(providerId, updated, view)) return;
        }
    }

    /// <summary>
    /// Takes a success of a healthy plain key into its provider's next usage batch instead of a message of its own: such a
    /// success changes nothing in the key's state machine (no recovery to record, no quota exhausted, no tpm to count), only
    /// its usage bookkeeping. False = the caller reports it as usual.
    /// </summary>
    public bool TryAbsorbSuccess(IActorRef reportedTo, string providerId, string keyId, AttemptOutcome.Succeeded success)
    {
        if (success.Hints.Exhausted || !_views.TryGetValue(providerId, out var view) || !view.Provider.Equals(reportedTo)) return false;
        foreach (var slot in view.Slots)
        {
            if (slot.Credential.Id != keyId) continue;
            if (!slot.Batched || !IsClean(slot)) return false;
            if (slot.Counters.AddSuccess(success.Usage, success.Cost, view.Now)) view.Provider.Tell(ProviderActor.UsagePending.Instance);
            return true;
        }
        return false;
    }

    private static bool IsClean(LeaseSlot slot) =>
        slot.LimitedUntil is null && slot.Health is { ErrorCount: 0, CooldownUntil: null, DisabledUntil: null, ModelCooldowns.IsEmpty: true };

    /// <summary>
    /// The key <see cref="ProviderActor"/> would lease for a normal attempt, or null when only the actor can answer (then
    /// the caller sends <see cref="ProviderCommands.AcquireKey"/>). The lease names the provider actor for outcome reports.
    /// </summary>
    public KeyLease? TryLease(string providerId, string modelId, ImmutableHashSet<string> excluded, string? preferredKeyId)
    {
        if (!_open || !_views.TryGetValue(providerId, out var view)) return null;
        if (_required.TryGetValue(providerId, out var required) && view.Epoch < required) return null; // a key change is on its way
        return view.TryLease(modelId, excluded, preferredKeyId);
    }
}

/// <summary>What the board knows of one key: its credential and health as the provider actor last saw them.</summary>
internal sealed class LeaseSlot(ApiKeyCredential credential, KeyHealth health, DateTimeOffset? limitedUntil, bool fast, bool batched,
    LeaseCounters counters, KeyLease lease)
{
    public ApiKeyCredential Credential { get; } = credential;
    public KeyHealth Health { get; } = health;
    public DateTimeOffset? LimitedUntil { get; } = limitedUntil;
    /// <summary>A plain key the board may hand out itself (no OAuth, no rpm, its actor running).</summary>
    public bool Fast { get; } = fast;
    /// <summary>Its successes may go into usage batches (a plain key without a tpm limit, which must count every answer).</summary>
    public bool Batched { get; } = batched;
    public LeaseCounters Counters { get; } = counters;
    /// <summary>The lease handed out for this key (immutable, so one instance serves every request).</summary>
    public KeyLease Lease { get; } = lease;

    public DateTimeOffset? BlockedUntil(string model, DateTimeOffset now)
    {
        var blocked = KeyHealthPolicy.BlockedUntil(Health, model, now);
        return LimitedUntil is { } limited && limited > now && (blocked is null || limited > blocked) ? limited : blocked;
    }
}

/// <summary>
/// Lease bookkeeping shared by the provider actor and the board (the only mutable part of a view): when the key was last
/// leased, and how often. Updated with interlocked operations from both sides.
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

    public void Leased(DateTimeOffset now)
    {
        Volatile.Write(ref _lastLeasedTicks, now.UtcTicks);
        Interlocked.Increment(ref _leases);
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

    /// <summary>Claims the key for a lease, stamped <paramref name="at"/> (UTC ticks), only if nobody leased it since <paramref name="seen"/> was read.</summary>
    public bool TryLease(long seen, long at)
    {
        var ticks = Math.Max(at, seen + 1); // strictly later, so the next reader sees the change
        if (Interlocked.CompareExchange(ref _lastLeasedTicks, ticks, seen) != seen) return false;
        Interlocked.Increment(ref _leases);
        return true;
    }
}

/// <summary>One provider's keys as its actor last published them (immutable apart from <see cref="LeaseCounters"/>).</summary>
internal sealed class ProviderLeaseView(string providerId, IActorRef provider, IScheduler clock, ImmutableArray<LeaseSlot> slots,
    ImmutableArray<string> explicitOrder, CooldownSettings cooldowns, long epoch)
{
    private const int Attempts = 4;

    public string ProviderId { get; } = providerId;
    public IActorRef Provider { get; } = provider;
    public ImmutableArray<LeaseSlot> Slots => slots;
    /// <summary>The newest stamped key-set change the provider had applied when it published this view.</summary>
    public long Epoch => epoch;
    public DateTimeOffset Now => clock.Now;

    /// <summary>
    /// The first pick of <see cref="ProviderActor"/>'s lease for a normal attempt (<see cref="KeyOrderPolicy"/>: the pinned
    /// key when it can serve, else <c>auth.order</c> exactly, else oauth, token, api_key, each least recently used first),
    /// without building the ordered list. Null when that pick is not a plain key, or when no key can serve.
    /// </summary>
    public KeyLease? TryLease(string model, ImmutableHashSet<string> excluded, string? preferred)
    {
        var now = clock.Now;
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var chosen = Pick(model, excluded, preferred, now, out var seen);
            // Not a plain key (or a pinned key whose token expired): its actor decides.
            if (chosen is null || !chosen.Fast || !chosen.Credential.UsableAt(now)) return null;
            // Stamped after every key's last lease, even one leased by a request that read the clock later: otherwise a lease
            // that lost a race could stamp its key older than the winner's, and the rotation would drift under load.
            if (chosen.Counters.TryLease(seen, Math.Max(now.UtcTicks, NewestLease() + 1))) return chosen.Lease;
            // Another request leased the same key meanwhile: pick again, so concurrent requests rotate over the keys.
        }
        return null;
    }

    /// <summary>This view with one key's failure applied (as <see cref="ProviderActor"/> applies it); null = nothing changes.</summary>
    public ProviderLeaseView? WithFailure(string keyId, string model, AttemptOutcome.Failed failed)
    {
        for (var i = 0; i < slots.Length; i++)
        {
            var s = slots[i];
            if (s.Credential.Id != keyId) continue;
            var decided = KeyHealthPolicy.Decide(s.Health, failed.Reason, model, failed.Hints, clock.Now, cooldowns);
            if (!decided.CountsAsError) return null;
            var slot = new LeaseSlot(s.Credential, KeyHealthPolicy.Apply(s.Health, decided), s.LimitedUntil, s.Fast, s.Batched, s.Counters, s.Lease);
            return new ProviderLeaseView(ProviderId, Provider, clock, slots.SetItem(i, slot), explicitOrder, cooldowns, epoch);
        }
        return null;
    }

    private long NewestLease()
    {
        var newest = 0L;
        foreach (var s in slots) newest = Math.Max(newest, s.Counters.LastLeasedTicks);
        return newest;
    }

    private LeaseSlot? Pick(string model, ImmutableHashSet<string> excluded, string? preferred, DateTimeOffset now, out long seen)
    {
        seen = 0;
        // The keyless stand-in of an optional-key provider steps aside once a usable real key is there.
        var anyReal = false;
        foreach (var s in slots)
            if (!s.Credential.IsKeyless && s.Credential.UsableAt(now)) { anyReal = true; break; }

        if (preferred is not null)
            foreach (var s in slots)
                if (s.Credential.Id == preferred)
                {
                    if (!excluded.Contains(preferred) && s.BlockedUntil(model, now) is null)
                    {
                        seen = s.Counters.LastLeasedTicks;
                        return s;
                    }
                    break;
                }

        LeaseSlot? chosen = null;
        if (!explicitOrder.IsDefaultOrEmpty)
        {
            // auth.order exactly: the first entry whose key can serve (keys outside it are never tried).
            foreach (var entry in explicitOrder)
            {
                LeaseSlot? match = null;
                foreach (var s in slots)
                    if (Usable(s, anyReal, now) && (s.Credential.Id == entry || s.Credential.Source == entry)) { match = s; break; }
                if (match is null || excluded.Contains(match.Credential.Id) || match.BlockedUntil(model, now) is not null) continue;
                chosen = match;
                seen = match.Counters.LastLeasedTicks;
                break;
            }
            return chosen;
        }
        var bestRank = int.MaxValue;
        var bestUsed = long.MaxValue;
        foreach (var s in slots)
        {
            if (!Usable(s, anyReal, now) || excluded.Contains(s.Credential.Id) || s.BlockedUntil(model, now) is not null) continue;
            var rank = KeyOrderPolicy.TypeRank(s.Credential.Type);
            var leased = s.Counters.LastLeasedTicks;
            var used = Math.Max(leased, s.Health.LastUsed?.UtcTicks ?? 0);
            if (rank < bestRank || (rank == bestRank && used < bestUsed))
            {
                chosen = s;
                bestRank = rank;
                bestUsed = used;
                seen = leased;
            }
        }
        return chosen;
    }

    private static bool Usable(LeaseSlot s, bool anyReal, DateTimeOffset now) =>
        s.Credential.UsableAt(now) && !(anyReal && s.Credential.IsKeyless);

    public static LeaseSlot Slot(ApiKeyCredential credential, KeyHealth health, DateTimeOffset? limitedUntil, bool down, KeyLimits limits,
        LeaseCounters counters, IActorRef provider) =>
        new(credential, health, limitedUntil, fast: credential.OAuth is null && limits.Rpm is null && !down,
            batched: credential.OAuth is null && limits.Rpm is null && limits.Tpm is null && !down, counters,
            new KeyLease(credential.Id, credential.Secret, provider));
}
