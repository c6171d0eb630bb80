using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Durar.Actors.Chat;

namespace Durar.Actors.Sessions;

/// <summary>
/// The one materializer every session's reply streams run on (an Akka extension, so one per actor system): a materializer
/// per session would cost each idle session a materializer and its supervisor actor.
/// </summary>
internal sealed class SessionStreams : IExtension
{
    private readonly IMaterializer _materializer;

    private SessionStreams(ActorSystem system) => _materializer = system.Materializer(namePrefix: "session");

    public static IMaterializer For(ActorSystem system) => system.WithExtension<SessionStreams, Provider>()._materializer;

    /// <summary>
    /// Adds a subscriber for <paramref name="replyTo"/> to <paramref name="fanout"/> and sends it its acceptance
    /// (<paramref name="accepted"/> of the reply's events). A reader on this node (a local <c>Sender</c>: the HTTP request
    /// landed on the node hosting the session, or the embedded hosting) gets a <see cref="LocalReply"/>: a channel, no
    /// stream materialized. A reader on another node gets a SourceRef: a <c>Source.Queue</c> (<paramref name="buffer"/>
    /// events deep, back-pressured) materialized into <see cref="StreamRefs.SourceRef{T}"/>, answered once the ref exists
    /// (<paramref name="failed"/> when it could not be opened).
    /// </summary>
    public static void HandOut(ActorSystem system, int buffer, SessionFanout fanout, IActorRef replyTo,
        Func<ISourceRef<ChatEvent>, object> accepted, Func<Exception, object> failed)
    {
        if (IsLocal(replyTo))
        {
            var local = new LocalReply(buffer);
            fanout.Add(local);
            replyTo.Tell(accepted(local));
            return;
        }
        var (queue, sourceRef) = Source.Queue<ChatEvent>(buffer, OverflowStrategy.Backpressure)
            .ToMaterialized(StreamRefs.SourceRef<ChatEvent>(), Keep.Both)
            .Run(For(system));
        fanout.Add(new QueueSubscriber(queue));
        sourceRef.PipeTo(replyTo, success: r => accepted(r), failure: failed);
    }

    /// <summary>True when <paramref name="actor"/> lives in this actor system (a ref that came through remoting has a host address).</summary>
    public static bool IsLocal(IActorRef actor) => actor.Path.Address.HasLocalScope;

    private sealed class Provider : ExtensionIdProvider<SessionStreams>
    {
        public override SessionStreams CreateExtension(ExtendedActorSystem system) => new(system);
    }
}
