namespace Durar.Actors.Sessions.Context;

/// <summary>
/// A transcript entry's token count, computed once per tokenizer and kept with the entry, so a turn counts only the
/// messages it has not counted before (the hot path of a long session is then one message per turn, not the whole
/// history). It is a cache, not data: never persisted (a private field, which the journal's JSON ignores) and never
/// part of an entry's equality (every <see cref="CachedTokens"/> equals every other). The count and the counter that made
/// it are packed in one <see cref="long"/> written atomically, so two threads counting the same entry at once both store
/// the same value and no reader sees half of one.
/// </summary>
internal struct CachedTokens : IEquatable<CachedTokens>
{
    private long _packed;

    /// <summary>The cached count for <paramref name="counter"/>, or counts with <paramref name="count"/> and keeps it.</summary>
    public int Get<TState>(TokenCounter counter, TState state, Func<TokenCounter, TState, int> count)
    {
        var packed = Interlocked.Read(ref _packed);
        if (packed != 0 && (byte)(packed >> 32) == counter.Id) return (int)(packed & 0xFFFF_FFFF);
        var n = count(counter, state);
        Interlocked.Exchange(ref _packed, ((long)counter.Id << 32) | (uint)n);
        return n;
    }

    /// <summary>Always true: a cache never makes two entries different.</summary>
    public readonly bool Equals(CachedTokens other) => true;

    public override readonly bool Equals(object? obj) => obj is CachedTokens;

    public override readonly int GetHashCode() => 0;
}
