using System.Collections.Immutable;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// Issue 13, "Session limits: a bound on transcript size kept in memory and in snapshots", the pure rules
/// (<see cref="TranscriptWindow"/>): what stays resident, that the prompt built from the window is the one built from the
/// whole transcript, and that the trimmed entries come back identical from the journal's events.
/// </summary>
public sealed class SessionTranscriptBoundSpecs
{
    private static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch;
    private static readonly SessionTranscriptSettings Window = new(10, 1000);
    private static readonly HashSet<long> None = [];

    private static SessionEvents.AssistantReplied Reply(string text, long to) => new(At, text, "p/m", null, new TokenUsage(1, 1), 0m) { ReplyTo = to };

    /// <summary><paramref name="turns"/> answered turns of about 100 tokens a message, as journaled events.</summary>
    private static List<ISessionEvent> Turns(int turns, int from = 1, long firstSeq = 1)
    {
        var events = new List<ISessionEvent>();
        for (var i = 0; i < turns; i++)
        {
            events.Add(new SessionEvents.UserMessageAccepted(At, $"turn {from + i}: " + new string('x', 400)));
            events.Add(Reply($"answer {from + i}", firstSeq + 2 * i));
        }
        return events;
    }

    private static SessionState Fold(IEnumerable<ISessionEvent> events, SessionState? from = null) =>
        events.Aggregate(from ?? SessionState.Empty, (s, e) => s.Apply(e));

    [Fact]
    public void Should_keep_resident_and_snapshot_at_most_the_window_after_many_more_turns()
    {
        var state = SessionState.Empty;
        foreach (var e in Turns(500))
            state = TranscriptWindow.Trim(state.Apply(e), Window, long.MaxValue);

        // 1,000 entries; resident: the newest 1,000 tokens (eight turns), at least ten entries.
        Assert.InRange(state.Transcript.Count, 10, 20);
        Assert.Equal(1000, TranscriptWindow.Total(state));
        Assert.Equal(1000 - state.Transcript.Count, state.Archive!.Trimmed);
        Assert.Equal("user", state.Transcript[0].Role);
        Assert.Equal(1000, state.Transcript[^1].Seq);
    }

    [Fact]
    public void Should_build_the_same_prompt_from_the_window_as_from_the_whole_transcript_after_a_compaction()
    {
        var events = Turns(60);
        // A compaction kept the conversation from the user message 81 (turn 41) on.
        events.Add(new SessionEvents.Compacted(At, 81, "turns 1 to 40 were about x.", "p/m", 5000, 800));
        events.AddRange(Turns(5, from: 61, firstSeq: 121));
        var whole = Fold(events);

        var window = TranscriptWindow.Trim(whole, Window, long.MaxValue);

        Assert.True(window.Archive!.Trimmed >= 80);
        Assert.Equal(81, window.Transcript[0].Seq); // the summary's kept turns stay, though more than the window's ten entries
        Assert.Equal(whole.SentConversation(None).ToList(), window.SentConversation(None).ToList());
        Assert.Equal(whole.Summary, window.Summary);
    }

    [Fact]
    public void Should_keep_the_running_turn_and_every_reply_with_the_message_it_answers()
    {
        // Three messages queued behind each other, then their replies: the cut never separates a reply from its message.
        var events = Turns(20);
        events.Add(new SessionEvents.UserMessageAccepted(At, "a"));
        events.Add(new SessionEvents.UserMessageAccepted(At, "b"));
        events.AddRange(Enumerable.Range(0, 9).Select(i => (ISessionEvent)new SessionEvents.RunFailed(At, "e" + i, 502)));
        events.Add(Reply("to a", 41));
        events.Add(new SessionEvents.Compacted(At, 42, "turns 1 to 20 and a.", "p/m", 5000, 800)); // so the ten-entry bound rules
        var whole = Fold(events);

        var trimmed = TranscriptWindow.Trim(whole, Window, long.MaxValue);
        var running = TranscriptWindow.Trim(whole, Window, protectFromSeq: 35);

        Assert.Equal(41, trimmed.Transcript[0].Seq); // "a" stays with its reply, though ten entries start after it
        Assert.Equal(35, running.Transcript[0].Seq);
        Assert.Contains(trimmed.Conversation(None), e => e.Content == "to a");
    }

    [Fact]
    public void Should_rebuild_the_trimmed_entries_identically_from_the_journal_events()
    {
        var events = Turns(50);
        var state = SessionState.Empty;
        foreach (var e in events) state = TranscriptWindow.Trim(state.Apply(e), Window, long.MaxValue);
        var whole = Fold(events);

        Assert.Null(TranscriptWindow.ResidentPage(state, "k", 0, 30));
        var read = TranscriptWindow.Split(state, "k", 70, 40); // across the trimmed and the resident entries
        var fold = new TranscriptWindow.Fold(read);
        foreach (var e in events.TakeWhile(_ => !fold.Done)) fold.Add(e);
        var page = fold.Page();

        Assert.Equal((70, 100), (page.Offset, page.Total));
        Assert.Equal(whole.Transcript.Skip(70).Take(30).ToList(), page.Entries.ToList());
        Assert.Equal(whole.Transcript.Skip(95).ToList(), TranscriptWindow.ResidentPage(state, "k", 95, 500)!.Entries.ToList());
    }

    [Fact]
    public void Should_start_the_transcript_at_a_reset_and_recover_an_older_whole_snapshot_pinned()
    {
        var before = Fold(Turns(3));
        var reset = TranscriptWindow.Journaled(before.Apply(new SessionEvents.SessionReset(At)), new SessionEvents.SessionReset(At), 7);

        Assert.Equal(new TranscriptArchive(8, 7, 0, 0), reset.Archive);

        // A snapshot from before the window: no archive, its whole transcript; its events are gone from the journal.
        var old = before with { Archive = null };
        var recovered = TranscriptWindow.Recovered(old, snapshotSeq: 6);
        Assert.Equal(new TranscriptArchive(7, 7, 6, 0), recovered.Archive);
        var longer = TranscriptWindow.Trim(Fold(Turns(30, from: 4, firstSeq: 7), recovered), Window, long.MaxValue);
        Assert.Equal(66, longer.Transcript.Count); // no summary: trimming after pinned entries would leave a gap in the prompt
        Assert.Equal(Fold(Turns(33)).SentConversation(None).Select(e => e.Content), longer.SentConversation(None).Select(e => e.Content));
    }
}
