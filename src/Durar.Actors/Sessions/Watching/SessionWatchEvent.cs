using Durar.Actors.Chat;

namespace Durar.Actors.Sessions.Watching;

/// <summary>
/// One event of <c>GET /v1/sessions/{key}/events</c>, already in its SSE shape: the id (the journal's sequence number of a
/// journaled fact, 0 for a live-only event such as a delta, which carries no SSE <c>id:</c>), the event name and its JSON
/// data. It is built once on the session's node and only written by the HTTP node, so a watcher on another node reads
/// exactly what a local one does. A <see cref="ChatEvent"/> so it travels through the same SourceRefs as a turn's reply.
/// </summary>
public sealed record SessionWatchEvent(long Id, string Name, string Data) : ChatEvent;

/// <summary>The event names of a session's event stream, defined once (the README lists them).</summary>
public static class SessionWatchEvents
{
    /// <summary>Journaled: a user message was accepted as a run (or joined one).</summary>
    public const string TurnAccepted = "turn.accepted";

    /// <summary>Live only: a run's answer started streaming, from this model.</summary>
    public const string RunStarted = "run.started";

    /// <summary>Live only: reply text, reasoning and tool-call fragments of the running turn (first choice).</summary>
    public const string Delta = "delta";
    public const string Reasoning = "reasoning";
    public const string ToolCall = "tool_call";

    /// <summary>Journaled: a run's reply, a run that failed, one aborted (its partial reply kept), queued runs dropped.</summary>
    public const string RunFinished = "run.finished";
    public const string RunFailed = "run.failed";
    public const string RunAborted = "run.aborted";
    public const string RunsDropped = "runs.dropped";

    /// <summary>Journaled: the session's overrides, a compaction, a reset.</summary>
    public const string OverridesChanged = "overrides.changed";
    public const string Compaction = "compaction";
    public const string SessionReset = "session.reset";

    /// <summary>Journaled: a turn was answered by another model than the session's (once per change), and the session's model is back.</summary>
    public const string Fallback = "fallback";
    public const string FallbackCleared = "fallback.cleared";

    /// <summary>Final: this watcher fell <c>gateway.sessions.events.watcherBuffer</c> events behind and was cut.</summary>
    public const string Dropped = "dropped";

    /// <summary>First on a resume: journaled events between Last-Event-ID and the replay are no longer available.</summary>
    public const string Gap = "gap";

    /// <summary>Final: the session stopped on its node (moved, restarted, deleted) or that node left; reconnect with Last-Event-ID.</summary>
    public const string Closed = "closed";
}
