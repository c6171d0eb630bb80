using Durar.Actors.Chat;
using Durar.Actors.Sessions;

namespace Durar.Actors.Tests.Sessions.Context;

/// <summary>
/// A transcript entry's message, as a run's request sends it, is built once and kept with the entry (issue 17), never
/// stale after a <c>with</c> copy, and never part of the entry's equality.
/// </summary>
public sealed class CachedMessageSpecs
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 14, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Should_build_the_message_of_an_entry_once()
    {
        var entry = new TranscriptEntry(2, "assistant", "a1", T0, "openai/gpt-5.4") { Reasoning = "r", ReasoningSignature = "sig" };

        var message = entry.AsMessage();

        Assert.Same(message, entry.AsMessage());
        Assert.Equal(new ChatMessage("assistant", "a1") { Reasoning = "r", ReasoningSignature = "sig" }, message with { ToolCalls = [] },
            new MessageComparer());
    }

    [Fact]
    public void Should_send_a_reply_of_tool_calls_only_without_text()
    {
        var call = new ToolCall("call_1", "get_weather", "{}");
        var entry = new TranscriptEntry(2, "assistant", "", T0) { ToolCalls = [call] };

        var message = entry.AsMessage();

        Assert.Null(message.Text);
        Assert.Equal(call, Assert.Single(message.ToolCalls));
    }

    [Fact]
    public void Should_build_the_message_again_for_a_copy_with_other_content()
    {
        var entry = new TranscriptEntry(1, "user", "u1", T0);
        var first = entry.AsMessage();

        var copy = entry with { Content = "u1 edited", Reasoning = null };

        var again = copy.AsMessage();
        Assert.Equal("u1 edited", again.Text);
        Assert.NotSame(first, again);
        Assert.Same(first, entry.AsMessage());
    }

    [Fact]
    public void Should_not_make_two_entries_different()
    {
        var built = new TranscriptEntry(1, "user", "u1", T0);
        _ = built.AsMessage();
        var fresh = new TranscriptEntry(1, "user", "u1", T0);

        Assert.Equal(fresh, built);
        Assert.Equal(fresh.GetHashCode(), built.GetHashCode());
    }

    /// <summary>The fields a message is built from (a record's equality compares its arrays by reference).</summary>
    private sealed class MessageComparer : IEqualityComparer<ChatMessage>
    {
        public bool Equals(ChatMessage? x, ChatMessage? y) =>
            (x?.Role, x?.Text, x?.Reasoning, x?.ReasoningSignature, x?.ToolCalls.Length) == (y?.Role, y?.Text, y?.Reasoning, y?.ReasoningSignature, y?.ToolCalls.Length);

        public int GetHashCode(ChatMessage obj) => obj.Role.GetHashCode(StringComparison.Ordinal);
    }
}
