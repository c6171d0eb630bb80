using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Persistence;

namespace Durar.Api.SessionList;

/// <summary>
/// The node's session list (<c>GET /v1/sessions</c>), kept from the journal's query side so that listing never wakes a
/// session actor. Nothing runs until the first list request; each request then catches the read model up (the events
/// after the last offset read, then the persistence ids still live) before it is answered, so a client sees every
/// session written before it asked. Requests arriving during a catch-up wait for the next one. The catch-up runs as a
/// stream off the actor and comes back as one message (no state is touched from the stream).
/// </summary>
internal sealed class SessionDirectoryActor : ReceiveActor
{
    /// <summary>The actor's name under <c>/user</c>.</summary>
    public const string Name = "session-directory";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly SessionDirectory _directory = new();
    private readonly IMaterializer _materializer;
    private IReadJournal? _journal;
    private List<(SessionListQuery Query, IActorRef ReplyTo)> _running = [];
    private List<(SessionListQuery Query, IActorRef ReplyTo)> _next = [];

    public SessionDirectoryActor()
    {
        _materializer = Context.Materializer();
        Receive<List>(list =>
        {
            _next.Add((list.Query, Sender));
            if (_running.Count == 0) StartCatchUp();
        });
        Receive<CaughtUp>(done =>
        {
            _directory.Apply(done.Delta, done.LiveKeys);
            foreach (var (query, replyTo) in _running) replyTo.Tell(_directory.Page(query));
            Finish();
        });
        Receive<Status.Failure>(failed =>
        {
            _log.Warning("The session list could not read the journal: {Error}", failed.Cause.Message);
            foreach (var (_, replyTo) in _running) replyTo.Tell(failed);
            Finish();
        });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new SessionDirectoryActor());

    /// <summary>Asks for one page (answered with a <see cref="SessionListPage"/>, or a <see cref="Status.Failure"/> when the journal cannot be read).</summary>
    public sealed record List(SessionListQuery Query);

    private sealed record CaughtUp(SessionDirectory.Delta Delta, IReadOnlySet<string> LiveKeys);

    private void Finish()
    {
        _running = [];
        if (_next.Count > 0) StartCatchUp();
    }

    private void StartCatchUp()
    {
        (_running, _next) = (_next, []);
        // Created on first use: the read journal starts a poller of the journal's highest offset, which a node that never
        // lists sessions does not need.
        _journal ??= PersistenceQuery.Get(Context.System).ReadJournalFor<IReadJournal>(DurarPersistence.QueryJournalPluginId);
        CatchUpAsync(_journal, _directory.Offset, _materializer).PipeTo(Self, success: r => r, failure: e => new Status.Failure(e));
    }

    private static readonly string PersistencePrefix = SessionActor.PersistenceIdFor("");

    private static string? KeyOf(string persistenceId) =>
        persistenceId.StartsWith(PersistencePrefix, StringComparison.Ordinal) ? persistenceId[PersistencePrefix.Length..] : null;

    /// <summary>Reads the events after <paramref name="offset"/>, then the live persistence ids (in that order: a session deleted in between is dropped, one created in between waits for the next request).</summary>
    private static async Task<CaughtUp> CatchUpAsync(IReadJournal journal, long offset, IMaterializer materializer)
    {
        var delta = await ((ICurrentAllEventsQuery)journal).CurrentAllEvents(Offset.Sequence(offset))
            .RunAggregate(new SessionDirectory.Delta { Offset = offset }, static (d, envelope) =>
            {
                if (envelope.Offset is Sequence s && s.Value > d.Offset) d.Offset = s.Value;
                if (envelope.Event is ISessionEvent e && KeyOf(envelope.PersistenceId) is { } key) d.Fold(key, e);
                return d;
            }, materializer);
        var live = await ((ICurrentPersistenceIdsQuery)journal).CurrentPersistenceIds()
            .RunAggregate(new HashSet<string>(StringComparer.Ordinal), static (set, id) =>
            {
                if (KeyOf(id) is { } key) set.Add(key);
                return set;
            }, materializer);
        return new CaughtUp(delta, live);
    }
}

/// <summary>The registry key of the node's <see cref="SessionDirectoryActor"/>.</summary>
internal sealed class SessionDirectoryKey;

/// <summary>Starts the node's session list actor with the gateway's actor system (idle until the first list request).</summary>
internal static class SessionDirectoryHosting
{
    public static AkkaConfigurationBuilder WithDurarSessionList(this AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, registry) =>
            registry.Register<SessionDirectoryKey>(system.ActorOf(SessionDirectoryActor.Props(), SessionDirectoryActor.Name)));
}
