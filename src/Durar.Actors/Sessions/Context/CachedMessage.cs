using System.Collections.Immutable;
using Durar.Actors.Chat;

namespace Durar.Actors.Sessions.Context;

/// <summary>
/// A transcript entry's message as a run's request sends it, built once and kept with the entry, so a turn allocates the
/// message of its newest entries only, not one per entry of the whole conversation (issue 17: <see cref="ChatMessage"/>
/// led the allocation sample of a session turn, a long session rebuilding every earlier message on every turn). Like
/// <see cref="CachedTokens"/> it is a cache, not data: never persisted (a private field, which the journal's JSON ignores)
/// and never part of an entry's equality. A copy of the entry made with <c>with</c> carries the cache along: the message
/// is reused only while the fields it was built from are the same objects, else it is built again.
/// </summary>
internal struct CachedMessage : IEquatable<CachedMessage>
{
    private ChatMessage? _message;

    /// <summary>The entry's message: the cached one when <paramref name="entry"/>'s fields are those it was built from, else a new one (kept).</summary>
    public ChatMessage Get(TranscriptEntry entry)
    {
        var cached = Volatile.Read(ref _message);
        var text = TextOf(entry);
        var calls = entry.ToolCalls.IsDefault ? ImmutableArray<ToolCall>.Empty : entry.ToolCalls;
        if (cached is not null && ReferenceEquals(cached.Role, entry.Role) && ReferenceEquals(cached.Text, text)
            && ReferenceEquals(cached.Reasoning, entry.Reasoning) && ReferenceEquals(cached.ReasoningSignature, entry.ReasoningSignature)
            && cached.ToolCalls == calls)
            return cached;
        var built = new ChatMessage(entry.Role, text)
        {
            Reasoning = entry.Reasoning,
            ReasoningSignature = entry.ReasoningSignature,
            ToolCalls = calls,
        };
        Volatile.Write(ref _message, built);
        return built;
    }

    /// <summary>The message's text: the entry's content, or none for a reply of tool calls only.</summary>
    private static string? TextOf(TranscriptEntry entry) =>
        entry.ToolCalls.IsDefaultOrEmpty || entry.Content.Length > 0 ? entry.Content : null;

    /// <summary>Always true: a cache never makes two entries different.</summary>
    public readonly bool Equals(CachedMessage other) => true;

    public override readonly bool Equals(object? obj) => obj is CachedMessage;

    public override readonly int GetHashCode() => 0;
}
