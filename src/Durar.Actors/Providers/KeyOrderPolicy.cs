using System.Collections.Immutable;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.Providers;

/// <summary>One key as the ordering policy sees it.</summary>
public sealed record KeyCandidate(string KeyId, string Source, string Type, KeyHealth Health, DateTimeOffset? LastLeased);

/// <summary>
/// The reference's profile order (items 26–29): with an explicit order (<c>auth.order</c>) that order exactly, cooling keys
/// moved to the end by soonest recovery, and keys outside it never tried; otherwise oauth, then token, then api_key, each
/// least-recently-used first (round-robin), cooling keys last. <c>lastGood</c> is deliberately not preferred.
/// </summary>
public static class KeyOrderPolicy
{
    public static ImmutableArray<KeyCandidate> Order(IReadOnlyList<KeyCandidate> keys, ImmutableArray<string> explicitOrder,
        string? model, DateTimeOffset now)
    {
        IEnumerable<KeyCandidate> pool;
        if (!explicitOrder.IsDefaultOrEmpty)
        {
            pool = explicitOrder
                .Select(entry => keys.FirstOrDefault(k => Matches(k, entry)))
                .OfType<KeyCandidate>()
                .Distinct();
        }
        else
        {
            pool = keys
                .OrderBy(k => TypeRank(k.Type))
                .ThenBy(k => Latest(k.LastLeased, k.Health.LastUsed) ?? DateTimeOffset.MinValue);
        }
        var list = pool.ToList();
        var available = list.Where(k => KeyHealthPolicy.BlockedUntil(k.Health, model, now) is null);
        var blocked = list.Where(k => KeyHealthPolicy.BlockedUntil(k.Health, model, now) is not null)
            .OrderBy(k => KeyHealthPolicy.BlockedUntil(k.Health, model, now));
        return [.. available, .. blocked];
    }

    /// <summary>An <c>auth.order</c> entry names a key by id, by the env var or config path it came from, or by profile id.</summary>
    public static bool Matches(KeyCandidate key, string entry) =>
        string.Equals(key.KeyId, entry, StringComparison.Ordinal) || string.Equals(key.Source, entry, StringComparison.Ordinal);

    /// <summary>oauth first, then token, then api_key (the round-robin order's first key; the lease board uses it too).</summary>
    internal static int TypeRank(string type) => type switch { CredentialTypes.OAuth => 0, CredentialTypes.Token => 1, _ => 2 };

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;
}
