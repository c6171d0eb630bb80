using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using Durar.Actors.Sessions.Context;
using Durar.Actors.Routing;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions;

/// <summary>
/// One conversation with a stable key: a persistent Cluster Sharding entity. It runs one turn at a time; messages that
/// arrive during a run follow the queue mode (followup, collect, interrupt; capped). A user message is journaled before it
/// is acknowledged; the reply streams to every subscriber (a local channel on the session's node, an Akka.Streams SourceRef
/// for a reader on another node) and is journaled when the run ends, whether or not a client is still listening.
/// </summary>
/// <remarks>
/// <para>Over 400 lines on purpose: the turn protocol (journal before acknowledgement, the run, the queue, the reply's
/// subscribers, failures of the journal, the resident-place request of issue 13's cap) is one state machine on one untyped
/// actor, which is also what keeps an idle session small; its message dispatch stays here so the whole protocol reads in
/// one place, while the parts that are not dispatch live beside it: partials for runs, events, a failed recovery and the
/// transcript window (SessionActor.*.cs; a turn's acceptance, start and end in SessionActor.Turns.cs), and pure types (SessionDirectives, SessionState, SessionQueue, TranscriptWindow).
/// Splitting the dispatch across files is the next step if it grows again.</para>
/// Thousands of sessions sit idle in memory, so an idle one is kept small (issue 6, measured per type with
/// <c>dotnet-gcdump</c>): an untyped persistent actor (no per-instance handler tables); one <see cref="Props"/> for every
/// session, which reads its key from its actor name (sharding names an entity by its escaped id); a mailbox whose queue
/// holds nothing while empty (<see cref="SessionMailbox"/>); idle passivation by the system's one
/// <see cref="SessionIdleSweeper"/> instead of a receive timeout per session (<see cref="IdleTrackedPersistentActor"/>);
/// no <see cref="IWithTimers"/> (the <see cref="CollectDebounce"/> schedules a message only while it waits); the
/// persistence id built when asked, not kept; the system-wide materializer for its reply streams; and the shared empty
/// <see cref="SessionQueue{T}"/> while nothing waits.
/// <para>
/// The actor only orchestrates: the queue rules are <see cref="SessionQueue{T}"/> (pure), a run is a <see cref="SessionRun"/>
/// (its task streams the answer), the request and the journaled outcome of a turn are <see cref="SessionTurns"/> (pure),
/// and directives and model choice are <see cref="SessionDirectives"/>.
/// </para>
/// </remarks>
internal sealed partial class SessionActor : IdleTrackedPersistentActor
{
    private readonly string _key;
    private readonly SessionServices _services;
    private SessionState _state = SessionState.Empty;
    private SessionRun? _active;
    private SessionQueue<PendingTurn> _queue = SessionQueue<PendingTurn>.Empty;
    private CollectDebounce _debounce;

    /// <summary>What to do when the write in flight is rejected by the journal (one write at a time: persisting stashes commands).</summary>
    private Action<Exception>? _onRejected;
    private Deleting? _deleting;

    /// <summary>False when the node held <c>gateway.sessions.maxResident</c> busy sessions as this one was created: it then
    /// recovers nothing, answers every command 503 <see cref="SessionsBusy"/> and passivates.</summary>
    private readonly bool _admitted;
    private bool _stopping;

    /// <summary>"session-" + key, built on each use: it is read only to persist and recover, and not worth keeping per session.</summary>
    public override string PersistenceId => PersistenceIdFor(_key);

    internal static string PersistenceIdFor(string key) => "session-" + key;

    /// <summary>The session's key is its actor name: sharding names each entity by its id, escaped with <see cref="Uri.EscapeDataString(string)"/>.</summary>
    public SessionActor(SessionServices services)
    {
        _key = KeyFromName(Context.Self.Path.Name);
        _services = services;
        // Before recovery starts (it is read from Recovery in AroundPreStart): a refused session reads nothing.
        _admitted = Admit();
    }

    /// <summary>A refused session (<see cref="_admitted"/> false) recovers nothing: it only answers that the node is busy.</summary>
    public override Recovery Recovery => _admitted ? base.Recovery : Recovery.None;

    /// <summary>The error code of a session refused because every session resident on its node is busy.</summary>
    internal const string SessionsBusy = "sessions_busy";

    /// <summary>The <c>Retry-After</c> of a <see cref="SessionsBusy"/> answer: about when a run on the node may have ended.</summary>
    internal static readonly TimeSpan SessionsBusyRetryAfter = TimeSpan.FromSeconds(1);

    private protected override int MaxResident => _services.Settings.Gateway.Sessions.MaxResident;

