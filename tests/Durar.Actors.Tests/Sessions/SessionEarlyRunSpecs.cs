using Akka.Configuration;
using Durar.Actors.Chat;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Testing;
using Xunit.Abstractions;
using static Durar.Actors.Tests.Sessions.SessionNode;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// A turn that runs at once starts its upstream call while its user message is being journaled (issue 17: the write and
/// the call overlap instead of adding up), and still nothing of it reaches the client before the message is journaled;
/// a write that is rejected ends the early run with nothing answered, journaled or sent on. The journal holds a marked
/// user message's write until the spec lets it go (<see cref="RejectingJournal"/>); the upstream is the fake provider.
/// </summary>
public sealed class SessionEarlyRunSpecs(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(SessionMailbox.Hocon + "\n" + RejectingJournal.Hocon).WithFallback(VirtualTime.Config),
        nameof(SessionEarlyRunSpecs), output), IAsyncLifetime
{
    private FakeProvider _fake = null!;
    private SessionNode _node = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeProvider.StartAsync();
        _node = new SessionNode(this, _fake);
    }

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    [Fact]
    public async Task Should_call_the_upstream_while_the_user_message_is_journaled_and_answer_only_after_it()
    {
        const string key = "early-run", held = "held while journaled";
        var gate = RejectingJournal.Gates[held] = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var session = _node.Start(key);
        Assert.Equal("Hello from fake: first", Text(await _node.Send(session, key, "first")));

        session.Tell(new SessionCommands.SendMessage(key, held, null), TestActor);
        // The upstream is asked while the write is held ...
        var request = await _fake.WaitForRequestAsync(r => r.Body.Contains(held, StringComparison.Ordinal), Patience);
        Assert.Equal(["user:first", "assistant:Hello from fake: first", "user:" + held], Messages(request));
        // ... and the client hears nothing until it is journaled.
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        gate.SetResult(true);

        var reply = await _node.Read(ExpectMsg<TurnAccepted>(Patience));
        Assert.Equal("Hello from fake: " + held, Text(reply));
        Assert.Equal(2, _fake.Requests.Count);
        Assert.Equal(["user:first", "assistant:Hello from fake: first", "user:" + held, "assistant:Hello from fake: " + held],
            _node.Transcript(session, key).Entries.Select(e => e.Role + ":" + e.Content));
    }

    [Fact]
    public async Task Should_end_an_early_run_with_nothing_answered_or_journaled_when_its_message_is_rejected()
    {
        const string key = "early-rejected", rejected = "rejected by the journal";
        var gate = RejectingJournal.Gates[rejected] = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var session = _node.Start(key);

        session.Tell(new SessionCommands.SendMessage(key, rejected, null), TestActor);
        await _fake.WaitForRequestAsync(r => r.Body.Contains(rejected, StringComparison.Ordinal), Patience);
        gate.SetResult(false);

        var refused = ExpectMsg<TurnRejected>(Patience);
        Assert.Equal((503, SessionActor.JournalRejected), (refused.Status, refused.Code));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // the early run's reply went nowhere
        var view = _node.View(session, key);
        Assert.Equal((false, 0), (view.Running, view.Queued));

        // The session goes on from its journal: the rejected message is in neither the transcript nor the next request.
        Assert.Equal("Hello from fake: next", Text(await _node.Send(session, key, "next")));
        Assert.Equal(["user:next"], Messages(_fake.Requests[^1]));
        Assert.Equal(["user:next", "assistant:Hello from fake: next"],
            _node.Transcript(session, key).Entries.Select(e => e.Role + ":" + e.Content));
    }
}
