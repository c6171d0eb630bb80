using System.Collections.Immutable;
using Akka.Actor;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Providers;

/// <summary>
/// One provider's keys as pure state (decide/apply, CONVENTIONS C5): the entries, the order in force, and the last probe.
/// The provider actor holds the current value and replaces it on every change; the same value is what it publishes to the
/// <see cref="KeyLeaseBoard"/>, so a lease taken from the board and one decided by the actor come from one function
/// (<see cref="KeyOrderPolicy.Pick"/>), and an outcome changes a key the same way everywhere (<see cref="WithOutcome"/>).
/// </summary>
/// <param name="ReportTo">The provider actor: every lease names it for outcome reports.</param>
/// <param name="ConfiguredOrder"><c>auth.order</c> for this provider.</param>
/// <param name="StoredOrder">The order stored with the auth profiles (reference item 26); when set it wins over <paramref name="ConfiguredOrder"/>.</param>
internal sealed record ProviderKeys(
    string ProviderId,
    IActorRef ReportTo,
    ImmutableArray<KeyEntry> Entries,
    ImmutableArray<string> ConfiguredOrder,
    ImmutableArray<string> StoredOrder,
    KeyLimits Limits,
    CooldownSettings Cooldowns,
    DateTimeOffset LastProbe)
{
    public static ProviderKeys Start(string providerId, IActorRef reportTo, IEnumerable<ApiKeyCredential> credentials,
        ImmutableArray<string> configuredOrder, KeyLimits limits, CooldownSettings cooldowns) =>
        new(providerId, reportTo, [.. credentials.Select(c => KeyEntry.New(c, limits, reportTo))], configuredOrder.IsDefault ? [] : configuredOrder, [],
            limits, cooldowns, DateTimeOffset.MinValue);

    /// <summary>The order in force: the stored override when there is one, else <c>auth.order</c>.</summary>
    public ImmutableArray<string> Order => StoredOrder.IsDefaultOrEmpty ? ConfiguredOrder : StoredOrder;

    public KeyEntry? Find(string keyId)
    {
        foreach (var e in Entries)
            if (e.Id == keyId) return e;
        return null;
    }

    public KeyPick Pick(string model, ImmutableHashSet<string> excluded, string? preferred, DateTimeOffset now) =>
        KeyOrderPolicy.Pick(Entries, Order, model, excluded, preferred, now);

    /// <summary>
    /// The provider actor's answer to a lease request (<see cref="ProviderCommands.AcquireKey"/>), and the state after it
    /// (a probe is remembered). A plain key is leased here; any other chosen key goes to its key actor, which refreshes or
    /// counts before it answers; a key whose actor is down is skipped for such a request.
    /// </summary>
    public (LeaseDecision Decision, ProviderKeys Next) Acquire(ProviderCommands.AcquireKey request, DateTimeOffset now, FailoverSettings failover)
    {
        if (Entries.IsEmpty)
            return (new LeaseDecision.NoKey(new NoKeyAvailable(ProviderId, $"No API keys configured for provider \"{ProviderId}\".", FailoverReason.Auth, null)), this);
        var pick = Pick(request.ModelId, request.Excluded, request.PreferredKeyId, now);
        var chosen = pick.Chosen;
        var next = this;
        // A probe tests whether a cooling key works again; a key whose minute budget is spent is known not to serve.
        if (chosen is null && pick.Soonest is { } soonest && !(soonest.LimitedUntil > now) && ProbeAllowed(request.Probe, pick.SoonestAt!.Value, now, failover))
        {
            chosen = soonest;
            next = this with { LastProbe = now };
        }
        if (chosen is null) return (new LeaseDecision.NoKey(NoKey(pick, now)), this);
        if (chosen.IsPlain && chosen.Credential.UsableAt(now)) return (new LeaseDecision.Lease(chosen, Probe: !ReferenceEquals(next, this)), next);
        if (chosen.Down) return (new LeaseDecision.Exclude(chosen), next);
        return (new LeaseDecision.ToKeyActor(chosen, Probe: !ReferenceEquals(next, this)), next);
    }

    /// <summary>At most one probe per interval; the primary only from the margin before its recovery (reference item 63).</summary>
    private bool ProbeAllowed(ProbeMode mode, DateTimeOffset soonest, DateTimeOffset now, FailoverSettings failover) => mode switch
    {
        ProbeMode.None => false,
        _ when now - LastProbe < failover.ProbeInterval => false,
        ProbeMode.PrimaryMargin => now >= soonest - failover.ProbeMargin,
        _ => true,
    };

    private NoKeyAvailable NoKey(KeyPick pick, DateTimeOffset now)
    {
        if (pick.Soonest is not { } soonest)
        {
            if (!Entries.Any(e => e.Credential.UsableAt(now)))
                return new NoKeyAvailable(ProviderId,
                    $"Provider \"{ProviderId}\" has no usable key: every token has expired and none can be refreshed.", FailoverReason.Auth, null);
            // Every key was excluded by its own actor because it is disabled (a refused token refresh or exchange): say so.
            if (Entries.Length > 0 && Entries.All(e => KeyHealthPolicy.StatusAt(e.Health, now).Status == KeyStatus.Disabled)
                && KeyHealthPolicy.StatusAt(Entries[0].Health, now).Reason is { } disabledFor)
                return new NoKeyAvailable(ProviderId, $"Provider {ProviderId} has {disabledFor.ToWireName()} issue (every key disabled).", disabledFor, null);
            var outside = Order.IsDefaultOrEmpty ? "" : " (keys outside auth.order are never tried)";
            return new NoKeyAvailable(ProviderId, $"Every key of provider \"{ProviderId}\" was tried{outside}.", FailoverReason.RateLimit, null);
        }
        var (status, _, reason) = KeyHealthPolicy.StatusAt(soonest.Health, now);
        var why = reason ?? FailoverReason.RateLimit;
        var text = status == KeyStatus.Disabled
            ? $"Provider {ProviderId} has {why.ToWireName()} issue (every key disabled)."
            : $"Provider {ProviderId} is in cooldown (all profiles unavailable).";
        return new NoKeyAvailable(ProviderId, text, why, pick.SoonestAt);
    }

    /// <summary>
    /// An attempt's outcome applied to the key's health as its key actor will apply it (<see cref="KeyHealthPolicy.After"/>),
    /// so the next lease skips a key that just failed before the key actor (perhaps on another node) pushes its state.
    /// </summary>
    public ProviderKeys WithOutcome(string keyId, string model, AttemptOutcome outcome, DateTimeOffset now) =>
        Find(keyId) is { } e ? Replace(e, e.WithHealth(KeyHealthPolicy.After(e.Health, model, outcome, now, Cooldowns))) : this;

    public ProviderKeys WithPush(KeyStateChanged changed) =>
        Find(changed.View.KeyId) is { } e ? Replace(e, e.WithPush(changed.View, changed.Health, changed.LimitedUntil)) : this;

    public ProviderKeys WithDown(string keyId, bool down) => Find(keyId) is { } e ? Replace(e, e.WithDown(down)) : this;

    public ProviderKeys WithCredential(ApiKeyCredential credential) =>
        Find(credential.Id) is { } e ? Replace(e, e.WithCredential(credential)) : this;

    public ProviderKeys Add(ApiKeyCredential credential) => this with { Entries = Entries.Add(KeyEntry.New(credential, Limits, ReportTo)) };

    public ProviderKeys Remove(string keyId) => Find(keyId) is { } e ? this with { Entries = Entries.Remove(e) } : this;

    public ProviderKeys WithStoredOrder(ImmutableArray<string> order) => this with { StoredOrder = order.IsDefault ? [] : order };

    /// <summary>Every key has reported its persisted health at least once.</summary>
    public bool AllReported
    {
        get
        {
            foreach (var e in Entries)
                if (e.View is null) return false;
            return true;
        }
    }

    private ProviderKeys Replace(KeyEntry old, KeyEntry updated) =>
        ReferenceEquals(old, updated) ? this : this with { Entries = Entries.Replace(old, updated) };
}

/// <summary>What the provider actor does with a lease request.</summary>
internal abstract record LeaseDecision
{
    /// <summary>Answer with the key's lease now (a plain key needs no refresh and no count).</summary>
    public sealed record Lease(KeyEntry Key, bool Probe) : LeaseDecision;

    /// <summary>Forward to the key's actor, which refreshes its token or counts the minute before it answers.</summary>
    public sealed record ToKeyActor(KeyEntry Key, bool Probe) : LeaseDecision;

    /// <summary>The chosen key's actor is down: decide again without it.</summary>
    public sealed record Exclude(KeyEntry Key) : LeaseDecision;

    public sealed record NoKey(NoKeyAvailable Answer) : LeaseDecision;
}
