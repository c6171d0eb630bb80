using Durar.Actors.Sessions;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// The queue rules as a table (pure, no actor): admission against the cap and drop policy, the step after each change,
/// collect merging, dropped-message summaries, and the shared empty queue an idle session holds.
/// </summary>
public sealed class SessionQueueSpecs
{
    private sealed record Turn(string Content, QueueMode Mode) : IQueuedTurn;

    private static SessionQueue<Turn> Queue(params Turn[] turns)
    {
        var queue = SessionQueue<Turn>.Empty;
        foreach (var t in turns) queue = queue.Enqueue(t, running: true).Queue;
        return queue;
    }

    private static Turn F(string text) => new(text, QueueMode.Followup);

    private static Turn C(string text) => new(text, QueueMode.Collect);

    private static Turn I(string text) => new(text, QueueMode.Interrupt);

    [Theory]
    [InlineData(false, 2, QueueDropPolicy.New, QueueAdmission.Accept)]      // no run: the cap does not apply
    [InlineData(true, 2, QueueDropPolicy.New, QueueAdmission.RejectFull)]
    [InlineData(true, 2, QueueDropPolicy.Old, QueueAdmission.DropOldest)]
    [InlineData(true, 2, QueueDropPolicy.Summarize, QueueAdmission.DropOldest)]
    [InlineData(true, 3, QueueDropPolicy.New, QueueAdmission.Accept)]       // below the cap
    public void Should_admit_against_the_cap_only_while_a_run_is_active(bool running, int cap, QueueDropPolicy policy, Enum expected) => // Enum: QueueAdmission is internal
        Assert.Equal((QueueAdmission)expected, Queue(F("a"), F("b")).Admit(running, cap, policy));

    [Theory]
    [InlineData(QueueMode.Followup, false, QueueStep.RunNext, false)]
    [InlineData(QueueMode.Followup, true, QueueStep.Wait, false)]
    [InlineData(QueueMode.Collect, false, QueueStep.Debounce, false)]
    [InlineData(QueueMode.Collect, true, QueueStep.Debounce, false)]
    [InlineData(QueueMode.Interrupt, false, QueueStep.RunNext, false)]     // nothing to interrupt
    [InlineData(QueueMode.Interrupt, true, QueueStep.Wait, true)]          // the new message runs once the active one ends
    public void Should_decide_the_step_and_the_interrupt_when_a_message_is_queued(QueueMode mode, bool running, Enum step, bool interrupt) // Enum: QueueStep is internal
    {
        var (queue, decided, interrupts) = SessionQueue<Turn>.Empty.Enqueue(new Turn("m", mode), running);

        Assert.Equal(((QueueStep)step, interrupt), (decided, interrupts));
        Assert.Equal(["m"], queue.Waiting.Select(t => t.Content));
    }

    [Fact]
    public void Should_run_followups_one_at_a_time_in_order()
    {
        var (rest, first) = Queue(F("a"), F("b")).TakeNext();
        var (empty, second) = rest.TakeNext();

        Assert.Equal(["a"], first.Select(t => t.Content));
        Assert.Equal(["b"], second.Select(t => t.Content));
        Assert.Same(SessionQueue<Turn>.Empty, empty);
    }

    [Fact]
    public void Should_merge_the_leading_collect_messages_into_one_turn_and_leave_the_rest()
    {
        var (rest, turns) = Queue(C("a"), C("b"), F("c"), C("d")).TakeNext();

        Assert.Equal(["a", "b"], turns.Select(t => t.Content));
        Assert.Equal(["c", "d"], rest.Waiting.Select(t => t.Content));
    }

    [Fact]
    public void Should_take_nothing_from_an_empty_queue() => Assert.Empty(SessionQueue<Turn>.Empty.TakeNext().Turns);

    [Theory]
    [InlineData(QueueMode.Collect, QueueStep.Debounce)]
    [InlineData(QueueMode.Followup, QueueStep.RunNext)]
    [InlineData(QueueMode.Interrupt, QueueStep.RunNext)]
    public void Should_debounce_after_a_run_when_collect_messages_lead_and_run_next_otherwise(QueueMode head, Enum expected) // Enum: QueueStep is internal
    {
        Assert.Equal((QueueStep)expected, Queue(new Turn("x", head), F("y")).AfterRun());
        Assert.Equal(QueueStep.Wait, SessionQueue<Turn>.Empty.AfterRun());
    }

    [Fact]
    public void Should_drop_the_oldest_and_summarize_it_only_under_summarize()
    {
        var old = Queue(F("a"), F("b")).DropOldest(QueueDropPolicy.Old, out var droppedOld);
        var summarized = Queue(F("a"), F("b")).DropOldest(QueueDropPolicy.Summarize, out var droppedSummarized);

        Assert.Equal(("a", "a"), (droppedOld.Content, droppedSummarized.Content));
        Assert.Equal(["b"], old.Waiting.Select(t => t.Content));
        Assert.Empty(old.DroppedSummaries);
        Assert.Equal(["a"], summarized.DroppedSummaries);
    }

    [Fact]
    public void Should_cut_a_long_dropped_message_in_its_summary()
    {
        var queue = Queue(F(new string('x', 250)), F("b")).DropOldest(QueueDropPolicy.Summarize, out _);

        Assert.Equal(new string('x', SessionQueue<Turn>.SummaryLength) + "…", Assert.Single(queue.DroppedSummaries));
    }

    [Fact]
    public void Should_hand_the_summaries_to_the_next_turn_once_and_forget_them()
    {
        var queue = Queue(F("a"), F("b")).DropOldest(QueueDropPolicy.Summarize, out _);
        var (afterRun, turns) = queue.TakeNext();
        var (forgot, summaries) = afterRun.TakeDroppedSummaries();

        Assert.Equal(["b"], turns.Select(t => t.Content));
        Assert.Equal(["a"], summaries);
        Assert.Same(SessionQueue<Turn>.Empty, forgot); // nothing waits, nothing to mention: an idle session keeps no queue
        Assert.Empty(forgot.TakeDroppedSummaries().Summaries);
    }
}