    /// <summary>Idle enough to be passivated for a new session: recovered, no run, nothing queued, no write in flight, no watcher.</summary>
    private protected override bool Evictable =>
        _admitted && !_stopping && !IsRecovering && _active is null && _queue.Waiting.IsEmpty && _onRejected is null && _deleting is null
        && _events is not { HasWatchers: true };

    /// <summary>A refused session answers every command that the node is busy, and passivates (once) with <see cref="SessionIdleSweeper.Stop"/>.</summary>
    private void OnRefusedCommand(object message)
    {
        if (message is SessionIdleSweeper.Stop)
        {
            Context.Stop(Self);
            return;
        }
        if (message is not ISessionCommand) return;
        Sender.Tell(new TurnRejected(_key, 503,
            $"Every session on this node is busy (gateway.sessions.maxResident = {MaxResident}); try again shortly.", SessionsBusy));
        if (_stopping) return;
        _stopping = true;
        Context.Parent.Tell(new Passivate(SessionIdleSweeper.Stop.Instance));
    }

    /// <summary>The key an entity named <paramref name="name"/> stands for (the same string when nothing was escaped).</summary>
    internal static string KeyFromName(string name) => Uri.UnescapeDataString(name);

    private protected override TimeSpan IdleTimeout => _services.Settings.Gateway.Sessions.IdleTimeout;

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case UnreadablePayload u:
                RecoveredUnreadable(u, LastSequenceNr, "event"); // SessionActor.Failed.cs
                break;
            case SnapshotOffer { Snapshot: UnreadablePayload u } offer:
                RecoveredUnreadable(u, offer.Metadata.SequenceNr, "snapshot");
                break;
            case ISessionEvent e when _failure is null:
                ApplyToRuns(e);
                _state = TranscriptWindow.Journaled(_state.Apply(e), e, LastSequenceNr);
                break;
            case SnapshotOffer { Snapshot: SessionSnapshot s } offer:
                _state = TranscriptWindow.Recovered(s.State, offer.Metadata.SequenceNr);
                _runs = s.Runs ?? Runs.SessionRunLedger.Empty;
                break;
            case RecoveryCompleted when _failure is null:
                TrimTranscript(); // SessionActor.Transcript.cs
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        if (!_admitted)
        {
            OnRefusedCommand(message);
            return;
        }
        if (_failure is not null && OnFailedCommand(message)) return;
        switch (message)
        {
            case SessionCommands.SendMessage send:
                OnSend(send);
                break;
            case SessionCommands.GetSession:
                Sender.Tell(View());
                break;
            case SessionCommands.GetMessages q:
                OnGetMessages(q); // SessionActor.Transcript.cs: older entries are read from the journal
                break;
            case SessionCommands.PatchSession patch:
                OnPatch(patch);
                break;
            case SessionCommands.ResetSession:
            {
                var replyTo = Sender;
                PersistApply(new SessionEvents.SessionReset(Now), () => replyTo.Tell(View()), Refuse(replyTo));
                break;
            }
            case SessionCommands.DeleteSession:
                OnDelete(Sender);
                break;
            case WatchSessionEvents:
                OnWatch(); // SessionActor.Events.cs
                break;
            case SessionCommands.CancelTurn cancel:
                OnCancelTurn(cancel); // SessionActor.Runs.cs: an abort of that turn's run
                break;
            case SessionRun.Outcome done:
                OnRunFinished(done);
                break;
            case SessionCommands.GetRun or SessionCommands.AbortRun or Runs.RunWatchers.WaitOver:
                OnRunCommand(message); // SessionActor.Runs.cs
                break;
            case CollectDebounce.Due due:
                if (_debounce.Expire(due)) StartNextIfIdle();
                break;
            case SessionIdleSweeper.IdleCheck:
                // Still quiet for the idle timeout, and no run in flight and nothing queued: a session is never passivated
                // in the middle of a run.
                // Nor while someone watches its events (their streams would end).
                if (_active is null && _queue.Waiting.IsEmpty && QuietForIdleTimeout && _events is not { HasWatchers: true })
                    Context.Parent.Tell(new Passivate(PoisonPill.Instance));
                break;
            case SessionIdleSweeper.Evict:
                // The least recently used idle session, asked to make room for a new one: still idle, it goes; busy since, it stays.
                if (Evictable)
                {
                    _stopping = true;
                    Context.Parent.Tell(new Passivate(SessionIdleSweeper.Stop.Instance));
                }
                else IdleSweeper.Reprieve(this);
                break;
            case SessionIdleSweeper.Stop:
                Context.Stop(Self);
                break;
            case SaveSnapshotSuccess saved:
                if (_deleting is null) Snapshotted(saved.Metadata.SequenceNr); // SessionActor.Transcript.cs
                break;
            case DeleteMessagesSuccess d when _deleting is { } deleting && d.ToSequenceNr >= deleting.UpTo:
                _deleting = deleting with { Events = true };
                DeletedIfDone();
                break;
            case DeleteSnapshotsSuccess d when _deleting is { } deleting && d.Criteria.MaxSequenceNr == long.MaxValue:
                _deleting = deleting with { Snapshots = true };
                DeletedIfDone();
                break;
            case DeleteMessagesFailure f when _deleting is { } deleting:
                DeleteFailed(deleting, f.Cause);
                break;
            case DeleteSnapshotsFailure f when _deleting is { } deleting && f.Criteria.MaxSequenceNr == long.MaxValue:
                DeleteFailed(deleting, f.Cause);
                break;
            case SaveSnapshotFailure f:
                Log.Warning("Session [{SessionKey}] snapshot failed: {Error}", _key, f.Cause.Message);
                break;
            case DeleteMessagesFailure f:
                Log.Warning("Session [{SessionKey}] could not delete events: {Error}", _key, f.Cause.Message);
                break;
            case DeleteMessagesSuccess or DeleteSnapshotsSuccess or DeleteSnapshotsFailure:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>
    /// The props of every session of a node (one instance for all of them): each is named by its key, and runs on the
    /// <see cref="SessionMailbox"/>, which needs <see cref="SessionMailbox.Hocon"/> in the actor system's config.
    /// </summary>
    public static Props Props(SessionServices services) =>
        Akka.Actor.Props.CreateBy(new Producer(services)).WithMailbox(SessionMailbox.Id);

    /// <summary>Creates the session without reflection: one is created for every session that wakes up.</summary>
    private sealed class Producer(SessionServices services) : IIndirectActorProducer
    {
        public Type ActorType => typeof(SessionActor);

        public ActorBase Produce() => new SessionActor(services);

        public void Release(ActorBase actor) { }
    }

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    protected override void PostStop()
    {
        _debounce.Stop();
        _active?.Cancel.Cancel();
        DiscardEarly();
        // The reply streams run on the system's materializer, not as this actor's children: end them with it, or a
        // subscriber would wait for a reply that no longer comes.
        var stopped = new SessionRunError(503, "The session stopped before the reply was complete.", "api_error", "session_stopped");
        if (_active is not null) _ = _active.Fanout.CompleteAsync([stopped]);
        _watchers?.Stop(stopped);
        _events?.Close(Watching.SessionEventFeed.Closed("session_stopped"));
        foreach (var turn in _queue.Waiting)
            _ = turn.Fanout.CompleteAsync([stopped]);
        base.PostStop();
    }

    private void OnSend(SessionCommands.SendMessage send)
    {
        var replyTo = Sender;
        if (TryAttach(send, replyTo)) return; // a repeated Idempotency-Key: the first run answers
        switch (SessionTurns.Decide(send, _state, _services, Now))
        {
            case SendDecision.Rejected r:
                replyTo.Tell(new TurnRejected(_key, r.Status, r.Message, r.Code));
                break;
            case SendDecision.DirectivesOnly d:
                PersistAllApply(d.Events, () => replyTo.Tell(new DirectivesApplied(_key, d.Reply, View())), Refuse(replyTo));
                break;
            case SendDecision.Turn turn:
                Accept(send, turn, replyTo);
                break;
        }
    }

    /// <summary>
    /// A journal write that failed (the journal is unreachable): Akka stops the session after this, so the journal is marked
    /// down for this node's turns and the caller waiting for the write is answered now, not at its timeout.
    /// </summary>
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        JournalDown();
        var rejected = _onRejected;
        _onRejected = null;
        rejected?.Invoke(new JournalUnavailableException(cause));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <summary>A session that cannot be read from the journal: the journal is marked down for this node's turns.</summary>
    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        JournalDown();
        base.OnRecoveryFailure(reason, message);
    }

