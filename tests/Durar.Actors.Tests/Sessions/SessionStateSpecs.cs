using Durar.Actors.Chat;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// The session state the queue modes build on: messages queued during a run are journaled before that run's reply, yet
/// the conversation sent upstream puts each reply right after the message it answered and leaves out messages still
/// waiting; and the transcript pages clamp their bounds.
/// </summary>
public sealed class SessionStateSpecs
{
    private static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch;

    private static SessionState Apply(params ISessionEvent[] events) => events.Aggregate(SessionState.Empty, (s, e) => s.Apply(e));

    private static SessionEvents.AssistantReplied Reply(string text, long to) =>
        new(At, text, "p/m", null, new TokenUsage(1, 1), 0m) { ReplyTo = to };

    [Fact]
    public void Should_put_each_reply_after_the_message_it_answered_and_leave_out_waiting_messages()
    {
        // "two" and "three" were queued (journaled) while "one" ran; "two" then ran, "three" still waits.
        var state = Apply(new SessionEvents.UserMessageAccepted(At, "one"), new SessionEvents.UserMessageAccepted(At, "two"),
            new SessionEvents.UserMessageAccepted(At, "three"), Reply("answer one", 1), Reply("answer two", 2));

        Assert.Equal(["user:one", "assistant:answer one", "user:two", "assistant:answer two"],
            state.Conversation(new HashSet<long> { 3 }).Select(e => e.Role + ":" + e.Content));
        Assert.Equal(6, state.NextSeq);
    }

    [Fact]
    public void Should_leave_failed_runs_out_of_the_conversation_but_in_the_transcript()
    {
        var state = Apply(new SessionEvents.UserMessageAccepted(At, "one"), new SessionEvents.RunFailed(At, "interrupted", 409));

        Assert.Equal(["user:one"], state.Conversation(new HashSet<long>()).Select(e => e.Role + ":" + e.Content));
        Assert.Equal(["user", "error"], state.Transcript.Select(e => e.Role));
    }

    [Theory]
    [InlineData(-5, 2, 0, 2)]     // a negative offset starts at 0
    [InlineData(1, 0, 1, 1)]      // at least one entry
    [InlineData(2, 1000, 2, 3)]   // at most what is there (and at most 500)
    public void Should_clamp_transcript_pages(int offset, int limit, int expectedOffset, int expectedCount)
    {
        var state = Apply([.. Enumerable.Range(1, 5).Select(i => new SessionEvents.UserMessageAccepted(At, "m" + i))]);

        var page = TranscriptWindow.ResidentPage(state, "k", offset, limit)!;

        Assert.Equal(("k", expectedOffset, 5, expectedCount), (page.SessionKey, page.Offset, page.Total, page.Entries.Length));
        Assert.Equal("m" + (expectedOffset + 1), page.Entries[0].Content);
    }
}
