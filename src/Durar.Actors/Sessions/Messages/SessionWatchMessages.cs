using Durar.Actors.Chat;

namespace Durar.Actors.Sessions.Messages;

/// <summary>
/// Subscribe to the session's event stream (<c>GET /v1/sessions/{key}/events</c>). Answered by <see cref="EventsWatched"/>;
/// any node sends it to the session's shard.
/// </summary>
public sealed record WatchSessionEvents(string SessionKey) : ISessionCommand;

/// <summary>
/// Answer to <see cref="WatchSessionEvents"/>: the watcher's live stream (<see cref="Watching.SessionWatchEvent"/>s, then a
/// final one when it is cut) and the journal sequence number it starts after: every journaled fact up to
/// <see cref="FromSequenceNr"/> is in the journal, every later one comes on <see cref="Events"/>, so a resume replays the
/// journal up to it and nothing is seen twice or missed.
/// </summary>
public sealed record EventsWatched(string SessionKey, long FromSequenceNr, Akka.Streams.ISourceRef<ChatEvent> Events) : IDurarWireMessage
{
    /// <summary>An actor on the session's node, watched by the HTTP node as for <see cref="TurnAccepted.Host"/>.</summary>
    public Akka.Actor.IActorRef? Host { get; init; }
}
