using Durar.Actors.Chat;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// What a turn that carries its own messages amounts to (the Responses API's turns): literal (its text is never read as
/// directives) with its messages journaled, and refused when it continues a reply that is unknown or not the last one.
/// </summary>
public sealed class SessionTurnsSpecs
{
    private static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch;

    private static SessionState Apply(params ISessionEvent[] events) => events.Aggregate(SessionState.Empty, (s, e) => s.Apply(e));

    [Fact]
    public void Should_journal_a_turn_with_input_literally_with_its_messages()
    {
        ChatMessage[] input = [new("tool", "18C") { ToolCallId = "call_1" }, new("user", "/new")];
        var send = new SessionCommands.SendMessage("k", "/new") { Input = [.. input] };

        var turn = Assert.IsType<SendDecision.Turn>(SessionTurns.Decide(send, SessionState.Empty, null!, At));

        Assert.Equal("/new", turn.Content);
        var accepted = Assert.IsType<SessionEvents.UserMessageAccepted>(Assert.Single(turn.Events));
        Assert.Equal(input, accepted.Messages);
    }

    [Theory]
    [InlineData(99, 404, "previous_response_not_found")]
    [InlineData(1, 400, "previous_response_not_latest")]
    public void Should_refuse_continuing_an_unknown_or_an_earlier_turn(long after, int status, string code)
    {
        var state = Apply(new SessionEvents.UserMessageAccepted(At, "one"), new SessionEvents.AssistantReplied(At, "a1", "p/m", null, null, 0m) { ReplyTo = 1 },
            new SessionEvents.UserMessageAccepted(At, "two"));
        var send = new SessionCommands.SendMessage("k", "three") { Input = [new ChatMessage("user", "three")], After = after };

        var rejected = Assert.IsType<SendDecision.Rejected>(SessionTurns.Decide(send, state, null!, At));

        Assert.Equal((status, code), (rejected.Status, rejected.Message.Length > 0 ? rejected.Code : ""));
        Assert.IsType<SendDecision.Turn>(SessionTurns.Decide(send with { After = 3 }, state, null!, At));
    }

    [Fact]
    public void Should_keep_a_turns_messages_and_a_replys_tool_calls_in_the_conversation()
    {
        var state = Apply(
            new SessionEvents.UserMessageAccepted(At, "weather?") { Messages = [new ChatMessage("user", "weather?")] },
            new SessionEvents.AssistantReplied(At, "", "p/m", null, null, 0m) { ReplyTo = 1, ToolCalls = [new ToolCall("c1", "get_weather", "{}")] },
            new SessionEvents.UserMessageAccepted(At, "") { Messages = [new ChatMessage("tool", "18C") { ToolCallId = "c1" }] });

        var conversation = state.Conversation(new HashSet<long>()).ToList();

        Assert.Equal(["user", "assistant", "user"], conversation.Select(e => e.Role));
        Assert.Equal("get_weather", Assert.Single(conversation[1].ToolCalls).Name);
        Assert.Equal("c1", Assert.Single(conversation[2].Messages).ToolCallId);
    }
}
