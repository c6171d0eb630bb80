using System.Collections.Concurrent;

namespace Durar.Actors.Sessions;

/// <summary>
/// One instance of each model name and of each set of overrides that resident sessions hold: every assistant entry carries
/// the model that answered, and most sessions have the same overrides (none, or the same auto-pinned key), which would
/// otherwise be a fresh copy per reply and per session, also when read back from the journal. Both are immutable, so
/// sharing an equal instance changes nothing but memory. Bounded: beyond <see cref="Capacity"/> distinct values of a kind,
/// a value is kept as it is.
/// </summary>
internal static class SessionInterning
{
    public const int Capacity = 4096;

    private static readonly ConcurrentDictionary<string, string> Strings = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<SessionOverrides, SessionOverrides> Overrides = new();

    public static string? Share(string? value)
    {
        if (value is null) return null;
        if (Strings.TryGetValue(value, out var shared)) return shared;
        return Strings.Count < Capacity ? Strings.GetOrAdd(value, value) : value;
    }

    public static SessionOverrides Share(SessionOverrides value)
    {
        if (ReferenceEquals(value, SessionOverrides.None)) return value;
        if (Overrides.TryGetValue(value, out var shared)) return shared;
        var (profile, model) = (Share(value.AuthProfile), Share(value.Model));
        if (!ReferenceEquals(profile, value.AuthProfile) || !ReferenceEquals(model, value.Model))
            value = value with { AuthProfile = profile, Model = model };
        return Overrides.Count < Capacity ? Overrides.GetOrAdd(value, value) : value;
    }
}
