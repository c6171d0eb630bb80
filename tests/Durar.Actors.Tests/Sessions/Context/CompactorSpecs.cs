using System.Collections.Immutable;
using Durar.Actors.Chat;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Context;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Tests.Sessions.Context;

/// <summary>
/// The pure rules of compaction: what a turn's input counts, where the history is cut, what is sent in place of the
/// summarised turns, and how a session's state records a compaction. Counted with the estimate (four characters a token)
/// so every figure below can be worked out by hand: a 40-character message is 10 tokens plus 4 of framing.
/// </summary>
public sealed class CompactorSpecs
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UnixEpoch;
    private static readonly string Forty = new('x', 40);

    private static ContextBudget Budget(long input) => new(input + 100, 100, input, TokenCounter.Estimate);

    /// <summary>A session of <paramref name="turns"/> answered turns and one more user message (the turn being answered).</summary>
    private static SessionState Session(int turns)
    {
        var s = SessionState.Empty;
        for (var i = 0; i < turns; i++)
        {
            s = s.Apply(new SessionEvents.UserMessageAccepted(T0, Forty));
            s = s.Apply(new SessionEvents.AssistantReplied(T0, Forty, "p/m", null, null, 0m) { ReplyTo = s.NextSeq - 1 });
        }
        return s.Apply(new SessionEvents.UserMessageAccepted(T0, "now" + Forty));
    }

    /// <summary>The request <c>SessionTurns.BuildRequest</c> makes of <paramref name="s"/>: a system prompt, the summary, the conversation sent.</summary>
    private static ChatRequest Request(SessionState s)
    {
        var messages = ImmutableArray.CreateBuilder<ChatMessage>();
        messages.Add(new ChatMessage("system", "Be brief."));
        if (s.Summary is { } summary) messages.Add(new ChatMessage("system", summary.Text));
        foreach (var e in s.SentConversation(new HashSet<long>())) messages.Add(new ChatMessage(e.Role, e.Content));
        return new ChatRequest { Messages = messages.ToImmutable() };
    }

    private static TurnPrompt Prompt(SessionState s, long input) => TurnPrompt.Prepare(Request(s), Budget(input), s, new HashSet<long>());

    [Fact]
    public void Should_count_the_input_with_framing_and_entries_found_by_reference()
    {
        var s = Session(3);
        var prompt = Prompt(s, 1000);

        // 3 + (4 + 3 "Be brief.") + 6 × 14 + (4 + 11 "now" + 40 chars).
        Assert.Equal(3 + 7 + 6 * 14 + 15, prompt.Total);
        Assert.Equal(7, prompt.Entries.Length);
        Assert.Equal([TurnPrompt.Other, 0, 1, 2, 3, 4, 5, 6], prompt.EntryOf);
        Assert.Equal(10, prompt.FixedTokens);
        Assert.True(prompt.Fits);
        Assert.False(Prompt(s, prompt.Total - 1).Fits);
    }

    [Fact]
    public void Should_cut_on_a_user_message_and_keep_recent_turns_in_half_the_room_left()
    {
        var s = Session(20);
        var prompt = Prompt(s, 300);
        Assert.False(prompt.Fits);

        var cut = Compactor.Plan(prompt, 300, runFirstSeq: s.NextSeq - 1)!;

        // Room: 300 − 10 fixed − 60 summary cap (300/5) − (4 + 24 header) = 202; keep at most 101: the last user message
        // (15) and three whole turns before it (3 × 28 = 84).
        Assert.Equal(60, cut.SummaryCap);
        Assert.Equal("user", prompt.Entries[cut.Cut].Role);
        Assert.Equal(prompt.Entries.Length - 7, cut.Cut);
        Assert.Equal(prompt.Entries[cut.Cut].Seq, cut.KeepFromSeq(prompt));
    }

    [Fact]
    public void Should_never_summarise_the_turn_being_answered()
    {
        var s = Session(2).Apply(new SessionEvents.UserMessageAccepted(T0, new string('y', 400)));
        var prompt = Prompt(s, 220);

        var cut = Compactor.Plan(prompt, 220, runFirstSeq: s.NextSeq - 2)!;

        // The run answers the last two user messages (collect): both stay, everything before goes into the summary.
        Assert.Equal(s.NextSeq - 2, cut.KeepFromSeq(prompt));
        Assert.Null(Compactor.Plan(prompt, 150, runFirstSeq: s.NextSeq - 2));
    }

    [Fact]
    public void Should_find_nothing_to_compact_when_the_turn_alone_is_left_or_does_not_fit()
    {
        var alone = Session(0);
        Assert.Null(Compactor.Plan(Prompt(alone, 100), 100, runFirstSeq: 1));

        var huge = SessionState.Empty.Apply(new SessionEvents.UserMessageAccepted(T0, new string('y', 4000)));
        Assert.Null(Compactor.Plan(Prompt(huge, 500), 500, runFirstSeq: 1));
    }

    [Fact]
    public void Should_send_the_summary_in_place_of_the_summarised_turns_within_the_target()
    {
        var s = Session(20);
        var prompt = Prompt(s, 300);
        var cut = Compactor.Plan(prompt, 300, s.NextSeq - 1)!;

        var after = Compactor.Apply(prompt, cut, "Twenty turns of x.", 300);

        var messages = after.Request.Messages;
        Assert.Equal("Be brief.", messages[0].Text);
        Assert.Equal(ContextSummary.Header + "Twenty turns of x.", messages[1].Text);
        Assert.Equal("system", messages[1].Role);
        Assert.Equal(prompt.Entries[cut.Cut..].Select(e => e.Content), messages.Skip(2).Select(m => m.Text));
        Assert.True(after.Total <= 300);
        Assert.Equal("Twenty turns of x.", after.SummaryBody);
        Assert.Equal(TurnPrompt.SummaryMessage, after.EntryOf[1]);
    }

    [Fact]
    public void Should_shorten_a_summary_that_would_not_let_the_input_fit()
    {
        var s = Session(20);
        var prompt = Prompt(s, 300);
        var cut = Compactor.Plan(prompt, 300, s.NextSeq - 1)!;

        var after = Compactor.Apply(prompt, cut, new string('z', 4000), 300);

        Assert.True(after.Total <= 300, $"{after.Total} tokens");
        Assert.EndsWith("[…]", after.SummaryBody);
    }

    [Fact]
    public void Should_split_what_to_summarise_into_pieces_the_summarising_model_takes()
    {
        var entries = Session(30).Transcript;
        var budget = Budget(400);

        var pieces = Compactor.Pieces(entries, budget, 40);

        Assert.True(pieces.Count > 1);
        Assert.All(pieces, p =>
            Assert.True(TokenCounter.Estimate.Count(Compactor.SummaryRequest(new string('s', 160), p, 40).Messages[1]) + 3
                + TokenCounter.Estimate.Count(Compactor.SummaryRequest(null, p, 40).Messages[0]) <= budget.Input));
        Assert.Equal(entries.Count, pieces.Sum(p => p.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Length));
    }

    [Fact]
    public void Should_record_a_compaction_and_resume_the_conversation_sent_at_the_kept_message()
    {
        var s = Session(3);
        var keepFrom = s.Transcript[4].Seq; // the third user message

        var compacted = s.Apply(new SessionEvents.Compacted(T0, keepFrom, "Two turns of x.", "p/m", 100, 40) { Usage = new TokenUsage(80, 10), Cost = 0.5m });

        Assert.Equal(1, compacted.CompactionCount);
        Assert.Equal(ContextSummary.Header + "Two turns of x.", compacted.Summary!.Text);
        Assert.Equal("Two turns of x.", compacted.Summary.BodyText());
        Assert.Equal(s.Transcript, compacted.Transcript); // the transcript keeps everything
        Assert.Equal(compacted.Transcript.Skip(4).Select(e => e.Seq), compacted.SentConversation(new HashSet<long>()).Select(e => e.Seq));
        Assert.Equal(90, compacted.Usage.Total);
        Assert.Equal(0.5m, compacted.Usage.Cost);

        var reset = compacted.Apply(new SessionEvents.SessionReset(T0));
        Assert.Null(reset.Summary);
        Assert.Equal(0, reset.CompactionCount);
    }

    [Fact]
    public void Should_keep_the_tokens_of_the_last_answered_input()
    {
        var s = SessionState.Empty.Apply(new SessionEvents.UserMessageAccepted(T0, "hi"))
            .Apply(new SessionEvents.AssistantReplied(T0, "hello", "p/m", null, null, 0m) { ReplyTo = 1, InputTokens = 42 });

        Assert.Equal(42, s.LastInputTokens);
        Assert.Equal(42, s.Apply(new SessionEvents.AssistantReplied(T0, "older journal", "p/m", null, null, 0m)).LastInputTokens);
    }
}
