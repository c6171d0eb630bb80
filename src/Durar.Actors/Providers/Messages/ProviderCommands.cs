using System.Collections.Immutable;
using Akka.Actor;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;

namespace Durar.Actors.Providers.Messages;

/// <summary>Messages addressed to one provider, routed by <see cref="ProviderId"/> through the provider registry.</summary>
public interface IWithProviderId
{
    string ProviderId { get; }
}

public interface IProviderCommand : IWithProviderId;

/// <summary>The provider protocol: leasing a key for one upstream attempt, and reading provider/key state.</summary>
public static class ProviderCommands
{
    /// <summary>
    /// Lease a key of <see cref="ProviderId"/> for one attempt on <see cref="ModelId"/>, skipping keys this request already
    /// tried. The provider orders its keys and forwards to the chosen key actor, which answers the sender directly with a
    /// <see cref="KeyLease"/>; when no key can serve, the provider answers <see cref="NoKeyAvailable"/>.
    /// </summary>
    public sealed record AcquireKey(string ProviderId, string ModelId, ImmutableHashSet<string> Excluded, ProbeMode Probe = ProbeMode.None)
        : IProviderCommand;

    /// <summary>Clear every cooldown and disable of one key (operator action). Answered with <see cref="KeyResetDone"/>.</summary>
    public sealed record ResetKey(string ProviderId, string KeyId) : IProviderCommand;

    /// <summary>Ask for a snapshot of every key of the provider (operator surface).</summary>
    public sealed record GetProviderState(string ProviderId) : IProviderCommand;

    /// <summary>Ask for a snapshot of every provider (answered by the registry with <see cref="ProviderStates"/>).</summary>
    public sealed record GetAllProviderStates;
}

/// <summary>
/// Whether a lease may use a key that is cooling down: never; at most once per probe interval per provider; or, for the
/// requested primary, only from the probe margin before its cooldown ends (reference items 62–63).
/// </summary>
public enum ProbeMode { None, Throttled, PrimaryMargin }

/// <summary>Answer to <see cref="ProviderCommands.ResetKey"/>; <see cref="Found"/> is false for an unknown key id.</summary>
public sealed record KeyResetDone(string KeyId, bool Found);

/// <summary>Messages to a key actor, sent by the request run after each attempt.</summary>
public static class KeyCommands
{
    /// <summary>How one attempt with a leased key ended. Drives the key's state machine and counters.</summary>
    public sealed record ReportOutcome(string KeyId, string ModelId, AttemptOutcome Outcome);
}

/// <summary>The result of one upstream attempt, as the key actor sees it.</summary>
public abstract record AttemptOutcome
{
    public sealed record Succeeded(RateLimitHints Hints, TokenUsage? Usage) : AttemptOutcome;
    public sealed record Failed(FailoverReason Reason, RateLimitHints Hints, string Message) : AttemptOutcome;
    /// <summary>The client went away; says nothing about the key's health.</summary>
    public sealed record Cancelled : AttemptOutcome;
}

/// <summary>Answer to <see cref="ProviderCommands.AcquireKey"/>.</summary>
public abstract record LeaseResult;

/// <summary>A key to use for one attempt. The secret travels only in-process and is never logged.</summary>
public sealed record KeyLease(string KeyId, string? Secret, IActorRef KeyActor) : LeaseResult
{
    public override string ToString() => $"KeyLease({KeyId})";
}

/// <summary>No key can serve now: none configured, all tried, or all cooling/disabled until <see cref="RetryAt"/>.</summary>
public sealed record NoKeyAvailable(string ProviderId, string Message, FailoverReason Reason, DateTimeOffset? RetryAt) : LeaseResult
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
    long Failures);

public sealed record ProviderStateView(string ProviderId, string Api, string? BaseUrl, ImmutableArray<KeyStateView> Keys);

public sealed record ProviderStates(ImmutableArray<ProviderStateView> Providers);
