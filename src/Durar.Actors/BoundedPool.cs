using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Durar.Actors;

/// <summary>
/// Idle instances of a per-request object kept for reuse (cancellation sources, timers): taken with <see cref="TryRent"/>,
/// given back with <see cref="TryKeep"/>, which keeps at most <paramref name="capacity"/> of them (more than the requests
/// a node runs at once is waste). Thread-safe; the bound is approximate under races, which only costs an instance more.
/// The caller resets an instance before giving it back and disposes one the pool does not keep.
/// </summary>
/// <param name="capacity">The most idle instances kept.</param>
internal sealed class BoundedPool<T>(int capacity) where T : class
{
    private readonly ConcurrentQueue<T> _idle = new();

    /// <summary>An idle instance, if one is kept.</summary>
    public bool TryRent([MaybeNullWhen(false)] out T item) => _idle.TryDequeue(out item);

    /// <summary>Keeps <paramref name="item"/> for the next <see cref="TryRent"/>; false when the pool is full (dispose it).</summary>
    public bool TryKeep(T item)
    {
        if (_idle.Count >= capacity) return false;
        _idle.Enqueue(item);
        return true;
    }
}
