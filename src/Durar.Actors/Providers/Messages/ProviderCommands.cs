using System.Collections.Immutable;
using Akka.Actor;
using Durar.Actors.Catalog;
using Durar.Actors.Providers;
using Durar.Actors.Resilience;
using Durar.Actors.Chat;

namespace Durar.Actors.Providers.Messages;

/// <summary>Messages addressed to one provider, routed by <see cref="ProviderId"/> through the provider registry.</summary>
internal interface IWithProviderId
{
    string ProviderId { get; }
}

internal interface IProviderCommand : IWithProviderId;

/// <summary>
/// A change to which keys a provider serves, or in which order. Its sender stamps it with <see cref="KeyLeaseBoard.Stamp"/>
/// before sending, so leases read from the board wait for the provider to apply it (read-your-writes for the admin API).
/// </summary>
internal interface IKeySetChange : IProviderCommand
{
    /// <summary>The board epoch the provider's published view reaches once it has applied this change; 0 = not stamped.</summary>
    long BoardEpoch { get; }
}

/// <summary>The provider protocol: leasing a key for one upstream attempt, and reading provider/key state.</summary>
public static class ProviderCommands
{
    /// <summary>
    /// Lease a key of <see cref="ProviderId"/> for one attempt on <see cref="ModelId"/>, skipping keys this request already
    /// tried. The provider orders its keys and forwards to the chosen key actor, which answers the sender directly with a
    /// <see cref="KeyLease"/>; when no key can serve, the provider answers <see cref="NoKeyAvailable"/>.
    /// </summary>
    internal sealed record AcquireKey(string ProviderId, string ModelId, ImmutableHashSet<string> Excluded, ProbeMode Probe = ProbeMode.None)
        : IProviderCommand, IDurarWireMessage
    {
        /// <summary>A session's pinned key: moved to the front when it can serve now (reference item 29).</summary>
        public string? PreferredKeyId { get; init; }

        /// <summary>Set by the provider when it hands the request to a key actor: where the key sends it back to choose again.</summary>
        public IActorRef? Via { get; init; }

        /// <summary>Set with <see cref="Via"/>: the reference the lease names for outcome reports (this node's route to the key).</summary>
        public IActorRef? Handle { get; init; }

        /// <summary>How often a key actor sent this request back because its minute budget was spent (bounded).</summary>
        public int Hops { get; init; }
    }

    /// <summary>Clear every cooldown and disable of one key (operator action). Answered with <see cref="KeyResetDone"/>.</summary>
    public sealed record ResetKey(string ProviderId, string KeyId) : IProviderCommand, IDurarWireMessage;

    /// <summary>Ask for a snapshot of every key of the provider (operator surface).</summary>
    public sealed record GetProviderState(string ProviderId) : IProviderCommand;

    /// <summary>Ask for a snapshot of every provider (answered by the registry with <see cref="ProviderStates"/>).</summary>
    public sealed record GetAllProviderStates;

    /// <summary>
    /// Serve a credential from now on: a new key actor when <see cref="ApiKeyCredential.Id"/> is new, else the running key
    /// actor takes the new secret and keeps its health. Sent by the auth-profile store when a profile is created, changed or
    /// recovered; the sender owns the credential, and an OAuth key writes refreshed tokens back to it
    /// (<see cref="CredentialRefreshed"/>). Not answered.
    /// </summary>
    internal sealed record UpsertCredential(string ProviderId, ApiKeyCredential Credential) : IKeySetChange
    {
        public long BoardEpoch { get; init; }
    }

    /// <summary>Stop serving a key (its profile was deleted or became ineligible). Unknown ids are ignored. Not answered.</summary>
    internal sealed record RemoveCredential(string ProviderId, string KeyId) : IKeySetChange
    {
        public long BoardEpoch { get; init; }
    }

    /// <summary>
    /// The stored order override of the provider (reference item 26): when non-empty it wins over <c>auth.order</c>, with
    /// the same rules (keys left out are never tried); empty goes back to <c>auth.order</c>. Not answered.
    /// </summary>
    internal sealed record SetOrder(string ProviderId, ImmutableArray<string> Order) : IKeySetChange
    {
        public long BoardEpoch { get; init; }
    }

    /// <summary>
    /// To the provider registry, from the auth-profile store: every recovered profile and order has been pushed. A registry
    /// started to wait for it holds key leases until then, so the first requests after a restart see the stored profiles.
    /// </summary>
    internal sealed class CredentialsLoaded
    {
        public static readonly CredentialsLoaded Instance = new();
        private CredentialsLoaded() { }
    }
}

/// <summary>
/// Sent by an OAuth key actor to the owner of its credential (the auth-profile store) after a successful refresh, so the
/// new tokens are written back. In-process only; <see cref="ToString"/> masks the tokens.
/// </summary>
internal sealed record CredentialRefreshed(string ProviderId, string KeyId, string AccessToken, string RefreshToken, DateTimeOffset ExpiresAt)
    : IDurarWireMessage
{
    public override string ToString() =>
        $"CredentialRefreshed({KeyId}, access {ApiKeyCredential.Mask(AccessToken)}, refresh {ApiKeyCredential.Mask(RefreshToken)}, expires {ExpiresAt:O})";
}

/// <summary>
/// Whether a lease may use a key that is cooling down: never; at most once per probe interval per provider; or, for the
/// requested primary, only from the probe margin before its cooldown ends (reference items 62–63).
/// </summary>
internal enum ProbeMode { None, Throttled, PrimaryMargin }

