using Akka.Actor;
using Akka.Persistence;
using Durar.Actors.Sessions;

namespace Durar.Api.Apis;

/// <summary>
/// Whether a session has anything stored, asked of the journal and the snapshot store directly: a read of an unknown key
/// must answer 404 without starting (and recovering) a session entity, or a client reading random keys would fill the
/// node with empty sessions. A session that answered anything has journaled it first (a turn is acknowledged after its
/// write), so the journal knows every session there is; a deleted one has neither events nor snapshots.
/// </summary>
internal static class SessionExistence
{
    /// <summary>True when the session of <paramref name="key"/> has a snapshot or at least one event.</summary>
    /// <exception cref="JournalUnreadableException">The journal or the snapshot store could not be read.</exception>
    public static async Task<bool> ExistsAsync(ActorSystem system, string key, TimeSpan timeout, CancellationToken ct)
    {
        var persistenceId = SessionActor.PersistenceIdFor(key);
        var persistence = Akka.Persistence.Persistence.Instance.Apply(system);
        var snapshot = await persistence.SnapshotStoreFor(null)
            .Ask<object>(new LoadSnapshot(persistenceId, SnapshotSelectionCriteria.Latest, long.MaxValue), timeout, ct);
        switch (snapshot)
        {
            case LoadSnapshotResult { Snapshot: not null }:
                return true;
            case LoadSnapshotFailed failed:
                throw new JournalUnreadableException(failed.Cause);
        }
        // At most one event replayed: its arrival, or the end of an empty replay, is the first answer.
        var first = await persistence.JournalFor(null)
            .Ask<object>(replyTo => new ReplayMessages(1, long.MaxValue, 1, persistenceId, replyTo), timeout, ct);
        return first switch
        {
            ReplayedMessage => true,
            RecoverySuccess => false,
            ReplayMessagesFailure f => throw new JournalUnreadableException(f.Cause),
            _ => throw new JournalUnreadableException(new InvalidOperationException("unexpected journal answer " + first.GetType().Name)),
        };
    }
}

/// <summary>The journal could not be read to answer a session request.</summary>
internal sealed class JournalUnreadableException(Exception cause) : Exception("The session journal could not be read: " + cause.Message, cause);