    private void JournalDown() =>
        JournalHealth.For(Context.System).MarkDown(DateTimeOffset.UtcNow + _services.Settings.Gateway.Sessions.JournalRetryAfter);

    /// <summary>The error code of a turn or reply the journal refused to store.</summary>
    internal const string JournalRejected = "journal_rejected";

    /// <summary>Answers <paramref name="replyTo"/> with a 503 when the journal rejects its write (instead of leaving it to time out).</summary>
    private Action<Exception> Refuse(IActorRef replyTo) => cause =>
        replyTo.Tell(cause is JournalUnavailableException
            ? new TurnRejected(_key, 503, "The session journal is unavailable; try again shortly.", JournalUnavailable)
            : new TurnRejected(_key, 503, "The session's journal refused the write: " + cause.Message, JournalRejected));

    /// <summary>The error code of a turn answered while the journal is unreachable.</summary>
    internal const string JournalUnavailable = "journal_unavailable";

    private sealed class JournalUnavailableException(Exception cause) : Exception(cause.Message, cause);

    /// <summary>
    /// Deletes the session: its events and snapshots, then the answer, then passivation. A SQL journal keeps its last row
    /// (marked deleted) to remember the sequence number, so a reset (a timestamp, nothing of the conversation) is written
    /// last and everything up to it deleted: nothing the client said or was told stays in the journal.
    /// </summary>
    private void OnDelete(IActorRef replyTo)
    {
        _active?.Cancel.Cancel();
        _onRejected = Refuse(replyTo);
        Persist(new SessionEvents.SessionReset(Now), reset =>
        {
            _onRejected = null;
            Published(reset);
            _state = SessionState.Empty;
            _runs = Runs.SessionRunLedger.Empty;
            _deleting = new Deleting(replyTo, LastSequenceNr, false, false);
            DeleteMessages(LastSequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(long.MaxValue, DateTime.MaxValue));
        });
    }

