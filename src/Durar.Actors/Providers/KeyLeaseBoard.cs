using System.Collections.Concurrent;
using Akka.Actor;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Providers;

/// <summary>
/// The read side of the provider actors, for the request hot path: each provider actor publishes its keys here
/// (<see cref="ProviderKeys"/>, the very value it decides from) whenever they change, and <see cref="Routing.ChatRunner"/>
/// leases a plain key from it without a message round trip (no Ask on the hot path). The provider actor stays the only
/// writer of key state; the board only mirrors it and leases through the same function (<see cref="KeyOrderPolicy.Pick"/>).
/// Whatever the board cannot decide on its own (probes of cooling keys, OAuth keys whose actor refreshes the token, keys with
/// an <c>rpm</c> limit whose actor counts the minute, a provider still recovering its keys' health or waiting for the
/// auth-profile store, and every "no key" answer) goes to the actors.
/// </summary>
/// <remarks>
/// Concurrent leases may read the same view; the least-recently-used order is kept with a compare-and-swap on the chosen
/// key's last-lease time, so two concurrent requests rotate over two keys as the actor would have.
/// </remarks>
internal sealed class KeyLeaseBoard
{
    private const int LeaseAttempts = 4;

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

    internal void Publish(ProviderLeaseView view) => _views[view.Keys.ProviderId] = view;

    /// <summary>Every provider's keys as last published, each with its clock's now (read by the <c>durar.keys</c> gauge).</summary>
    public IEnumerable<(ProviderKeys Keys, DateTimeOffset Now)> PublishedKeys()
    {
        foreach (var view in _views.Values) yield return (view.Keys, view.Now);
    }

    internal void Withdraw(string providerId, IActorRef provider)
    {
        // Only the publisher's own view: a restarted provider may have published a new one already.
        if (_views.TryGetValue(providerId, out var view) && view.Keys.ReportTo.Equals(provider))
            _views.TryRemove(KeyValuePair.Create(providerId, view));
    }

    /// <summary>
    /// Applies a failed attempt to the published view at once, through the function the provider and key actors use
    /// (<see cref="ProviderKeys.WithOutcome"/>), so a lease that starts before the provider actor has read the report already
    /// skips the key (the report itself still goes to the provider, which applies the same and forwards it to the key actor).
    /// </summary>
    public void NoteFailure(IActorRef reportedTo, string providerId, string keyId, string modelId, AttemptOutcome.Failed failed)
    {
        for (var attempt = 0; attempt < 8; attempt++)
        {
            if (!_views.TryGetValue(providerId, out var view) || !view.Keys.ReportTo.Equals(reportedTo)) return;
            var keys = view.Keys.WithOutcome(keyId, modelId, failed, view.Now);
            if (ReferenceEquals(keys, view.Keys) || _views.TryUpdate(providerId, view with { Keys = keys }, view)) return;
        }
    }

    /// <summary>
    /// Takes a success of a healthy plain key into its provider's next usage batch instead of a message of its own: such a
    /// success changes nothing in the key's state machine (no recovery to record, no quota exhausted, no tpm to count), only
    /// its usage bookkeeping. False = the caller reports it as usual.
    /// </summary>
    public bool TryAbsorbSuccess(IActorRef reportedTo, string providerId, string keyId, AttemptOutcome.Succeeded success)
    {
        if (success.Hints.Exhausted || !_views.TryGetValue(providerId, out var view) || !view.Keys.ReportTo.Equals(reportedTo)) return false;
        if (view.Keys.Find(keyId) is not { Batched: true, IsClean: true } key) return false;
        if (key.Counters.AddSuccess(success.Usage, success.Cost, view.Now)) reportedTo.Tell(ProviderActor.UsagePending.Instance);
        return true;
    }

    /// <summary>
    /// The key <see cref="ProviderActor"/> would lease for a normal attempt, or null when only the actor can answer (then
    /// the caller sends <see cref="ProviderCommands.AcquireKey"/>). The lease names the provider actor for outcome reports.
    /// </summary>
    public KeyLease? TryLease(string providerId, string modelId, System.Collections.Immutable.ImmutableHashSet<string> excluded, string? preferredKeyId)
    {
        if (!_open || !_views.TryGetValue(providerId, out var view)) return null;
        if (_required.TryGetValue(providerId, out var required) && view.Epoch < required) return null; // a key change is on its way
        var now = view.Now;
        for (var attempt = 0; attempt < LeaseAttempts; attempt++)
        {
            var pick = view.Keys.Pick(modelId, excluded, preferredKeyId, now);
            // Not a plain key whose actor runs (or a pinned key whose token expired): its actor decides.
            if (pick.Chosen is not { Fast: true } chosen || !chosen.Credential.UsableAt(now)) return null;
            // Stamped after every key's last lease, even one leased by a request that read the clock later: otherwise a lease
            // that lost a race could stamp its key older than the winner's, and the rotation would drift under load.
            if (chosen.Counters.TryLease(pick.Seen, Math.Max(now.UtcTicks, NewestLease(view.Keys) + 1))) return chosen.Lease;
            // Another request leased the same key meanwhile: pick again, so concurrent requests rotate over the keys.
        }
        return null;
    }

    /// <summary>This node's copy of a key's credential (its provider's, as last published), or null when it has none.</summary>
    public ApiKeyCredential? Credential(string providerId, string keyId) =>
        _views.TryGetValue(providerId, out var view) ? view.Keys.Find(keyId)?.Credential : null;

    private static long NewestLease(ProviderKeys keys)
    {
        var newest = 0L;
        foreach (var e in keys.Entries) newest = Math.Max(newest, e.Counters.LastLeasedTicks);
        return newest;
    }
}

/// <summary>
/// One provider's keys as its actor last published them, with the epoch of the newest stamped key-set change it had applied
/// and the actor system's clock (virtual in specs).
/// </summary>
internal sealed record ProviderLeaseView(ProviderKeys Keys, long Epoch, IScheduler Clock)
{
    public DateTimeOffset Now => Clock.Now;
}
