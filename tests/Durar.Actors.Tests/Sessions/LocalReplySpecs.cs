using Akka.Configuration;
using Akka.Streams;
using Durar.Actors.Chat;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Testing;
using Xunit.Abstractions;
using static Durar.Actors.Tests.Sessions.SessionNode;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// A reply read on the session's own node (issue 17): the session hands a local reader a <see cref="LocalReply"/> (a
/// channel, no stream materialized, no SourceRef) with the remote path's semantics: back-pressure at
/// <c>gateway.sessions.replyBuffer</c>, a reader that leaves is dropped at once (the run goes on and journals its reply), a
/// reader that takes nothing for <c>replyStallTimeout</c> gets a timeout and the run goes on. The SourceRef path for a reader
/// on another node is covered by the cluster specs of Durar.Api.Tests (ThreeNodeClusterSpecs, SessionEventsClusterSpecs).
/// </summary>
public sealed class LocalReplySpecs(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(SessionMailbox.Hocon), nameof(LocalReplySpecs), output), IAsyncLifetime
{
    private FakeProvider _fake = null!;
    private SessionNode _node = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeProvider.StartAsync();
        _node = new SessionNode(this, _fake);
    }

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    private TurnAccepted Accept(Akka.Actor.IActorRef session, string key, string content)
    {
        session.Tell(new SessionCommands.SendMessage(key, content), TestActor);
        return ExpectMsg<TurnAccepted>(Patience);
    }

    private void AwaitAnswerInTranscript(Akka.Actor.IActorRef session, string key, string text) =>
        AwaitAssert(() => Assert.Contains(_node.Transcript(session, key).Entries, e => e is { Role: "assistant" } && e.Content == text),
            Patience, TimeSpan.FromMilliseconds(50));

    [Fact]
    public async Task Should_hand_a_reader_on_the_sessions_node_a_local_reply_instead_of_a_source_ref()
    {
        const string key = "local-1";
        var session = _node.Start(key);

        var accepted = Accept(session, key, "one");
        Assert.IsType<LocalReply>(accepted.Events);
        await using var reply = SessionReply.Open(Sys, accepted, Sys.Materializer(), CancellationToken.None);
        var events = new List<ChatEvent>();
        while (await reply.MoveNextAsync().AsTask().WaitAsync(Patience)) events.Add(reply.Current);

        Assert.IsType<RunModel>(events[0]);
        Assert.Equal("Hello from fake: one", Text(events));
        Assert.Single(events.OfType<Finished>());
        Assert.IsType<UsageReport>(events[^1]); // the reply's tail: finish, then the usage line
        Assert.False(reply.Lost);
        // The same reply also reads as a stream (what an ISourceRef promises), for a second turn.
        Assert.Equal("Hello from fake: two", Text(await _node.Send(session, key, "two")));
    }

    [Fact]
    public async Task Should_drop_a_local_reader_that_left_at_once_and_still_journal_the_whole_reply()
    {
        // One event of buffer and a stall timeout longer than the spec's patience: only dropping the reader that left lets
        // the run go on in time.
        const string key = "local-left";
        var session = _node.Start(key, "replyBuffer = 1, replyStallTimeout = 60s");
        _fake.Enqueue(new FakeResponse { Text = "a reply in several pieces that nobody reads to the end", Chunks = 8 });

        var reply = SessionReply.Open(Sys, Accept(session, key, "one"), Sys.Materializer(), CancellationToken.None);
        Assert.True(await reply.MoveNextAsync().AsTask().WaitAsync(Patience));
        await reply.DisposeAsync(); // the client went away after the first event

        AwaitAnswerInTranscript(session, key, "a reply in several pieces that nobody reads to the end");
        Assert.Equal("Hello from fake: two", Text(await _node.Send(session, key, "two")));
    }

    [Fact]
    public async Task Should_end_a_local_reply_whose_reader_takes_nothing_for_the_stall_timeout_and_finish_the_run()
    {
        const string key = "local-stalled";
        var session = _node.Start(key, "replyBuffer = 1, replyStallTimeout = 1s");
        _fake.Enqueue(new FakeResponse { Text = "an answer the reader never takes", Chunks = 6 });

        await using var reply = SessionReply.Open(Sys, Accept(session, key, "one"), Sys.Materializer(), CancellationToken.None);
        AwaitAnswerInTranscript(session, key, "an answer the reader never takes"); // the run did not wait for the reader

        Assert.True(await reply.MoveNextAsync().AsTask().WaitAsync(Patience)); // what was buffered is still read
        Assert.IsType<RunModel>(reply.Current);
        var stalled = await Assert.ThrowsAsync<TimeoutException>(async () => await reply.MoveNextAsync().AsTask().WaitAsync(Patience));
        Assert.Contains("took no event for 1 s", stalled.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_cancel_a_pending_local_read_with_the_readers_token()
    {
        const string key = "local-cancel";
        var session = _node.Start(key);
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fake.Enqueue(new FakeResponse { Text = "held", HeldUntil = hold.Task });
        using var client = new CancellationTokenSource();

        await using var reply = SessionReply.Open(Sys, Accept(session, key, "one"), Sys.Materializer(), client.Token);
        var pending = reply.MoveNextAsync().AsTask();
        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Patience));
        hold.SetResult();
        AwaitAnswerInTranscript(session, key, "held");
    }
}
