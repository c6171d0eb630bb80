using Durar.Actors.Chat;
using Durar.Actors.Sessions.Messages;
using Durar.Actors.Sessions.Runs;

namespace Durar.Actors.Tests.Sessions.Runs;

/// <summary>The pure run bookkeeping of a session: how each journaled event moves a run, the bound, and the idempotency lookup.</summary>
public sealed class SessionRunLedgerSpecs
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static SessionEvents.UserMessageAccepted User(string runId, int minute = 0, string? idempotencyKey = null) =>
        new(T0.AddMinutes(minute), "hi") { RunId = runId, IdempotencyKey = idempotencyKey };

    [Fact]
    public void Should_end_runs_as_done_failed_or_aborted_from_the_events_that_carry_their_ids()
    {
        var ledger = SessionRunLedger.Empty
            .Apply(User("a"), 1, 100).Apply(User("b"), 2, 100).Apply(User("c"), 3, 100).Apply(User("d"), 4, 100).Apply(User("e"), 5, 100)
            .Apply(new SessionEvents.AssistantReplied(T0, "ok", "p/m", null, new TokenUsage(1, 2), 0.1m) { RunIds = ["a"], Finish = "length" }, 6, 100)
            .Apply(new SessionEvents.RunFailed(T0, "boom", 502) { RunIds = ["b"], Code = "upstream_error" }, 7, 100)
            .Apply(new SessionEvents.AssistantReplied(T0, "par", "p/m", null, null, 0m) { RunIds = ["c"], Aborted = true }, 8, 100)
            .Apply(new SessionEvents.AssistantReplied(T0, "cut", "p/m", null, null, 0m) { RunIds = ["d"] }, 9, 100)
            .Apply(new SessionEvents.RunFailed(T0, "interrupted", 409) { RunIds = ["d"], Code = "interrupted" }, 10, 100);

        Assert.Equal((RunStatus.Done, 6L, "length"), (ledger.Find("a")!.Status, ledger.Find("a")!.ReplySeq!.Value, ledger.Find("a")!.Finish));
        Assert.Equal((RunStatus.Failed, 502, "upstream_error"), (ledger.Find("b")!.Status, ledger.Find("b")!.ErrorStatus!.Value, ledger.Find("b")!.ErrorCode));
        Assert.Equal((RunStatus.Aborted, "aborted", 8L), (ledger.Find("c")!.Status, ledger.Find("c")!.ErrorCode, ledger.Find("c")!.ReplySeq!.Value));
        Assert.Equal((RunStatus.Aborted, 9L), (ledger.Find("d")!.Status, ledger.Find("d")!.ReplySeq!.Value));
        Assert.Equal(RunStatus.Queued, ledger.Find("e")!.Status);

        var dropped = ledger.Apply(new SessionEvents.RunsDropped(T0, ["e"], 429, "queue_dropped", "dropped"), 11, 100);
        Assert.Equal((RunStatus.Failed, "queue_dropped"), (dropped.Find("e")!.Status, dropped.Find("e")!.ErrorCode));
    }

    [Fact]
    public void Should_keep_at_most_the_bound_forgetting_the_oldest_ended_runs_first()
    {
        var ledger = SessionRunLedger.Empty.Apply(User("open"), 1, 3).Apply(User("a"), 2, 3)
            .Apply(new SessionEvents.RunFailed(T0, "x", 502) { RunIds = ["a"] }, 3, 3)
            .Apply(User("b"), 4, 3)
            .Apply(User("c"), 5, 3);

        Assert.Equal(["open", "b", "c"], ledger.Runs.Select(r => r.RunId));
    }

    [Fact]
    public void Should_find_an_idempotency_key_only_within_its_ttl()
    {
        var ledger = SessionRunLedger.Empty.Apply(User("a", 0, "k"), 1, 100).Apply(User("b", 10, "other"), 2, 100);

        Assert.Equal("a", ledger.FindByIdempotencyKey("k", T0.AddMinutes(-1))!.RunId);
        Assert.Null(ledger.FindByIdempotencyKey("k", T0)); // accepted at the cut-off: expired
        Assert.Null(ledger.FindByIdempotencyKey("nope", T0.AddMinutes(-1)));
    }
}
