using System.Collections.Immutable;
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
        public ImmutableArray<ChatMessage> Messages { get; init; } = [];

        /// <summary>The run this message starts (or joins, merged by collect); null in journals written before runs had ids.</summary>
        public string? RunId { get; init; }

        /// <summary>The client's <c>Idempotency-Key</c>: a repeat within <c>gateway.sessions.runs.idempotencyTtl</c> answers with this run.</summary>
        public string? IdempotencyKey { get; init; }
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
        public ImmutableArray<ToolCall> ToolCalls { get; init; } = [];

        /// <summary>The tokens of the input this reply answered, as the gateway counted them (null in journals before issue 18).</summary>
        public int? InputTokens { get; init; }
        /// <summary>The runs this reply ends (several when collect merged their messages); null in older journals.</summary>
        public ImmutableArray<string>? RunIds { get; init; }

        /// <summary>The reply was cut by an abort: the text is what streamed until then.</summary>
        public bool Aborted { get; init; }

        /// <summary>The finish reason the upstream gave (null = <c>stop</c>), so a repeated idempotent request answers the same.</summary>
        public string? Finish { get; init; }
    }

    /// <summary>A run failed; the error text is kept in the transcript so the conversation stays readable.</summary>
    public sealed record RunFailed(DateTimeOffset At, string Error, int Status) : ISessionEvent
    {
        /// <summary>The runs that failed; null in older journals.</summary>
        public ImmutableArray<string>? RunIds { get; init; }

        /// <summary>The error code (<c>interrupted</c>, <c>aborted</c>, the provider's or the gateway's); null in older journals.</summary>
        public string? Code { get; init; }
    }

    /// <summary>
    /// Queued runs that will never run (an abort with <c>clearQueued</c> or naming them, or the queue's drop policy); their
    /// user messages stay in the transcript, nothing else changes there.
    /// </summary>
    public sealed record RunsDropped(DateTimeOffset At, ImmutableArray<string> RunIds, int Status, string Code, string Error) : ISessionEvent;

    /// <summary>Overrides changed (directive-only message, PATCH, auto pin); the whole new set is stored.</summary>
    public sealed record OverridesChanged(DateTimeOffset At, SessionOverrides Overrides) : ISessionEvent;

    /// <summary>
    /// The session's older turns were summarised to fit its model's context: from now on <see cref="Summary"/> is sent in
    /// their place, and the conversation sent resumes at the user message <see cref="KeepFromSeq"/>. The transcript itself
    /// keeps every message. <see cref="Model"/> wrote the summary; its usage and cost count toward the session's.
    /// </summary>
    public sealed record Compacted(DateTimeOffset At, long KeepFromSeq, string Summary, string Model, int TokensBefore, int TokensAfter) : ISessionEvent
    {
        public TokenUsage? Usage { get; init; }
        public decimal Cost { get; init; }
    }

    /// <summary>
    /// A turn was answered by another model than the session's (and the notice changed): the reply and the event stream
    /// said so, and <c>GET /v1/sessions/{key}</c> shows it until the session's model answers again.
    /// </summary>
    public sealed record FallbackNoticed(DateTimeOffset At, string Selected, string Active, string? Reason) : ISessionEvent;

    /// <summary>The session's model (<see cref="Selected"/>) answered again: the fallback notice is cleared.</summary>
    public sealed record FallbackCleared(DateTimeOffset At, string Selected) : ISessionEvent;

    /// <summary><c>/new</c> or <c>/reset</c>: transcript cleared, auto pins dropped, user pins and usage mode kept.</summary>
    public sealed record SessionReset(DateTimeOffset At) : ISessionEvent;
}

/// <summary>The persisted snapshot of a session.</summary>
internal sealed record SessionSnapshot(SessionState State) : IDurarPersistable
{
    /// <summary>The session's recent runs (<see cref="Runs.SessionRunLedger"/>); null in snapshots taken before runs had ids.</summary>
    public Runs.SessionRunLedger? Runs { get; init; }
}
