using System.Collections.Immutable;
using Akka.Configuration;
using Akka.Streams;
using Akka.TestKit;
using Durar.Actors.Chat;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Testing;
using Xunit.Abstractions;
using static Durar.Actors.Tests.Sessions.SessionNode;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// The session actor's queue modes at the actor level, on virtual time (the collect debounce runs only when the clock is
/// advanced), with the in-memory journal and real upstream calls to the fake provider: followup (one turn each, in
/// order), collect (messages within the debounce merged into one turn), interrupt (the running turn ends with
/// <c>interrupted</c>, the new one runs), and the queue cap with each drop policy (new, old, summarize). A run that must
/// stay in flight is held by the fake (<see cref="FakeResponse.HeldUntil"/>) until the spec lets it go.
/// </summary>
public sealed class SessionActorSpecs(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(SessionMailbox.Hocon).WithFallback(VirtualTime.Config), nameof(SessionActorSpecs), output),
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

    /// <summary>Holds the next upstream answer until the returned source completes.</summary>
    private TaskCompletionSource HoldNext(string text)
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fake.Enqueue(new FakeResponse { Text = text, HeldUntil = hold.Task });
        return hold;
    }

    private Task WaitForTurn(string content) => _fake.WaitForRequestAsync(r => LastUser(r) == content, Patience);

    [Fact]
    public async Task Should_run_followups_one_turn_each_in_arrival_order_each_with_the_replies_before_it()
    {
        const string key = "followup-1";
        var session = _node.Start(key);
        var hold = HoldNext("first answer");
        var one = _node.Send(session, key, "one");
        await WaitForTurn("one");

        var two = _node.Send(session, key, "two");
        var three = _node.Send(session, key, "three");
        var view = _node.View(session, key);
        Assert.Equal((true, 2), (view.Running, view.Queued));
        Assert.Equal(1, _fake.RequestCount);

        hold.SetResult();
        Assert.Equal("first answer", Text(await one));
        Assert.Equal("Hello from fake: two", Text(await two));
        Assert.Equal("Hello from fake: three", Text(await three));
        Assert.All(new[] { await one, await two, await three }, reply => Assert.Equal("stop", reply.OfType<Finished>().Single().Reason));

        var requests = _fake.Requests;
        Assert.Equal(["one", "two", "three"], requests.Select(LastUser));
        Assert.Equal(["user:one", "assistant:first answer", "user:two"], Messages(requests[1]));
        Assert.Equal(["user:one", "assistant:first answer", "user:two", "assistant:Hello from fake: two", "user:three"], Messages(requests[2]));
        var transcript = _node.Transcript(session, key).Entries;
        Assert.Equal([(4L, 1L), (5L, 2L), (6L, 3L)], transcript.Where(e => e.Role == "assistant").Select(e => (e.Seq, e.ReplyTo!.Value)));
    }

    [Fact]
    public async Task Should_merge_collect_messages_within_the_debounce_into_one_turn()
    {
        const string key = "collect-1";
        var session = _node.Start(key, "queueMode = collect, queueDebounce = 500ms");
        var one = _node.Send(session, key, "one");
        Clock.Advance(TimeSpan.FromMilliseconds(400));
        var two = _node.Send(session, key, "two"); // within the debounce: it starts again
        Clock.Advance(TimeSpan.FromMilliseconds(400));
        var three = _node.Send(session, key, "three");
        Clock.Advance(TimeSpan.FromMilliseconds(499));
        var waiting = _node.View(session, key);
        Assert.Equal((false, 3), (waiting.Running, waiting.Queued));

        Clock.Advance(TimeSpan.FromMilliseconds(1)); // 500 ms of quiet since "three"
        var running = _node.View(session, key);
        Assert.Equal(0, running.Queued);

        var replies = new[] { await one, await two, await three };
        Assert.All(replies, reply => Assert.Equal("Hello from fake: three", Text(reply)));
        var request = Assert.Single(_fake.Requests);
        Assert.Equal(["user:one", "user:two", "user:three"], Messages(request));
        var transcript = _node.Transcript(session, key).Entries;
        Assert.Equal(["user", "user", "user", "assistant"], transcript.Select(e => e.Role));
        Assert.Equal(3, transcript[^1].ReplyTo);
    }

    [Fact]
    public async Task Should_end_the_running_turn_as_interrupted_and_run_the_interrupting_message()
    {
        const string key = "interrupt-1";
        var session = _node.Start(key);
        _fake.Enqueue(new FakeResponse { Text = "slow answer", StallAfterChunks = 1 });
        session.Tell(new SessionCommands.SendMessage(key, "one"), TestActor);
        await using var first = SessionReply.Open(Sys, ExpectMsg<TurnAccepted>(Patience), Sys.Materializer(), CancellationToken.None);
        var streamed = new List<ChatEvent>();
        while (streamed.OfType<TextDelta>().FirstOrDefault() is null && await first.MoveNextAsync().AsTask().WaitAsync(Patience))
            streamed.Add(first.Current); // the run is committed: its first words reached the reader

        var second = _node.Send(session, key, "two", QueueMode.Interrupt);
        while (await first.MoveNextAsync().AsTask().WaitAsync(Patience)) streamed.Add(first.Current);

        var interrupted = Assert.IsType<SessionRunError>(streamed[^1]);
        Assert.Equal((409, "interrupted"), (interrupted.Status, interrupted.Code));
        Assert.Equal("slow", Text(streamed));
        await _fake.WaitForClientAbortAsync(Patience); // the interrupted upstream call was cancelled
        Assert.Equal("Hello from fake: two", Text(await second));
        Assert.Equal(["one", "two"], _fake.Requests.Select(LastUser));
        var transcript = _node.Transcript(session, key).Entries;
        Assert.Contains(transcript, e => e is { Role: "assistant", Content: "slow", ReplyTo: 1 });
        Assert.Contains(transcript, e => e.Role == "error" && e.Content.Contains("interrupted", StringComparison.Ordinal));
    }

    /// <summary>A run held in flight with two messages waiting behind it (the cap), then a fourth message.</summary>
    private async Task<(TaskCompletionSource Hold, Task<IImmutableList<ChatEvent>> One, Task<IImmutableList<ChatEvent>> Two,
        Task<IImmutableList<ChatEvent>> Three, Akka.Actor.IActorRef Session)> FullQueue(string key, string drop)
    {
        var session = _node.Start(key, $"queueCap = 2, queueDrop = {drop}");
        var hold = HoldNext("first answer");
        var one = _node.Send(session, key, "one");
        await WaitForTurn("one");
        var two = _node.Send(session, key, "two");
        var three = _node.Send(session, key, "three");
        return (hold, one, two, three, session);
    }

    [Fact]
    public async Task Should_reject_the_newest_message_when_the_queue_is_full_under_drop_new()
    {
        const string key = "cap-new";
        var (hold, one, two, three, session) = await FullQueue(key, "new");

        session.Tell(new SessionCommands.SendMessage(key, "four"), TestActor);
        var rejected = ExpectMsg<TurnRejected>(Patience);
        Assert.Equal((429, "queue_full"), (rejected.Status, rejected.Code));

        hold.SetResult();
        Assert.Equal("Hello from fake: three", Text(await three));
        Assert.Equal(["first answer", "Hello from fake: two"], [Text(await one), Text(await two)]);
        Assert.Equal(["one", "two", "three"], _fake.Requests.Select(LastUser));
        Assert.DoesNotContain(_node.Transcript(session, key).Entries, e => e.Content == "four"); // never journaled
    }

    [Fact]
    public async Task Should_drop_the_oldest_waiting_message_when_the_queue_is_full_under_drop_old()
    {
        const string key = "cap-old";
        var (hold, one, two, three, session) = await FullQueue(key, "old");

        var four = _node.Send(session, key, "four");
        var dropped = Assert.IsType<SessionRunError>(Assert.Single(await two));
        Assert.Equal((429, "queue_dropped"), (dropped.Status, dropped.Code));

        hold.SetResult();
        Assert.Equal(["first answer", "Hello from fake: three", "Hello from fake: four"], [Text(await one), Text(await three), Text(await four)]);
        var requests = _fake.Requests;
        Assert.Equal(["one", "three", "four"], requests.Select(LastUser));
        Assert.DoesNotContain(Messages(requests[1]), m => m.Contains("were dropped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_drop_the_oldest_and_mention_it_in_the_next_turn_under_drop_summarize()
    {
        const string key = "cap-summarize";
        var (hold, one, two, three, session) = await FullQueue(key, "summarize");

        var four = _node.Send(session, key, "four");
        Assert.Equal("queue_dropped", Assert.IsType<SessionRunError>(Assert.Single(await two)).Code);

        hold.SetResult();
        Assert.Equal(["first answer", "Hello from fake: three", "Hello from fake: four"], [Text(await one), Text(await three), Text(await four)]);
        var requests = _fake.Requests;
        Assert.Equal(["one", "three", "four"], requests.Select(LastUser));
        // The summary goes right before the next turn's message, once.
        Assert.Equal(["user:Earlier queued messages were dropped:\n• two", "user:three"], Messages(requests[1]).TakeLast(2));
        Assert.DoesNotContain(Messages(requests[2]), m => m.Contains("were dropped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_apply_the_sessions_own_queue_cap_drop_and_debounce_from_a_queue_directive()
    {
        const string key = "cap-directive";
        var session = _node.Start(key, "queueCap = 20, queueDrop = old");
        session.Tell(new SessionCommands.SendMessage(key, "/queue followup cap:1 drop:new"), TestActor);
        var set = ExpectMsg<DirectivesApplied>(Patience).View.Overrides;
        Assert.Equal((QueueMode.Followup, 1, QueueDropPolicy.New), (set.Queue, set.QueueCap, set.QueueDrop));

        // The node allows 20 waiting messages and drops the oldest; this session allows one and refuses the newest.
        var hold = HoldNext("first answer");
        var one = _node.Send(session, key, "one");
        await WaitForTurn("one");
        var two = _node.Send(session, key, "two");
        session.Tell(new SessionCommands.SendMessage(key, "three"), TestActor);
        var rejected = ExpectMsg<TurnRejected>(Patience);
        Assert.Equal((429, "queue_full"), (rejected.Status, rejected.Code));
        Assert.Contains("(1 messages waiting)", rejected.Message, StringComparison.Ordinal);
        hold.SetResult();
        Assert.Equal(["first answer", "Hello from fake: two"], [Text(await one), Text(await two)]);

        // Options alone keep the mode and the other options; reset clears all four.
        session.Tell(new SessionCommands.SendMessage(key, "/queue debounce:2s"), TestActor);
        var more = ExpectMsg<DirectivesApplied>(Patience).View.Overrides;
        Assert.Equal((QueueMode.Followup, TimeSpan.FromSeconds(2), 1, QueueDropPolicy.New), (more.Queue, more.QueueDebounce, more.QueueCap, more.QueueDrop));
        session.Tell(new SessionCommands.SendMessage(key, "/queue reset"), TestActor);
        var reset = ExpectMsg<DirectivesApplied>(Patience).View.Overrides;
        Assert.Equal(((QueueMode?)null, (TimeSpan?)null, (int?)null, (QueueDropPolicy?)null), (reset.Queue, reset.QueueDebounce, reset.QueueCap, reset.QueueDrop));
    }

    [Fact]
    public async Task Should_run_collected_messages_after_the_sessions_own_debounce()
    {
        const string key = "debounce-directive";
        // The node waits ten minutes before a collected message runs; this session asked for 50 ms.
        var session = _node.Start(key, "queueDebounce = 10m");
        session.Tell(new SessionCommands.SendMessage(key, "/queue collect debounce:50ms"), TestActor);
        Assert.Equal(TimeSpan.FromMilliseconds(50), ExpectMsg<DirectivesApplied>(Patience).View.Overrides.QueueDebounce);

        var one = _node.Send(session, key, "one");
        Clock.Advance(TimeSpan.FromMilliseconds(49));
        Assert.Equal((false, 1), (_node.View(session, key).Running, _node.View(session, key).Queued));
        Clock.Advance(TimeSpan.FromMilliseconds(1)); // the session's 50 ms, not the node's ten minutes
        Assert.Equal("Hello from fake: one", Text(await one));
    }
}
