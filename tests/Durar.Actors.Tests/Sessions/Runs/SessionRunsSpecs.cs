using Akka.Configuration;
using Akka.Streams;
using Akka.TestKit;
using Durar.Actors.Chat;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Testing;
using Xunit.Abstractions;
using static Durar.Actors.Tests.Sessions.SessionNode;

namespace Durar.Actors.Tests.Sessions.Runs;

/// <summary>
/// The runs of a session at the actor level (issue 18), on virtual time with the in-memory journal and real upstream calls
/// to the fake provider: a run's status as it goes (queued, running, done) and a wait for its end; an abort of the active
/// run (the upstream call cancelled, the partial reply kept marked aborted) and of queued ones; and a repeated
/// <c>Idempotency-Key</c> answered by the first run until the key's TTL runs out.
/// </summary>
public sealed class SessionRunsSpecs(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(SessionMailbox.Hocon).WithFallback(VirtualTime.Config), nameof(SessionRunsSpecs), output),
        IAsyncLifetime
{
    private FakeProvider _fake = null!;
    private SessionNode _node = null!;

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    public async Task InitializeAsync()
    {
        _fake = await FakeProvider.StartAsync();
        _node = new SessionNode(this, _fake);
    }

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    private TurnAccepted Accept(Akka.Actor.IActorRef session, SessionCommands.SendMessage send)
    {
        session.Tell(send, TestActor);
        return ExpectMsg<TurnAccepted>(Patience);
    }

    private RunView Run(Akka.Actor.IActorRef session, string key, string runId)
    {
        session.Tell(new SessionCommands.GetRun(key, runId, TimeSpan.Zero), TestActor);
        return ExpectMsg<RunView>(Patience);
    }

    [Fact]
    public async Task Should_report_each_run_queued_running_then_done_and_answer_a_wait_at_the_end()
    {
        const string key = "runs-1";
        var session = _node.Start(key);
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fake.Enqueue(new FakeResponse { Text = "first answer", HeldUntil = hold.Task, PromptTokens = 12, CompletionTokens = 3 });
        var one = Accept(session, new SessionCommands.SendMessage(key, "one"));
        await _fake.WaitForRequestAsync(r => LastUser(r) == "one", Patience);
        var two = Accept(session, new SessionCommands.SendMessage(key, "two"));
        Assert.Matches("^run_[0-9a-f]{24}$", one.RunId);
        Assert.NotEqual(one.RunId, two.RunId);

        Assert.Equal("running", Run(session, key, one.RunId!).Status);
        Assert.Equal("queued", Run(session, key, two.RunId!).Status);

        // A wait that runs out answers with the status of the moment.
        session.Tell(new SessionCommands.GetRun(key, one.RunId!, TimeSpan.FromSeconds(5)), TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("running", ExpectMsg<RunView>(Patience).Status);

        // A wait in progress is answered when the run ends.
        session.Tell(new SessionCommands.GetRun(key, one.RunId!, TimeSpan.FromSeconds(30)), TestActor);
        hold.SetResult();
        var done = ExpectMsg<RunView>(Patience);
        Assert.Equal(("done", "fake/m", 12L, 3L), (done.Status, done.Model, done.Usage!.Input, done.Usage.Output));
        Assert.NotNull(done.EndedAt);
        Assert.Null(done.ErrorCode);
        await _node.Read(one);
        await _node.Read(two);
        Assert.Equal("done", Run(session, key, two.RunId!).Status);

        session.Tell(new SessionCommands.GetRun(key, "run_nope", TimeSpan.Zero), TestActor);
        Assert.Equal((404, "run_not_found"), ExpectMsg<TurnRejected>(Patience) is var r ? (r.Status, r.Code) : default);
    }

    [Fact]
    public async Task Should_abort_the_active_run_keep_its_partial_reply_and_drop_the_queued_ones_when_asked()
    {
        const string key = "abort-1";
        var session = _node.Start(key);
        _fake.Enqueue(new FakeResponse { Text = "partial words then more", StallAfterChunks = 2 });
        var one = Accept(session, new SessionCommands.SendMessage(key, "one"));
        await using var reply = SessionReply.Open(Sys, one, Sys.Materializer(), CancellationToken.None);
        var streamed = new List<ChatEvent>();
        while (streamed.OfType<TextDelta>().Count() < 2 && await reply.MoveNextAsync().AsTask().WaitAsync(Patience))
            streamed.Add(reply.Current);
        var two = Accept(session, new SessionCommands.SendMessage(key, "two"));
        var three = Accept(session, new SessionCommands.SendMessage(key, "three"));

        session.Tell(new SessionCommands.AbortRun(key, null, ClearQueued: true), TestActor);
        var result = ExpectMsg<AbortResult>(Patience);
        Assert.True(result.Aborted);
        Assert.Equal(new[] { one.RunId, two.RunId, three.RunId }, result.RunIds.ToArray());

        await _fake.WaitForClientAbortAsync(Patience); // the upstream saw its call cancelled
        while (await reply.MoveNextAsync().AsTask().WaitAsync(Patience)) streamed.Add(reply.Current);
        var aborted = Assert.IsType<SessionRunError>(streamed[^1]);
        Assert.Equal((409, "aborted"), (aborted.Status, aborted.Code));
        Assert.Equal("aborted", Assert.IsType<SessionRunError>(Assert.Single(await _node.Read(two))).Code);
        Assert.Equal("aborted", Assert.IsType<SessionRunError>(Assert.Single(await _node.Read(three))).Code);

        var partial = Text(streamed);
        Assert.Equal("partial words", partial);
        var transcript = _node.Transcript(session, key).Entries;
        Assert.Equal(["user:one", "user:two", "user:three", "assistant:partial words"], transcript.Select(e => e.Role + ":" + e.Content));
        Assert.True(transcript[^1].Aborted);
        Assert.DoesNotContain(transcript, e => e.Role == "error");
        Assert.All(new[] { one, two, three }, t => Assert.Equal("aborted", Run(session, key, t.RunId!).Status));
        Assert.Equal(1, _fake.RequestCount);

        // The session goes on: the next turn runs, with the aborted partial reply in its history.
        var next = await _node.Send(session, key, "four");
        Assert.Equal("Hello from fake: four", Text(next));
        Assert.Equal("assistant:partial words", Messages(_fake.Requests[^1])[1]);
    }

    [Fact]
    public async Task Should_abort_one_named_queued_run_and_leave_the_active_one_running()
    {
        const string key = "abort-2";
        var session = _node.Start(key);
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fake.Enqueue(new FakeResponse { Text = "kept", HeldUntil = hold.Task });
        var one = Accept(session, new SessionCommands.SendMessage(key, "one"));
        await _fake.WaitForRequestAsync(r => LastUser(r) == "one", Patience);
        var two = Accept(session, new SessionCommands.SendMessage(key, "two"));
        var three = Accept(session, new SessionCommands.SendMessage(key, "three"));

        session.Tell(new SessionCommands.AbortRun(key, two.RunId, ClearQueued: false), TestActor);
        Assert.Equal(new[] { two.RunId }, ExpectMsg<AbortResult>(Patience).RunIds.ToArray());
        hold.SetResult();

        Assert.Equal("kept", Text(await _node.Read(one)));
        Assert.Equal("Hello from fake: three", Text(await _node.Read(three)));
        Assert.Equal(["one", "three"], _fake.Requests.Select(LastUser));
        Assert.Equal(("done", "aborted", "done"), (Run(session, key, one.RunId!).Status, Run(session, key, two.RunId!).Status, Run(session, key, three.RunId!).Status));
    }

    [Fact]
    public async Task Should_answer_a_repeated_idempotency_key_with_the_first_run_until_its_ttl_is_over()
    {
        const string key = "idem-1";
        var session = _node.Start(key);
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fake.Enqueue(new FakeResponse { Text = "only once", HeldUntil = hold.Task, PromptTokens = 5, CompletionTokens = 2 });
        var first = Accept(session, new SessionCommands.SendMessage(key, "pay the bill") { IdempotencyKey = "k-1" });
        await _fake.WaitForRequestAsync(r => LastUser(r) == "pay the bill", Patience);

        var attached = Accept(session, new SessionCommands.SendMessage(key, "pay the bill") { IdempotencyKey = "k-1" }); // while it runs
        Assert.Equal(first.RunId, attached.RunId);
        hold.SetResult();
        var firstEvents = await _node.Read(first);
        var attachedEvents = await _node.Read(attached);
        var replayed = await _node.Read(Accept(session, new SessionCommands.SendMessage(key, "pay the bill") { IdempotencyKey = "k-1" })); // after it

        Assert.All(new[] { attachedEvents, replayed }, events =>
        {
            Assert.Equal(Text(firstEvents), Text(events));
            Assert.Equal(firstEvents.OfType<Finished>().Single(), events.OfType<Finished>().Single());
            Assert.Equal(firstEvents.OfType<UsageReport>().Single().Usage, events.OfType<UsageReport>().Single().Usage);
        });
        Assert.Equal("only once", Text(firstEvents));
        Assert.Equal(1, _fake.RequestCount);
        Assert.Equal(2, _node.View(session, key).TranscriptLength);

        // 24 hours later the key is forgotten: the same key is a new turn.
        Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        var later = Accept(session, new SessionCommands.SendMessage(key, "pay the bill") { IdempotencyKey = "k-1" });
        Assert.NotEqual(first.RunId, later.RunId);
        Assert.Equal("Hello from fake: pay the bill", Text(await _node.Read(later)));
        Assert.Equal(2, _fake.RequestCount);
    }
}
