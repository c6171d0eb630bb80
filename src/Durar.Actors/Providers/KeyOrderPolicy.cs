using System.Collections.Immutable;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Providers;

/// <summary>
/// Which key serves the next attempt: the one key-order and lease function, used by the provider actor and by the
/// <see cref="KeyLeaseBoard"/> (which must lease exactly what the actor would). The reference's profile order
/// (items 26–29): a pinned key first when it can serve; with an explicit order (<c>auth.order</c>, or the stored override)
/// that order exactly, keys outside it never tried; otherwise oauth, then token, then api_key, each least recently used
/// first (round robin). A key that cannot serve the model now (cooling, disabled, or its minute budget spent) is skipped;
/// the soonest of them is reported for probes and the "all cooling" answer. <c>lastGood</c> is deliberately not preferred.
/// </summary>
/// <remarks>
/// One pass over the keys, no allocation: it runs for every request on the board's hot path. An expired credential that
/// cannot be refreshed is never picked (reference items 23–24), and the keyless stand-in of an optional-key provider steps
/// aside once a usable real key is there.
/// </remarks>
internal static class KeyOrderPolicy
{
    /// <summary>The pick for one attempt on <paramref name="model"/>, skipping <paramref name="excluded"/> (keys this request already tried).</summary>
    /// <param name="order">The explicit order in force (entries name a key id or its source); empty = round robin.</param>
    /// <param name="preferred">A session's pinned key: first whenever it can serve, even outside the explicit order (item 31).</param>
    public static KeyPick Pick(ImmutableArray<KeyEntry> keys, ImmutableArray<string> order, string? model, ImmutableHashSet<string> excluded,
        string? preferred, DateTimeOffset now)
    {
        var anyReal = false;
        foreach (var k in keys)
            if (!k.Credential.IsKeyless && k.Credential.UsableAt(now)) { anyReal = true; break; }

        if (preferred is not null)
            foreach (var k in keys)
                if (k.Id == preferred)
                {
                    // An expired token is still returned (its key actor answers); the keyless stand-in steps aside like everywhere.
                    if (!excluded.Contains(preferred) && !(anyReal && k.Credential.IsKeyless) && k.BlockedUntil(model, now) is null)
                        return new KeyPick(k, k.Counters.LastLeasedTicks, null, null);
                    break; // otherwise it takes its usual place
                }

        return order.IsDefaultOrEmpty
            ? RoundRobin(keys, model, excluded, now, anyReal)
            : Ordered(keys, order, model, excluded, now, anyReal);
    }

    /// <summary><c>auth.order</c> exactly: the first entry whose key can serve; the soonest blocked entry otherwise (ties: the earlier entry).</summary>
    private static KeyPick Ordered(ImmutableArray<KeyEntry> keys, ImmutableArray<string> order, string? model, ImmutableHashSet<string> excluded,
        DateTimeOffset now, bool anyReal)
    {
        KeyEntry? soonest = null;
        DateTimeOffset? soonestAt = null;
        foreach (var entry in order)
        {
            KeyEntry? match = null;
            foreach (var k in keys)
                if (Eligible(k, anyReal, now) && Matches(k.Credential, entry)) { match = k; break; }
            if (match is null || excluded.Contains(match.Id)) continue;
            var blocked = match.BlockedUntil(model, now);
            if (blocked is null) return new KeyPick(match, match.Counters.LastLeasedTicks, null, null);
            if (soonestAt is null || blocked < soonestAt) (soonest, soonestAt) = (match, blocked);
        }
        return new KeyPick(null, 0, soonest, soonestAt);
    }

    /// <summary>
    /// Round robin: the lowest credential type rank, then the least recently used (the later of its last lease and its last
    /// use); ties go to the earlier key. Blocked keys compete for "soonest" by recovery time, then in the same order.
    /// </summary>
    private static KeyPick RoundRobin(ImmutableArray<KeyEntry> keys, string? model, ImmutableHashSet<string> excluded, DateTimeOffset now, bool anyReal)
    {
        KeyEntry? chosen = null, soonest = null;
        long chosenSeen = 0;
        var (bestRank, bestUsed) = (int.MaxValue, long.MaxValue);
        var (soonestRank, soonestUsed) = (int.MaxValue, long.MaxValue);
        DateTimeOffset? soonestAt = null;
        foreach (var k in keys)
        {
            if (!Eligible(k, anyReal, now) || excluded.Contains(k.Id)) continue;
            var rank = TypeRank(k.Credential.Type);
            var leased = k.Counters.LastLeasedTicks;
            var used = Math.Max(leased, k.Health.LastUsed?.UtcTicks ?? 0);
            var blocked = k.BlockedUntil(model, now);
            if (blocked is null)
            {
                if (rank < bestRank || (rank == bestRank && used < bestUsed))
                    (chosen, chosenSeen, bestRank, bestUsed) = (k, leased, rank, used);
            }
            else if (soonestAt is null || blocked < soonestAt || (blocked == soonestAt && (rank < soonestRank || (rank == soonestRank && used < soonestUsed))))
                (soonest, soonestAt, soonestRank, soonestUsed) = (k, blocked, rank, used);
        }
        return chosen is not null ? new KeyPick(chosen, chosenSeen, null, null) : new KeyPick(null, 0, soonest, soonestAt);
    }

    private static bool Eligible(KeyEntry k, bool anyReal, DateTimeOffset now) =>
        k.Credential.UsableAt(now) && !(anyReal && k.Credential.IsKeyless);

    /// <summary>An order entry names a key by id, by the env var or config path it came from, or by profile id.</summary>
    public static bool Matches(ApiKeyCredential key, string entry) =>
        string.Equals(key.Id, entry, StringComparison.Ordinal) || string.Equals(key.Source, entry, StringComparison.Ordinal);

    /// <summary>oauth first, then token, then api_key.</summary>
    public static int TypeRank(string type) => type switch { CredentialTypes.OAuth => 0, CredentialTypes.Token => 1, _ => 2 };
}

/// <summary>
/// The result of <see cref="KeyOrderPolicy.Pick"/>: the key to use (with its last-lease ticks as read, for the board's
/// compare-and-swap), or, when none can serve, the one that recovers soonest and when.
/// </summary>
internal readonly record struct KeyPick(KeyEntry? Chosen, long Seen, KeyEntry? Soonest, DateTimeOffset? SoonestAt);