    private void DeletedIfDone()
    {
        if (_deleting is not { Events: true, Snapshots: true } done) return;
        _deleting = null;
        done.ReplyTo.Tell(new SessionDeleted(_key));
        Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }

    private void DeleteFailed(Deleting deleting, Exception cause)
    {
        Log.Warning("Session [{SessionKey}] could not be deleted: {Error}", _key, cause.Message);
        _deleting = null;
        deleting.ReplyTo.Tell(new TurnRejected(_key, 503, "The session could not be deleted from its journal: " + cause.Message, "delete_failed"));
    }

    /// <summary>A delete in progress: who waits for it, up to which event, and which of the two deletes are done.</summary>
    private sealed record Deleting(IActorRef ReplyTo, long UpTo, bool Events, bool Snapshots);

    private void OnPatch(SessionCommands.PatchSession patch)
    {
        var (overrides, error) = SessionDirectives.Patch(patch, _state.Overrides, _services);
        if (error is not null)
        {
            Sender.Tell(new TurnRejected(_key, error.Value.Status, error.Value.Message, error.Value.Code));
            return;
        }
        var replyTo = Sender;
        if (overrides == _state.Overrides) replyTo.Tell(View());
        else PersistApply(new SessionEvents.OverridesChanged(Now, overrides), () => replyTo.Tell(View()), Refuse(replyTo));
    }

    private void PersistApply(ISessionEvent e, Action then, Action<Exception> rejected) => PersistAllApply([e], then, rejected);

    /// <summary>Persists <paramref name="events"/> as one write, applies each, then runs <paramref name="then"/>; or <paramref name="rejected"/> when the journal rejects the write.</summary>
    private void PersistAllApply(IReadOnlyList<ISessionEvent> events, Action then, Action<Exception> rejected)
    {
        if (events.Count == 0)
        {
            then();
            return;
        }
        var remaining = events.Count;
        _onRejected = rejected;
        PersistAll(events, e =>
        {
            ApplyToRuns(e);
            _state = TranscriptWindow.Journaled(_state.Apply(e), e, LastSequenceNr);
            Published(e); // SessionActor.Events.cs
            if (LastSequenceNr % _services.Settings.Gateway.Sessions.SnapshotEvery == 0)
            {
                TrimTranscript(); // the snapshot holds the resident window only
                SaveSnapshot(new SessionSnapshot(_state) { Runs = _runs });
            }
            if (--remaining != 0) return;
            _onRejected = null;
            then();
        });
    }

    /// <summary>
    /// A journal that rejects a write (e.g. it cannot serialize an event) fails the turn loudly instead of leaving the
    /// client waiting: Akka calls this once per event of the rejected write and applies none of them, so the write's
    /// <c>rejected</c> action runs once and the state stays what the journal holds.
    /// </summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        Log.Error(cause, "Session [{SessionKey}] could not journal {EventType} (seq {SequenceNr})", _key, @event.GetType().Name, sequenceNr);
        var rejected = _onRejected;
        _onRejected = null;
        rejected?.Invoke(cause);
    }

    private SessionView View() => SessionContextView.Add(new(_key, _state.Overrides, _state.Usage, _state.LastModel, TranscriptWindow.Total(_state),
        _active is not null, _queue.Waiting.Count, _state.CreatedAt), _state, _services) with { Fallback = _state.Fallback };
}
