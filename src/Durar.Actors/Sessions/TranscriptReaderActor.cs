using Akka.Actor;
using Akka.Persistence;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions;

/// <summary>
/// Reads a page of a session's transcript that reaches into the entries no longer resident (<see cref="TranscriptWindow"/>):
/// it replays the session's journal from where its transcript starts, folds the events into the entries asked for, answers
/// the asker with the <see cref="TranscriptPage"/> and stops. A child of the session, one per such read, so the session's
/// mailbox never waits for the journal; the page is as of the event the session had journaled when it was asked.
/// </summary>
internal sealed class TranscriptReaderActor : ReceiveActor
{
    private readonly TranscriptWindow.Fold _fold;
    private IActorRef? _replyTo;

    public TranscriptReaderActor(ArchivedRead read, IActorRef replyTo, string persistenceId, long upTo, TimeSpan timeout)
    {
        _fold = new TranscriptWindow.Fold(read);
        _replyTo = replyTo;
        Akka.Persistence.Persistence.Instance.Apply(Context.System).JournalFor(null)
            .Tell(new ReplayMessages(read.FromEvent, upTo, long.MaxValue, persistenceId, Self));
        Context.SetReceiveTimeout(timeout);

        Receive<ReplayedMessage>(m =>
        {
            if (m.Persistent.Payload is ISessionEvent e) _fold.Add(e); // an unreadable event adds no entry, as in recovery
            if (_fold.Done) Answer(_fold.Page()); // the rest of the replay is drained, not read
        });
        Receive<RecoverySuccess>(_ =>
        {
            Answer(_fold.Page());
            Context.Stop(Self);
        });
        Receive<ReplayMessagesFailure>(f =>
        {
            Answer(new Status.Failure(f.Cause));
            Context.Stop(Self);
        });
        Receive<ReceiveTimeout>(_ =>
        {
            Answer(new Status.Failure(new TimeoutException("The session journal did not answer a transcript read in time.")));
            Context.Stop(Self);
        });
    }

    private void Answer(object answer)
    {
        _replyTo?.Tell(answer);
        _replyTo = null;
    }

    /// <summary>Reads <paramref name="read"/> from the journal of <paramref name="persistenceId"/> up to <paramref name="upTo"/> and answers <paramref name="replyTo"/>.</summary>
    public static Props Props(ArchivedRead read, IActorRef replyTo, string persistenceId, long upTo, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new TranscriptReaderActor(read, replyTo, persistenceId, upTo, timeout));
}
