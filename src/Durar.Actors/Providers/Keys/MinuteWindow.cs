using Durar.Actors.Catalog;

namespace Durar.Actors.Providers.Keys;

/// <summary>
/// A key's per-minute limits (<see cref="KeyLimits"/>): the requests leased and the tokens answered in the sliding minute,
/// and until when the budget is spent. It holds no clock and no actor: the key actor, the single counter of its key across
/// the cluster, passes the time in, so every rule here is a plain function of its inputs.
/// </summary>
internal sealed class MinuteWindow(KeyLimits limits)
{
    /// <summary>Leases in the window (keys with an <c>rpm</c>), oldest first.</summary>
    private Queue<DateTimeOffset>? _granted;
    /// <summary>Tokens answered in the window (keys with a <c>tpm</c>), oldest first.</summary>
    private Queue<(DateTimeOffset At, long Tokens)>? _spent;
    private long _spentTotal;

    /// <summary>The limits in force; a provider attaching with other limits (a configuration change) replaces them.</summary>
    public KeyLimits Limits { get; set; } = limits;

    /// <summary>
    /// When the budget has room again, or null when it has room now (pruning the window as it goes): the <c>rpm</c>-th newest
    /// lease leaving the window, or enough of the oldest answers leaving it to bring the tokens under <c>tpm</c>.
    /// </summary>
    public DateTimeOffset? LimitedUntil(DateTimeOffset now)
    {
        if (!Limits.Any) return null;
        var from = now - KeyLimits.Window;
        DateTimeOffset? until = null;
        if (Limits.Rpm is { } rpm && _granted is not null)
        {
            while (_granted.Count > 0 && _granted.Peek() <= from) _granted.Dequeue();
            if (_granted.Count >= rpm) until = _granted.ElementAt(_granted.Count - rpm) + KeyLimits.Window;
        }
        if (Limits.Tpm is { } tpm && _spent is not null)
        {
            while (_spent.Count > 0 && _spent.Peek().At <= from) _spentTotal -= _spent.Dequeue().Tokens;
            if (_spentTotal >= tpm)
            {
                var left = _spentTotal;
                foreach (var (at, tokens) in _spent)
                {
                    left -= tokens;
                    if (left < tpm)
                    {
                        var free = at + KeyLimits.Window;
                        if (until is null || free > until) until = free;
                        break;
                    }
                }
            }
        }
        return until;
    }

    /// <summary>
    /// Counts a lease (keys with an <c>rpm</c>); true when it was the last one the minute allows (not for a lease counted
    /// after the budget was spent already, by earlier leases or by the <c>tpm</c>).
    /// </summary>
    public bool Grant(DateTimeOffset now)
    {
        if (Limits.Rpm is null) return false;
        var wasLimited = LimitedUntil(now) is not null;
        (_granted ??= new Queue<DateTimeOffset>()).Enqueue(now);
        return !wasLimited && LimitedUntil(now) is not null;
    }

    /// <summary>Counts an answer's tokens (keys with a <c>tpm</c>); true when they spent what was left of the minute.</summary>
    public bool Spend(long tokens, DateTimeOffset now)
    {
        if (Limits.Tpm is null || tokens <= 0) return false;
        var wasLimited = LimitedUntil(now) is not null;
        (_spent ??= new Queue<(DateTimeOffset, long)>()).Enqueue((now, tokens));
        _spentTotal += tokens;
        return !wasLimited && LimitedUntil(now) is not null;
    }
}
