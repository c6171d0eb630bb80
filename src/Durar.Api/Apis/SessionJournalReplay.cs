using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Persistence;
using Akka.Streams;
using Akka.Streams.Dsl;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Actors.Sessions.Watching;

namespace Durar.Api.Apis;

/// <summary>
/// The resume of a session's event stream (<c>Last-Event-ID</c>): the journaled facts after that id, read from the journal
/// by the HTTP node itself (no session actor is involved), written as the live stream wrote them
/// (<see cref="SessionEventFeed"/>). Bounded: at most <c>gateway.sessions.events.replayMax</c> events, the newest; what
/// the bound leaves out, or what the journal no longer holds (events before the session's last reset are deleted at its next snapshot),
/// is announced by one <see cref="SessionWatchEvents.Gap"/> event first.
/// </summary>
internal static class SessionJournalReplay
{
    /// <summary>The watch events of the facts journaled after <paramref name="after"/> up to <paramref name="upTo"/> (inclusive).</summary>
    /// <exception cref="JournalUnreadableException">The journal answered with a failure.</exception>
    /// <exception cref="TimeoutException">The journal sent nothing for <paramref name="idle"/>.</exception>
    public static async IAsyncEnumerable<SessionWatchEvent> ReadAsync(ActorSystem system, IMaterializer materializer, string key, long after,
        long upTo, int max, TimeSpan idle, [EnumeratorCancellation] CancellationToken ct)
    {
        if (upTo <= after) yield break;
        var from = Math.Max(after + 1, upTo - max + 1);
        if (from > upTo)
        {
            yield return SessionEventFeed.Gap(after + 1, upTo);
            yield break;
        }
        var count = upTo - from + 1; // at most max: the buffer below never overflows
        var (receiver, replies) = Source.ActorRef<object>((int)count + 2, OverflowStrategy.Fail).PreMaterialize(materializer);
        Akka.Persistence.Persistence.Instance.Apply(system).JournalFor(null)
            .Tell(new ReplayMessages(from, upTo, count, SessionActor.PersistenceIdFor(key), receiver));
        var expected = after + 1;
        await foreach (var reply in replies.IdleTimeout(idle).TakeWhile(m => m is not RecoverySuccess)
                           .RunAsAsyncEnumerable(materializer).WithCancellation(ct).ConfigureAwait(false))
        {
            switch (reply)
            {
                case ReplayMessagesFailure failure:
                    throw new JournalUnreadableException(failure.Cause);
                case ReplayedMessage { Persistent: { Payload: ISessionEvent e } p }:
                    if (p.SequenceNr > expected) yield return SessionEventFeed.Gap(expected, p.SequenceNr - 1);
                    expected = p.SequenceNr + 1;
                    if (SessionEventFeed.Of(p.SequenceNr, e) is { } watched) yield return watched;
                    break;
            }
        }
        if (expected <= upTo) yield return SessionEventFeed.Gap(expected, upTo);
    }
}