/// <summary>Answer to <see cref="ProviderCommands.ResetKey"/>; <see cref="Found"/> is false for an unknown key id.</summary>
public sealed record KeyResetDone(string KeyId, bool Found) : IDurarWireMessage;

/// <summary>Messages to a key actor, sent by the request run after each attempt.</summary>
internal static class KeyCommands
{
    /// <summary>How one attempt with a leased key ended. Drives the key's state machine and counters.</summary>
    public sealed record ReportOutcome(string KeyId, string ModelId, AttemptOutcome Outcome) : IDurarWireMessage;

    /// <summary>
    /// Successes with a healthy plain key, batched by the provider (at most one per key per
    /// <see cref="Configuration.KeySettings.UsageFlushInterval"/>): such a success changes nothing but the key's usage bookkeeping, so it
    /// need not travel alone. <see cref="LastUsed"/> is the latest of them.
    /// </summary>
    public sealed record ReportUsage(string KeyId, int Requests, TokenUsage? Usage, decimal Cost, DateTimeOffset LastUsed) : IDurarWireMessage;

    /// <summary>
    /// The provider hands a running key actor a new credential for the same key id (a profile was updated); refreshed tokens
    /// go to <see cref="Owner"/>. The key's health is kept.
    /// </summary>
    public sealed record UpdateCredential(ApiKeyCredential Credential, IActorRef? Owner) : IDurarWireMessage;

    /// <summary>
    /// A provider actor (of any node) orders this key and wants its health: the key actor answers with its state at once and
    /// sends every later change. Providers attach again periodically, which also re-creates a key entity that moved to
    /// another node when its node left. <see cref="Credential"/> is used only by an entity that does not know the key yet.
    /// </summary>
    public sealed record Attach(IActorRef Provider, ApiKeyCredential Credential, IActorRef? Owner, KeyLimits Limits) : IDurarWireMessage
    {
        public override string ToString() => $"Attach({Credential}, {Provider.Path})";
    }

    /// <summary>The provider no longer serves this key (it was removed).</summary>
    public sealed record Detach(IActorRef Provider) : IDurarWireMessage;

    /// <summary>Hand-off stop of a sharded key: flush the unwritten bookkeeping, then stop.</summary>
    public sealed class Stop : IDurarWireMessage
    {
        public static readonly Stop Instance = new();
        private Stop() { }
    }
}

/// <summary>The result of one upstream attempt, as the key actor sees it.</summary>
internal abstract record AttemptOutcome
{
    public sealed record Succeeded(RateLimitHints Hints, TokenUsage? Usage) : AttemptOutcome
    {
        /// <summary>USD cost of <see cref="Usage"/> at the model's prices.</summary>
        public decimal Cost { get; init; }
    }
    public sealed record Failed(FailoverReason Reason, RateLimitHints Hints, string Message) : AttemptOutcome;
    /// <summary>The client went away; says nothing about the key's health.</summary>
    public sealed record Cancelled : AttemptOutcome;
}

/// <summary>Answer to <see cref="ProviderCommands.AcquireKey"/>.</summary>
internal abstract record LeaseResult : IDurarWireMessage;

/// <summary>
/// A key to use for one attempt. The secret travels only in-process and is never logged: it is not serialized
/// (<see cref="System.Text.Json.Serialization.JsonIgnoreAttribute"/>), so a lease answered by a key entity on another node
/// arrives without it, and the requesting node takes the secret from its own copy of the credential (its provider's keys
/// on the <see cref="KeyLeaseBoard"/>, from its config or its auth-profile subscription; <c>KeyLeaseClient</c>).
/// </summary>
/// <param name="KeyActor">Where the attempt's <see cref="KeyCommands.ReportOutcome"/> goes: the provider, which applies it to its view and passes it to the key.</param>
internal sealed record KeyLease(string KeyId, [property: System.Text.Json.Serialization.JsonIgnore] string? Secret, IActorRef KeyActor) : LeaseResult
{
    /// <summary>The key has a secret (a lease that arrives without one must be completed from this node's copy).</summary>
    public bool HasSecret { get; init; }

    /// <summary>The expiry of the credential the lease was granted with (an OAuth token): an older local copy is not used.</summary>
    public DateTimeOffset? CredentialExpiresAt { get; init; }

    public override string ToString() => $"KeyLease({KeyId})";
}

/// <summary>No key can serve now: none configured, all tried, or all cooling/disabled until <see cref="RetryAt"/>.</summary>
internal sealed record NoKeyAvailable(string ProviderId, string Message, FailoverReason Reason, DateTimeOffset? RetryAt) : LeaseResult
{
    /// <summary>True when keys exist but all are cooling down or disabled (as opposed to none configured or all tried).</summary>
    public bool Cooling => RetryAt is not null;
}

/// <summary>Operator view of one key; the secret is masked to its last four characters.</summary>
public sealed record KeyStateView(
    string KeyId,
    string Masked,
    string Source,
    string State,
    DateTimeOffset? Until,
    string? Reason,
    int ErrorCount,
    ImmutableDictionary<string, int> FailureCounts,
    DateTimeOffset? LastUsed,
    long Requests,
    long Failures)
{
    public TokenUsage Usage { get; init; } = TokenUsage.Zero;
    public decimal Cost { get; init; }
}

public sealed record ProviderStateView(string ProviderId, string Api, string? BaseUrl, ImmutableArray<KeyStateView> Keys);

public sealed record ProviderStates(ImmutableArray<ProviderStateView> Providers);
