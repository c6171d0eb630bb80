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
    /// Opens one subscriber's reply stream: a queue the run offers events to (with back-pressure, <paramref name="buffer"/>
    /// events deep) and the SourceRef a reader on any node consumes it through.
    /// </summary>
    public static (ISourceQueueWithComplete<ChatEvent> Queue, Task<ISourceRef<ChatEvent>> Ref) OpenReply(ActorSystem system, int buffer) =>
        Source.Queue<ChatEvent>(buffer, OverflowStrategy.Backpressure)
            .ToMaterialized(StreamRefs.SourceRef<ChatEvent>(), Keep.Both)
            .Run(For(system));

    private sealed class Provider : ExtensionIdProvider<SessionStreams>
    {
        public override SessionStreams CreateExtension(ExtendedActorSystem system) => new(system);
    }
}
