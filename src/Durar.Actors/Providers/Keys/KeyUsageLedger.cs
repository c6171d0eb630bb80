using Durar.Actors.Chat;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Providers.Keys;

/// <summary>
/// A key's usage bookkeeping between two journal writes: tokens, cost and last use not written yet (written together as one
/// <see cref="KeyEvents.Used"/> every flush interval, or at hand-off), and the request and failure counts of this incarnation
/// shown to operators. Plain data, owned by the key actor.
/// </summary>
internal sealed class KeyUsageLedger
{
    private DateTimeOffset? _lastUsed;
    private TokenUsage? _usage;
    private decimal _cost;

    /// <summary>Requests this key actor counted (leases it answered, reports and usage batches it received).</summary>
    public long Requests { get; private set; }

    public long Failures { get; private set; }

    /// <summary>One attempt's outcome: counted, its tokens and cost added.</summary>
    public void Note(AttemptOutcome outcome, DateTimeOffset now)
    {
        if (outcome is AttemptOutcome.Succeeded { Usage: { } usage } ok) Add(usage, ok.Cost);
        if (outcome is AttemptOutcome.Failed) Failures++;
        Requests++;
        _lastUsed = now;
    }

    /// <summary>A lease answered by the key actor itself (OAuth and rpm keys).</summary>
    public void Leased(DateTimeOffset now) => _lastUsed = now;

    /// <summary>A provider's batch of successes of a healthy plain key.</summary>
    public void Add(KeyCommands.ReportUsage batch)
    {
        if (batch.Usage is { } usage) Add(usage, batch.Cost);
        else _cost += batch.Cost;
        Requests += batch.Requests;
        if (_lastUsed is null || batch.LastUsed > _lastUsed) _lastUsed = batch.LastUsed;
    }

    private void Add(TokenUsage usage, decimal cost)
    {
        _usage = _usage is null ? usage : _usage.Add(usage);
        _cost += cost;
    }

    /// <summary>The bookkeeping not written yet, as one event (and cleared); null = nothing to write.</summary>
    public KeyEvents.Used? Take()
    {
        if (_lastUsed is not { } at) return null;
        var used = new KeyEvents.Used(at) { UsageDelta = _usage, CostDelta = _cost };
        _lastUsed = null;
        _usage = null;
        _cost = 0m;
        return used;
    }

    /// <summary>Lifetime totals for operators: what the journal holds plus what is not written yet.</summary>
    public (TokenUsage Usage, decimal Cost) Totals(KeyHealth health) =>
        (_usage is { } pending ? health.UsageTotal.Add(pending) : health.UsageTotal, health.CostTotal + _cost);
}
