using Akka.Configuration;
using Durar.Actors.Chat;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Testing;
using Xunit.Abstractions;
using static Durar.Actors.Tests.Sessions.SessionNode;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// A session whose journal rejects a write (issue 13: "a rejected session journal write leaves the session's run active
/// forever"): the run ends with an error to its subscribers, and the session goes on (no run left active, the next turn
/// runs, passivation is not blocked). The journal is the in-memory one that rejects a marked reply
/// (<see cref="RejectingJournal"/>); the upstream is the fake provider.
/// </summary>
public sealed class SessionJournalRejectionSpecs(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(SessionMailbox.Hocon + "\n" + RejectingJournal.Hocon).WithFallback(VirtualTime.Config),
        nameof(SessionJournalRejectionSpecs), output), IAsyncLifetime
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
    public async Task Should_end_the_run_with_an_error_and_recover_when_the_journal_rejects_a_session_write()
    {
        const string key = "rejected-write";
        var session = _node.Start(key);

        // The fake answers "Hello from fake: <content>": the journal rejects that reply.
        var reply = await _node.Send(session, key, RejectingJournal.Marker);
        var error = Assert.IsType<SessionRunError>(reply[^1]);
        Assert.Equal((503, SessionActor.JournalRejected), (error.Status, error.Code));
        Assert.False(_node.View(session, key).Running);

        // The session goes on: the next turn runs and is journaled, and the rejected reply is not in its transcript.
        Assert.Equal("Hello from fake: again", Text(await _node.Send(session, key, "again")));
        var transcript = _node.Transcript(session, key).Entries;
        Assert.Equal(["user:" + RejectingJournal.Marker, "user:again", "assistant:Hello from fake: again"],
            transcript.Select(e => e.Role + ":" + e.Content));
        Assert.Equal((false, 0), (_node.View(session, key).Running, _node.View(session, key).Queued));
    }
}
