using Akka.Actor;
using Akka.Event;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions;

/// <summary>
/// A session whose journal holds an event (or snapshot) that cannot be read: recovery hands it an
/// <see cref="UnreadablePayload"/> instead of failing, so the session starts in a failed state instead of never starting
/// (each turn then waited for its timeout and answered 503). It keeps what it recovered before the unreadable event, shows
/// the failure in its view (<c>state: failed</c>, the sequence number and the reason), answers every change with 409
/// <see cref="SessionFailed"/> naming the reason, and can still be read and deleted.
/// </summary>
internal sealed partial class SessionActor
{
    /// <summary>The error code of a command refused because the session failed to recover.</summary>
    internal const string SessionFailed = "session_failed";

    /// <summary>Why the session failed to recover (null: it recovered).</summary>
    private string? _failure;

    private long _failedSequenceNr;

    /// <summary>Recovery met an unreadable payload at <paramref name="sequenceNr"/>: the session stays as it was before it.</summary>
    private void RecoveredUnreadable(UnreadablePayload unreadable, long sequenceNr, string what)
    {
        if (_failure is not null) return;
        _failedSequenceNr = sequenceNr;
        _failure = $"The {what} at sequence number {sequenceNr} of session {_key}'s journal (manifest {unreadable.Manifest}) cannot be read: "
                   + unreadable.Reason;
        Log.Error("Session [{SessionKey}] recovered as failed: {Failure}", _key, _failure);
    }

    /// <summary>Answers what a failed session answers; false for what it handles as usual (reads, delete, housekeeping).</summary>
    private bool OnFailedCommand(object message)
    {
        switch (message)
        {
            case SessionCommands.GetSession:
                Sender.Tell(View() with { Failure = _failure, FailedSequenceNr = _failedSequenceNr });
                return true;
            case SessionCommands.SendMessage or SessionCommands.PatchSession or SessionCommands.ResetSession or SessionCommands.CancelTurn
                or SessionCommands.GetRun or SessionCommands.AbortRun:
                Sender.Tell(new TurnRejected(_key, 409, _failure + $". The session cannot be used; DELETE /v1/sessions/{_key} removes it.", SessionFailed));
                return true;
            default:
                return false;
        }
    }
}
