using Durar.Actors.Chat;

namespace Durar.Actors.Sessions.Messages;

/// <summary>Persisted facts of a session (journal <c>session-&lt;key&gt;</c>). Each is applied by <see cref="SessionState.Apply"/>.</summary>
internal interface ISessionEvent : IDurarPersistable
{
    DateTimeOffset At { get; }
}

internal static class SessionEvents
{
    /// <summary>A user message was accepted (persisted before the client is acknowledged).</summary>
    public sealed record UserMessageAccepted(DateTimeOffset At, string Content) : ISessionEvent
    {
        /// <summary>The turn's own messages when it carried more than its text (see <see cref="SessionCommands.SendMessage.Input"/>).</summary>
        public System.Collections.Immutable.ImmutableArray<ChatMessage> Messages { get; init; } = [];
    }

    /// <summary>The assistant answered: text, the model that answered, the key used, usage and its cost.</summary>
    public sealed record AssistantReplied(DateTimeOffset At, string Content, string Model, string? KeyId, TokenUsage? Usage, decimal Cost) : ISessionEvent
    {
        /// <summary>The seq of the (last) user message this reply answers: queued messages can sit between the two in the journal.</summary>
        public long? ReplyTo { get; init; }

        /// <summary>The reply's reasoning and its signature (Anthropic thinking), sent back with the next turn.</summary>
        public string? Reasoning { get; init; }
        public string? ReasoningSignature { get; init; }

        /// <summary>The tool calls the reply made (first choice), sent back with later turns.</summary>
        public System.Collections.Immutable.ImmutableArray<ToolCall> ToolCalls { get; init; } = [];
    }

    /// <summary>A run failed; the error text is kept in the transcript so the conversation stays readable.</summary>
    public sealed record RunFailed(DateTimeOffset At, string Error, int Status) : ISessionEvent;

    /// <summary>Overrides changed (directive-only message, PATCH, auto pin); the whole new set is stored.</summary>
    public sealed record OverridesChanged(DateTimeOffset At, SessionOverrides Overrides) : ISessionEvent;

    /// <summary><c>/new</c> or <c>/reset</c>: transcript cleared, auto pins dropped, user pins and usage mode kept.</summary>
    public sealed record SessionReset(DateTimeOffset At) : ISessionEvent;
}

/// <summary>The persisted snapshot of a session.</summary>
internal sealed record SessionSnapshot(SessionState State) : IDurarPersistable;
