using Akka.Actor;
using Akka.Event;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;

namespace Durar.Actors.AuthProfiles;

/// <summary>
/// One per node of a cluster: keeps this node's provider registry in step with the auth-profile store, a cluster singleton
/// that usually runs on another node and moves when its node leaves. It subscribes through the store's singleton proxy at
/// start, when a store that just started says so (<see cref="AuthProfileSubscription.StoreStarted"/>), and again every
/// <c>interval</c> (a safety net for lost messages: a store that restarted or moved does not know its subscribers), receives the whole credential set after every change, and hands the registry only the differences
/// (<see cref="AuthProfileSubscriberState"/>), naming the proxy as their sender so OAuth write-backs
/// (<see cref="CredentialRefreshed"/>) reach the store wherever it runs. The first set also opens the registry
/// (<see cref="ProviderCommands.CredentialsLoaded"/>).
/// </summary>
internal sealed class AuthProfileSubscriberActor : ReceiveActor, IWithTimers
{
    private const string SubscribeTimer = "subscribe";

    /// <summary>How often a subscriber subscribes again: bounds how long a store that moved stays unaware of this node.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(2);

    /// <summary>How long an <see cref="AwaitAuthProfileRevision"/> waits before it is answered as not applied.</summary>
    public static readonly TimeSpan DefaultWaitLimit = TimeSpan.FromSeconds(3);

    private readonly IActorRef _store;
    private readonly IActorRef _registry;
    private readonly KeyLeaseBoard? _board;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _waitLimit;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<long, Waiter> _waiters = [];
    private AuthProfileSubscriberState _state = AuthProfileSubscriberState.Empty;
    private long _nextWaiter;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="store">The store's cluster singleton proxy (or the store itself).</param>
    /// <param name="registry">This node's provider registry.</param>
    /// <param name="board">This node's lease board: key changes sent to <paramref name="registry"/> are stamped on it first.</param>
    public AuthProfileSubscriberActor(IActorRef store, IActorRef registry, TimeSpan interval, TimeSpan waitLimit, KeyLeaseBoard? board = null)
    {
        _board = board;
        _store = store;
        _registry = registry;
        _interval = interval;
        _waitLimit = waitLimit;
        Receive<AuthProfileCredentials>(OnCredentials);
        Receive<Resubscribe>(_ => _store.Tell(new AuthProfileSubscription.Subscribe(Self, _state.Applied)));
        // Straight to the new store: the proxy may not have found it yet.
        Receive<AuthProfileSubscription.StoreStarted>(_ => Sender.Tell(new AuthProfileSubscription.Subscribe(Self, _state.Applied)));
        Receive<AwaitAuthProfileRevision>(OnAwait);
        Receive<WaitExpired>(expired =>
        {
            if (_waiters.Remove(expired.Id, out var waiter)) waiter.ReplyTo.Tell(new AuthProfileRevisionApplied(waiter.Revision, false));
        });
    }

    public static Props Props(IActorRef store, IActorRef registry, TimeSpan? interval = null, TimeSpan? waitLimit = null, KeyLeaseBoard? board = null) =>
        Akka.Actor.Props.Create(() => new AuthProfileSubscriberActor(store, registry, interval ?? DefaultInterval, waitLimit ?? DefaultWaitLimit, board));

    protected override void PreStart()
    {
        _store.Tell(new AuthProfileSubscription.Subscribe(Self, null));
        Timers.StartPeriodicTimer(SubscribeTimer, Resubscribe.Instance, _interval);
    }

    private void OnCredentials(AuthProfileCredentials set)
    {
        if (_state.IsStale(set.Revision)) return;
        var first = _state.Applied is null;
        var (next, commands) = _state.Apply(set);
        _state = next;
        foreach (var command in commands) _registry.Tell(_board?.Stamp(command) ?? command, _store);
        if (first)
        {
            _registry.Tell(ProviderCommands.CredentialsLoaded.Instance);
            // Nothing stored is the usual start: said at Debug, so that a healthy start stays quiet.
            _log.Log(next.Served.Count + next.Orders.Count == 0 ? LogLevel.DebugLevel : LogLevel.InfoLevel,
                "Auth profiles loaded from the store [{Revision}]: {CredentialCount} credential(s), {OrderCount} stored order(s)",
                [set.Revision, next.Served.Count, next.Orders.Count]);
        }
        else if (commands.Length > 0)
            _log.Info("Auth profiles changed [{Revision}]: {CommandCount} change(s) handed to the providers", set.Revision, commands.Length);

        foreach (var (id, waiter) in _waiters.ToList())
            if (Reached(waiter.Revision, set.Revision, afterWait: true))
            {
                _waiters.Remove(id);
                Timers.Cancel(WaitTimer(id));
                waiter.ReplyTo.Tell(new AuthProfileRevisionApplied(waiter.Revision, true));
            }
    }

    private void OnAwait(AwaitAuthProfileRevision wait)
    {
        if (_state.Applied is { } applied && Reached(wait.Revision, applied, afterWait: false))
        {
            Sender.Tell(new AuthProfileRevisionApplied(wait.Revision, true));
            return;
        }
        var id = ++_nextWaiter;
        _waiters[id] = new Waiter(wait.Revision, Sender);
        Timers.StartSingleTimer(WaitTimer(id), new WaitExpired(id), _waitLimit);
        // The store may not know this subscriber yet (it just started or moved): ask for the set outright.
        _store.Tell(new AuthProfileSubscription.Subscribe(Self, null));
    }

    /// <summary>
    /// True when <paramref name="held"/> contains <paramref name="wanted"/>: a later revision of the same store run, or,
    /// for a set that arrived after the wait began, any other run (a store that started after the change recovered it).
    /// </summary>
    private static bool Reached(AuthProfileRevision wanted, AuthProfileRevision held, bool afterWait) =>
        held.Incarnation == wanted.Incarnation ? held.Revision >= wanted.Revision : afterWait;

    private static string WaitTimer(long id) => "wait-" + id;

    private sealed record Waiter(AuthProfileRevision Revision, IActorRef ReplyTo);

    private sealed record WaitExpired(long Id) : INoSerializationVerificationNeeded;

    private sealed class Resubscribe : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static Resubscribe Instance { get; } = new();
        private Resubscribe() { }
    }
}
