using System.Collections.Concurrent;
using System.Net;
using Durar.Actors.Configuration;

namespace Durar.Api.Access;

/// <summary>
/// Failed authentications per client address, with exponential back-off: after <c>gateway.auth.failures.threshold</c>
/// failures the address must wait <c>backoff</c>, doubling with each further failure up to <c>maxBackoff</c>, before any
/// request of it is looked at again (429 with Retry-After). A success clears the address; one quiet for
/// <c>forgetAfter</c> starts from zero. A request without an address counts under one shared entry (a null remote address
/// is never trusted as local).
/// </summary>
internal sealed class AuthFailureLimiter(AccessSettings settings, TimeProvider clock)
{
    private const int SweepAbove = 10_000;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private sealed class Entry
    {
        public int Failures;
        public DateTimeOffset LastFailure;
        public DateTimeOffset BlockedUntil;
    }

    private static string KeyOf(IPAddress? address) => address?.ToString() ?? "unknown";

    /// <summary>How long <paramref name="address"/> must still wait, or null when it may try.</summary>
    public TimeSpan? Wait(IPAddress? address)
    {
        if (!_entries.TryGetValue(KeyOf(address), out var entry)) return null;
        var now = clock.GetUtcNow();
        lock (entry) return entry.BlockedUntil > now ? entry.BlockedUntil - now : null;
    }

    /// <summary>Counts a failure; the wait it started when it crossed into (or further along) the back-off, else null.</summary>
    public TimeSpan? Failed(IPAddress? address)
    {
        var now = clock.GetUtcNow();
        if (_entries.Count > SweepAbove) Sweep(now);
        var entry = _entries.GetOrAdd(KeyOf(address), _ => new Entry());
        lock (entry)
        {
            if (now - entry.LastFailure > settings.FailureForgetAfter) entry.Failures = 0;
            entry.Failures++;
            entry.LastFailure = now;
            if (entry.Failures < settings.FailureThreshold) return null;
            var doublings = Math.Min(entry.Failures - settings.FailureThreshold, 30);
            var wait = TimeSpan.FromTicks(Math.Min(settings.FailureBackoff.Ticks * (1L << doublings), settings.FailureMaxBackoff.Ticks));
            if (wait <= TimeSpan.Zero || wait > settings.FailureMaxBackoff) wait = settings.FailureMaxBackoff;
            entry.BlockedUntil = now + wait;
            return wait;
        }
    }

    /// <summary>A successful authentication clears the address.</summary>
    public void Succeeded(IPAddress? address)
    {
        if (!_entries.IsEmpty) _entries.TryRemove(KeyOf(address), out _);
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, entry) in _entries)
            if (now - entry.LastFailure > settings.FailureForgetAfter && entry.BlockedUntil <= now) _entries.TryRemove(key, out _);
    }
}
