using Durar.Actors.Providers;

namespace Durar.Actors.Telemetry;

/// <summary>
/// The <c>durar.keys</c> gauge as a pure function of the providers' published keys: per provider that has keys, how many
/// are ready, cooling, disabled or limited (every state, zeros included, so a series does not vanish when its last key
/// recovers). The states are the operator view's (<c>GET /v1/admin/providers</c>): the key-wide status of
/// <see cref="KeyHealthPolicy.StatusAt"/>, and "limited" for a healthy key whose minute budget is spent.
/// </summary>
internal static class KeyStateCounts
{
    /// <summary>The states, in the order they are reported.</summary>
    public static readonly IReadOnlyList<string> States = ["ready", "cooling", "disabled", "limited"];

    public static IEnumerable<(string Provider, string State, int Count)> Of(IEnumerable<(ProviderKeys Keys, DateTimeOffset Now)> providers)
    {
        foreach (var (keys, now) in providers)
        {
            if (keys.Entries.IsEmpty) continue;
            var counts = new int[States.Count];
            foreach (var entry in keys.Entries) counts[IndexOf(entry, now)]++;
            for (var i = 0; i < counts.Length; i++) yield return (keys.ProviderId, States[i], counts[i]);
        }
    }

    /// <summary>The state of one key at <paramref name="now"/>: 0 ready, 1 cooling, 2 disabled, 3 limited.</summary>
    public static string StateOf(KeyEntry entry, DateTimeOffset now) => States[IndexOf(entry, now)];

    private static int IndexOf(KeyEntry entry, DateTimeOffset now) => KeyHealthPolicy.StatusAt(entry.Health, now).Status switch
    {
        KeyStatus.Disabled => 2,
        KeyStatus.CoolingDown => 1,
        _ when entry.LimitedUntil is { } limited && limited > now => 3,
        _ => 0,
    };
}
