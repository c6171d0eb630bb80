using System.Collections.Immutable;
using Akka.Streams;
using Durar.Actors.Chat;

namespace Durar.Actors.Sessions.Messages;

/// <summary>
/// Messages addressed to one session, routed by <see cref="SessionKey"/> through Cluster Sharding. They and every reply below
/// are <see cref="IDurarWireMessage"/>s: the node whose HTTP endpoint asks is often not the node hosting the session.
/// </summary>
public interface ISessionCommand : IDurarWireMessage
{
    string SessionKey { get; }
}

/// <summary>The session protocol: send a message (a turn), read state and transcript, change overrides, reset, delete.</summary>
public static class SessionCommands
{
    /// <summary>
    /// A user message for the session. The answer is a <see cref="TurnAccepted"/> once the message is in the journal (its
    /// <see cref="TurnAccepted.Events"/> stream carries the reply tokens), a <see cref="DirectivesApplied"/> for a
    /// directive-only message, or a <see cref="TurnRejected"/>.
    /// </summary>
    /// <param name="Model">The model the client asked for (null or "durar" = the session's or the configured one).</param>
    /// <param name="History">Client-managed history (chat/completions with several messages): used instead of the transcript.</param>
    /// <param name="Template">Request fields to carry upstream (temperature, tools, ...); its messages are ignored.</param>
    public sealed record SendMessage(
        string SessionKey,
        string Content,
        QueueMode? QueueMode = null,
        string? Model = null,
        IReadOnlyList<ChatMessage>? History = null,
        ChatRequest? Template = null) : ISessionCommand
    {
        /// <summary>
        /// The turn's own messages, journaled as they are (tool results, images, tool calls of a client-side history): a
        /// dialect whose turns are more than one text (the Responses API's input items) sends them here. A turn with input
        /// is literal: its text is never read as directives.
        /// </summary>
        public ImmutableArray<ChatMessage> Input { get; init; } = [];

        /// <summary>
        /// The turn continues the reply to user message <see cref="After"/> (the Responses API's <c>previous_response_id</c>):
        /// refused with 404 when the transcript has no such message, and with 400 when a later message exists (a session's
        /// transcript is one line, it does not branch). Null = append.
        /// </summary>
        public long? After { get; init; }

        /// <summary>
        /// The client's <c>Idempotency-Key</c>: when a turn with the same key was accepted within
        /// <c>gateway.sessions.runs.idempotencyTtl</c>, the answer is that turn's run (attached while it runs, replayed once it
        /// ended), and nothing runs again.
        /// </summary>
        public string? IdempotencyKey { get; init; }

        /// <summary>
        /// The client reads the reply as one answer (a request with <c>stream</c> off): when every turn of its run does and
        /// nobody watches the session's events, the run asks its upstream for a whole answer instead of a stream, as a
        /// stateless request with <c>stream</c> off does. What the client gets is the same; a watcher that joins during such
        /// a run sees its text in one delta.
        /// </summary>
        public bool WholeAnswer { get; init; }
    }

    public sealed record GetSession(string SessionKey) : ISessionCommand;

    public sealed record GetMessages(string SessionKey, int Offset, int Limit) : ISessionCommand;

    /// <summary>Change overrides; a null field is left alone, <see cref="ClearFields"/> names the ones to clear.</summary>
    public sealed record PatchSession(
        string SessionKey,
        string? Model,
        string? AuthProfile,
        ThinkingLevel? Thinking,
        FastMode? Fast,
        ResponseUsageMode? ResponseUsage,
        QueueMode? Queue,
        ImmutableHashSet<string> ClearFields) : ISessionCommand;

    public sealed record ResetSession(string SessionKey) : ISessionCommand;

    /// <summary>
    /// Cancel the run answering user message <paramref name="Seq"/> (the Responses API's cancel). The answer is a
    /// <see cref="TurnCancelled"/>: <c>WasRunning</c> false when that turn is not the one running (done, queued or unknown).
    /// </summary>
    public sealed record CancelTurn(string SessionKey, long Seq) : ISessionCommand;

    public sealed record DeleteSession(string SessionKey) : ISessionCommand;

    /// <summary>
    /// The status of one run (a <see cref="RunView"/>, or a 404 <see cref="TurnRejected"/>). With a positive
    /// <paramref name="Wait"/>, the answer comes when the run ends or when the wait is over, whichever is first.
    /// </summary>
    internal sealed record GetRun(string SessionKey, string RunId, TimeSpan Wait) : ISessionCommand;

