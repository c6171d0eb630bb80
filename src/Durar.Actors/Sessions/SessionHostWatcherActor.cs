using Akka.Actor;

namespace Durar.Actors.Sessions;

/// <summary>
/// Watches the node of a (usually remote) session for the length of one reply, through an actor there (the
/// <see cref="Messages.TurnAccepted.Host"/>): the node's removal from the cluster completes <c>died</c>. That actor
/// stopping on a live node (its shard handed off) is not a lost node: the session's own stop ends the reply stream then.
/// It exists because a reply stream from a crashed node would otherwise wait forever; <see cref="SessionReply"/> starts
/// and stops it.
/// </summary>
internal sealed class SessionHostWatcherActor : ReceiveActor
{
    public SessionHostWatcherActor(IActorRef host, TaskCompletionSource died)
    {
        Context.Watch(host);
        Receive<Terminated>(terminated =>
        {
            if (terminated.AddressTerminated) died.TrySetResult();
            Context.Stop(Self);
        });
    }

    public static Props Props(IActorRef host, TaskCompletionSource died) =>
        Akka.Actor.Props.Create(() => new SessionHostWatcherActor(host, died));
}
