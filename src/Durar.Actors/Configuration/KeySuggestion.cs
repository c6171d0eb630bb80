namespace Durar.Actors.Configuration;

/// <summary>
/// "Did you mean ...?" for a mistyped configuration key: the closest known key of the same level by edit distance
/// (insertions, deletions, substitutions and swaps of two neighbouring letters, case ignored), offered only when it is
/// close enough to be the likely intent: one edit for keys of up to five letters, two up to eight, three beyond.
/// </summary>
internal static class KeySuggestion
{
    /// <summary>The known key <paramref name="key"/> was most likely meant to be, or null when none is close.</summary>
    public static string? Closest(string key, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var d = Distance(key, candidate);
            if (d < bestDistance || (d == bestDistance && string.CompareOrdinal(candidate, best) < 0))
            {
                best = candidate;
                bestDistance = d;
            }
        }
        return best is not null && bestDistance <= Allowed(Math.Max(key.Length, best.Length)) ? best : null;
    }

    /// <summary>Edits allowed between a key and a suggestion of <paramref name="length"/> letters.</summary>
    internal static int Allowed(int length) => length <= 5 ? 1 : length <= 8 ? 2 : 3;

    /// <summary>Optimal string alignment distance (Damerau-Levenshtein without re-edits of a swapped pair), case-insensitive.</summary>
    public static int Distance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