    /// <summary>
    /// Aborts the active run (or the run <paramref name="RunId"/>, active or queued) and, with <paramref name="ClearQueued"/>,
    /// drops every queued run. The upstream call is cancelled; the partial reply is kept marked aborted. Answered with an
    /// <see cref="AbortResult"/> once the abort is under way (the run's end follows; wait for it with <see cref="GetRun"/>).
    /// </summary>
    internal sealed record AbortRun(string SessionKey, string? RunId, bool ClearQueued) : ISessionCommand;
}

/// <summary>
/// One run of a session as the HTTP API shows it. <paramref name="Status"/> is <c>queued</c>, <c>running</c>, <c>done</c>,
/// <c>failed</c> or <c>aborted</c>; an ended run has <paramref name="EndedAt"/>, and its usage (done, aborted) or error
/// (failed, aborted).
/// </summary>
internal sealed record RunView(string SessionKey, string RunId, string Status, DateTimeOffset AcceptedAt, DateTimeOffset? EndedAt, string? Model,
    TokenUsage? Usage, int? ErrorStatus, string? ErrorCode, string? ErrorMessage) : IDurarWireMessage;

/// <summary>What an <see cref="SessionCommands.AbortRun"/> did: whether a run was aborted, and every run it ended (active and dropped).</summary>
internal sealed record AbortResult(string SessionKey, bool Aborted, ImmutableArray<string> RunIds) : IDurarWireMessage;

/// <summary>
/// Answer to <see cref="SessionCommands.SendMessage"/>: the message is persisted; tokens follow on <see cref="Events"/>. The
/// SourceRef is written by Akka's stream-ref serializer; its <see cref="ChatEvent"/> elements are wire messages themselves.
/// </summary>
public sealed record TurnAccepted(string SessionKey, long Seq, Akka.Streams.ISourceRef<ChatEvent> Events, ResponseUsageMode UsageMode) : IDurarWireMessage
{
    /// <summary>
    /// An actor on the node running the session (its shard): the HTTP node watches it, so a reply whose session's node
    /// crashed ends with an error instead of waiting on a stream nobody will finish. (A session that stops on a live node
    /// ends its reply streams itself.) Not the session actor: one watcher per reply on every session is more than a node's
    /// death needs, and a session is the object the gateway keeps by the hundred thousand.
    /// </summary>
    public Akka.Actor.IActorRef? Host { get; init; }

    /// <summary>The run that answers this turn (<c>x-durar-run-id</c>); null for a reply that is not a run.</summary>
    public string? RunId { get; init; }
}

/// <summary>A directive-only message changed the session; <see cref="Reply"/> is the acknowledgement text.</summary>
public sealed record DirectivesApplied(string SessionKey, string Reply, SessionView View) : IDurarWireMessage;

/// <summary>The message was not accepted (bad directive, disallowed model, queue full).</summary>
public sealed record TurnRejected(string SessionKey, int Status, string Message, string Code) : IDurarWireMessage;

/// <summary>The session's state as the HTTP API shows it.</summary>
public sealed record SessionView(
    string SessionKey,
    SessionOverrides Overrides,
    UsageTotals Usage,
    string? LastModel,
    int TranscriptLength,
    bool Running,
    int Queued,
    DateTimeOffset? CreatedAt) : IDurarWireMessage
{
    /// <summary>How many times the session's older turns were summarised to fit its model's context (since the last reset).</summary>
    public int CompactionCount { get; init; }

    /// <summary>The session model's context budget: its context, the output cap, what a turn's input may count, and how it is counted.</summary>
    public long ContextTokens { get; init; }
    public long OutputCap { get; init; }
    public long InputBudget { get; init; }
    public string? Tokenizer { get; init; }

    /// <summary>The tokens of the last answered turn's input, as the gateway counted them (null before the first).</summary>
    public int? LastInputTokens { get; init; }

    /// <summary>The fallback notice in force: the session's turns are answered by another model (null when none).</summary>
    public FallbackNotice? Fallback { get; init; }

    /// <summary>Why the session failed to recover (an event or snapshot of its journal cannot be read); null when it recovered.</summary>
    public string? Failure { get; init; }

    /// <summary>The sequence number of the unreadable event or snapshot when <see cref="Failure"/> is set.</summary>
    public long? FailedSequenceNr { get; init; }
}

public sealed record TranscriptPage(string SessionKey, int Offset, int Total, ImmutableArray<TranscriptEntry> Entries) : IDurarWireMessage;

public sealed record SessionDeleted(string SessionKey) : IDurarWireMessage;

/// <summary>Answer to <see cref="SessionCommands.CancelTurn"/>: whether the turn's run was running and is now cancelled.</summary>
public sealed record TurnCancelled(string SessionKey, long Seq, bool WasRunning) : IDurarWireMessage;
