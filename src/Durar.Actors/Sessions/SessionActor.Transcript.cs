using Akka.Actor;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions;

/// <summary>
/// The session's bounded transcript (issue 13, <see cref="TranscriptWindow"/>): trimmed to its resident window when a
/// snapshot is taken and after recovery, read whole through the journal when a page reaches past the window, and the
/// journal kept from where the transcript starts (the last reset), since the trimmed entries live there.
/// </summary>
internal sealed partial class SessionActor
{
    /// <summary>Leaves out of memory (and so out of the next snapshot) what the next turn does not need.</summary>
    private void TrimTranscript()
    {
        var protectFrom = long.MaxValue;
        if (_active is not null)
            foreach (var turn in _active.Turns) protectFrom = Math.Min(protectFrom, turn.Seq);
        foreach (var turn in _queue.Waiting) protectFrom = Math.Min(protectFrom, turn.Seq);
        _state = TranscriptWindow.Trim(_state, _services.Settings.Gateway.SessionTranscript, protectFrom);
    }

    /// <summary>A page of the transcript: from memory, or (reaching into trimmed entries) read from the journal by a <see cref="TranscriptReaderActor"/>.</summary>
    private void OnGetMessages(SessionCommands.GetMessages q)
    {
        if (TranscriptWindow.ResidentPage(_state, _key, q.Offset, q.Limit) is { } page)
        {
            Sender.Tell(page);
            return;
        }
        var read = TranscriptWindow.Split(_state, _key, q.Offset, q.Limit);
        Context.ActorOf(TranscriptReaderActor.Props(read, Sender, PersistenceId, LastSequenceNr, _services.Settings.Gateway.AskTimeout * 2));
    }

    /// <summary>
    /// A snapshot is saved: the older snapshots go, and the events before the transcript's start (the last reset); the
    /// events since are kept, as the trimmed entries are read from them (recovery still starts at the snapshot).
    /// </summary>
    private void Snapshotted(long sequenceNr)
    {
        var before = Math.Min(sequenceNr, (_state.Archive ?? TranscriptArchive.Start).FromEvent) - 1;
        if (before > 0) DeleteMessages(before);
        if (sequenceNr > 1) DeleteSnapshots(new Akka.Persistence.SnapshotSelectionCriteria(sequenceNr - 1));
    }
}
