using System.Collections.Immutable;
using System.Text;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using Akka.Streams;
using Akka.Streams.Dsl;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Routing;
using Durar.Actors.Sessions.Directives;
using Durar.Actors.Sessions.Messages;
using Durar.Actors.Transports;
using Durar.Actors.Chat;

namespace Durar.Actors.Sessions;

/// <summary>
/// One conversation with a stable key: a persistent Cluster Sharding entity. It runs one turn at a time; messages that
/// arrive during a run follow the queue mode (followup, collect, interrupt; capped). A user message is journaled before it
/// is acknowledged; the reply streams to every subscriber through Akka.Streams SourceRefs (so any node's HTTP endpoint can
/// consume it) and is journaled when the run ends, whether or not a client is still listening.
/// </summary>
/// <remarks>
/// Thousands of sessions sit idle in memory, so an idle one is kept small (issue 6, measured per type with
/// <c>dotnet-gcdump</c>): an untyped persistent actor (no per-instance handler tables); one <see cref="Props"/> for every
/// session, which reads its key from its actor name (sharding names an entity by its escaped id); a mailbox whose queue
/// holds nothing while empty (<see cref="SessionMailbox"/>); idle passivation by the system's one
/// <see cref="SessionIdleSweeper"/> instead of a receive timeout per session; no <see cref="IWithTimers"/> (the collect
/// debounce schedules a message only while it waits); the persistence id built when asked, not kept; the system-wide
/// materializer for its reply streams; and the queues created only when first needed.
/// </remarks>
public sealed class SessionActor : UntypedPersistentActor, IIdleTracked
{
    private const int SubscriberBuffer = 256;

    private readonly string _key;
    private readonly SessionServices _services;
    private SessionState _state = SessionState.Empty;
    private ActiveRun? _active;
    private List<PendingTurn>? _pending;
    private List<string>? _droppedSummaries;
    private ICancelable? _collectTimer;
    private int _collectGeneration;

    // Idle passivation (SessionIdleSweeper): the list links, the time of the last message, and Self for the sweeper's thread.
    private IIdleTracked? _idlePrev;
    private IIdleTracked? _idleNext;
    private long _lastActivityTicks;
    private IActorRef _self = ActorRefs.Nobody;

    /// <summary>"session-" + key, built on each use: it is read only to persist and recover, and not worth keeping per session.</summary>
    public override string PersistenceId => PersistenceIdFor(_key);

    internal static string PersistenceIdFor(string key) => "session-" + key;

    /// <summary>A persisted user message waiting for (or in) its run, with the subscribers that want its reply.</summary>
    private sealed record PendingTurn(long Seq, string Content, QueueMode Mode, SessionCommands.SendMessage Command, SessionFanout Fanout,
        SessionOverrides Inline)
    {
        public PendingTurnView View => new(Inline, Command.Model);
    }

    private sealed record ActiveRun(ImmutableArray<PendingTurn> Turns, CancellationTokenSource Cancel, SessionFanout Fanout);

    /// <summary>The run task finished (success, failure or interruption); the actor journals the outcome.</summary>
    private sealed record RunFinished(ActiveRun Run, string Text, string? Model, string? KeyId, TokenUsage? Usage, string? Finish,
        SessionRunError? Error, bool Interrupted) : INoSerializationVerificationNeeded;

    /// <summary>The collect debounce ran out; a later restart of the debounce makes an earlier one stale.</summary>
    private sealed record CollectDue(int Generation) : INoSerializationVerificationNeeded, IDeadLetterSuppression;

    /// <summary>The session's key is its actor name: sharding names each entity by its id, escaped with <see cref="Uri.EscapeDataString(string)"/>.</summary>
    public SessionActor(SessionServices services)
    {
        _key = KeyFromName(Context.Self.Path.Name);
        _services = services;
    }

    /// <summary>The key an entity named <paramref name="name"/> stands for (the same string when nothing was escaped).</summary>
    internal static string KeyFromName(string name) => Uri.UnescapeDataString(name);

    IIdleTracked? IIdleTracked.IdlePrev { get => _idlePrev; set => _idlePrev = value; }
    IIdleTracked? IIdleTracked.IdleNext { get => _idleNext; set => _idleNext = value; }
    long IIdleTracked.LastActivityTicks => Volatile.Read(ref _lastActivityTicks);
    IActorRef IIdleTracked.IdleRef => _self;

    private List<PendingTurn> Pending => _pending ??= [];

    private int PendingCount => _pending?.Count ?? 0;

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case ISessionEvent e:
                _state = _state.Apply(e);
                break;
            case SnapshotOffer { Snapshot: SessionSnapshot s }:
                _state = s.State;
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case SessionCommands.SendMessage send:
                OnSend(send);
                break;
            case SessionCommands.GetSession:
                Sender.Tell(View());
                break;
            case SessionCommands.GetMessages q:
            {
                var offset = Math.Max(0, q.Offset);
                var limit = Math.Clamp(q.Limit, 1, 500);
                Sender.Tell(new TranscriptPage(_key, offset, _state.Transcript.Count, [.. _state.Transcript.Skip(offset).Take(limit)]));
                break;
            }
            case SessionCommands.PatchSession patch:
                OnPatch(patch);
                break;
            case SessionCommands.ResetSession:
            {
                var replyTo = Sender;
                PersistApply(new SessionEvents.SessionReset(Now), () => replyTo.Tell(View()));
                break;
            }
            case SessionCommands.DeleteSession:
                _active?.Cancel.Cancel();
                DeleteMessages(LastSequenceNr);
                DeleteSnapshots(SnapshotSelectionCriteria.Latest);
                _state = SessionState.Empty;
                Sender.Tell(new SessionDeleted(_key));
                Context.Parent.Tell(new Passivate(PoisonPill.Instance));
                break;
            case RunFinished done:
                OnRunFinished(done);
                break;
            case CollectDue due:
                if (due.Generation != _collectGeneration) break; // restarted or cancelled after this one was sent
                _collectTimer = null;
                StartNextIfIdle();
                break;
            case SessionIdleSweeper.IdleCheck:
                // Quiet for the idle timeout (the check may have waited behind newer messages, so look again), and no
                // run in flight and nothing queued: a session is never passivated in the middle of a run.
                if (_active is null && PendingCount == 0 && IdleSweeper.NowTicks - _lastActivityTicks >= IdleSweeper.IdleTimeout.Ticks)
                    Context.Parent.Tell(new Passivate(PoisonPill.Instance));
                break;
            case SaveSnapshotSuccess saved:
                DeleteMessages(saved.Metadata.SequenceNr - 1);
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

    private SessionIdleSweeper IdleSweeper => SessionIdleSweeper.For(Context.System, _services.Settings.Gateway.Sessions.IdleTimeout);

    /// <summary>Every message but the sweeper's own check is activity (what a receive timeout counted).</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is not SessionIdleSweeper.IdleCheck) Volatile.Write(ref _lastActivityTicks, IdleSweeper.NowTicks);
        return base.AroundReceive(receive, message);
    }

    protected override void PreStart()
    {
        _self = Self;
        var sweeper = IdleSweeper;
        Volatile.Write(ref _lastActivityTicks, sweeper.NowTicks);
        sweeper.Track(this);
        base.PreStart();
    }

    protected override void PostStop()
    {
        IdleSweeper.Untrack(this);
        _collectTimer?.Cancel();
        _active?.Cancel.Cancel();
        // The reply streams run on the system's materializer, not as this actor's children: end them with it, or a
        // subscriber would wait for a reply that no longer comes.
        var stopped = new SessionRunError(503, "The session stopped before the reply was complete.", "api_error", "session_stopped");
        if (_active is not null) _ = _active.Fanout.CompleteAsync([stopped]);
        if (_pending is not null)
            foreach (var turn in _pending)
                _ = turn.Fanout.CompleteAsync([stopped]);
        base.PostStop();
    }

    private void OnSend(SessionCommands.SendMessage send)
    {
        var replyTo = Sender;
        var parsed = DirectiveParser.Parse(send.Content);
        if (parsed.HasErrors)
        {
            replyTo.Tell(new TurnRejected(_key, 400, string.Join("\n", parsed.Errors.Select(e => e.Message)), "invalid_directive"));
            return;
        }
        var (overrides, inline, replies, newSession, error) = SessionDirectives.Apply(parsed, _state.Overrides, _services, persistent: parsed.IsDirectiveOnly);
        if (error is not null)
        {
            replyTo.Tell(new TurnRejected(_key, error.Value.Status, error.Value.Message, error.Value.Code));
            return;
        }

        if (parsed.IsDirectiveOnly)
        {
            var events = new List<ISessionEvent>();
            if (newSession) events.Add(new SessionEvents.SessionReset(Now));
            if (overrides != _state.Overrides) events.Add(new SessionEvents.OverridesChanged(Now, overrides));
            var reply = string.Join("\n", replies);
            if (events.Count == 0) replyTo.Tell(new DirectivesApplied(_key, reply, View()));
            else PersistAllApply(events, () => replyTo.Tell(new DirectivesApplied(_key, reply, View())));
            return;
        }

        var mode = send.QueueMode ?? inline.Queue ?? _state.Overrides.Queue ?? SessionDirectives.DefaultQueueMode(_services);
        if (_active is not null && PendingCount >= _services.Settings.Gateway.Sessions.QueueCap && !DropForRoom(mode, replyTo))
            return;

        var content = parsed.Text.Trim();
        var before = new List<ISessionEvent>();
        if (newSession) before.Add(new SessionEvents.SessionReset(Now));
        before.Add(new SessionEvents.UserMessageAccepted(Now, content));
        PersistAllApply(before, () =>
        {
            // The message is in the journal: only now is the client acknowledged (its reply stream handed out).
            var fanout = new SessionFanout();
            var turn = new PendingTurn(_state.NextSeq - 1, content, mode, send, fanout, inline);
            var (queue, sourceRef) = Source.Queue<ChatEvent>(SubscriberBuffer, OverflowStrategy.Backpressure)
                .ToMaterialized(StreamRefs.SourceRef<ChatEvent>(), Keep.Both)
                .Run(SessionStreams.For(Context.System));
            fanout.Add(queue);
            var usageMode = SessionDirectives.UsageMode(inline, _state.Overrides, _services);
            var host = Context.Parent;
            sourceRef.PipeTo(replyTo, success: r => new TurnAccepted(_key, turn.Seq, r, usageMode) { Host = host },
                failure: e => new TurnRejected(_key, 500, "Could not open the reply stream: " + e.Message, "stream_error"));

            if (_active is not null && mode == QueueMode.Interrupt)
            {
                Log.Info("Session [{SessionKey}]: interrupting the active run for a newer message", _key);
                _active.Cancel.Cancel();
            }
            Pending.Add(turn);
            if (_active is null)
            {
                if (mode == QueueMode.Collect) StartCollectTimer();
                else StartNextIfIdle();
            }
            else if (mode == QueueMode.Collect) StartCollectTimer();
        });
    }

    /// <summary>(Re)starts the collect debounce: the merged turn runs once no collect message came for the debounce time.</summary>
    private void StartCollectTimer()
    {
        _collectTimer?.Cancel();
        _collectTimer = Context.System.Scheduler.ScheduleTellOnceCancelable(_services.Settings.Gateway.Sessions.QueueDebounce, Self,
            new CollectDue(++_collectGeneration), Self);
    }

    private void CancelCollectTimer()
    {
        if (_collectTimer is null) return;
        _collectTimer.Cancel();
        _collectTimer = null;
        _collectGeneration++;
    }

    /// <summary>Applies the drop policy when the queue is full; false = the new message is rejected.</summary>
    private bool DropForRoom(QueueMode mode, IActorRef replyTo)
    {
        var policy = _services.Settings.Gateway.Sessions.QueueDrop;
        if (policy == "new")
        {
            replyTo.Tell(new TurnRejected(_key, 429, $"The session queue is full ({_services.Settings.Gateway.Sessions.QueueCap} messages waiting).", "queue_full"));
            return false;
        }
        var pending = Pending;
        var oldest = pending[0];
        pending.RemoveAt(0);
        if (policy == "summarize") (_droppedSummaries ??= []).Add(oldest.Content.Length > 200 ? oldest.Content[..200] + "…" : oldest.Content);
        _ = oldest.Fanout.CompleteAsync([new SessionRunError(429, "Dropped from the session queue: too many messages were waiting.", "rate_limit_error", "queue_dropped")]);
        return true;
    }

    private void StartNextIfIdle()
    {
        if (_active is not null || _pending is not { Count: > 0 } pending) return;
        CancelCollectTimer();
        // collect merges every waiting collect-mode message into one turn; other modes run one message per turn.
        var turns = pending[0].Mode == QueueMode.Collect
            ? pending.TakeWhile(p => p.Mode == QueueMode.Collect).ToImmutableArray()
            : [pending[0]];
        pending.RemoveRange(0, turns.Length);
        if (pending.Count == 0) _pending = null; // an idle session keeps no queue
        var fanout = turns.Length == 1 ? turns[0].Fanout : SessionFanout.Merge(turns.Select(t => t.Fanout));
        var run = new ActiveRun(turns, new CancellationTokenSource(), fanout);
        _active = run;

        var plan = SessionDirectives.Plan(turns[^1].View, _state, _services, out var planError);
        if (plan is null)
        {
            Self.Tell(new RunFinished(run, "", null, null, null, null, planError, false));
            return;
        }
        var request = BuildRequest(turns);
        var self = Self;
        var runner = _services.Runner;
        _ = Task.Run(async () =>
        {
            var text = new StringBuilder();
            string? model = null, keyId = null, finish = null;
            TokenUsage? usage = null;
            try
            {
                var result = await runner.StreamAsync(plan, request, run.Cancel.Token).ConfigureAwait(false);
                if (result.Failure is { } f)
                {
                    self.Tell(new RunFinished(run, "", null, null, null, null,
                        new SessionRunError(f.HttpStatus, f.Message, f.Type, f.Code, f.RetryAfter), false));
                    return;
                }
                model = result.Value!.Model.ToString();
                keyId = result.Value.KeyId;
                await run.Fanout.OfferAsync(new RunModel(model)).ConfigureAwait(false);
                await foreach (var e in result.Value.Events.WithCancellation(run.Cancel.Token).ConfigureAwait(false))
                {
                    switch (e)
                    {
                        case TextDelta d:
                            text.Append(d.Text);
                            await run.Fanout.OfferAsync(d).ConfigureAwait(false);
                            break;
                        case Finished fin: finish = fin.Reason; break;   // held back: the usage line goes before it
                        case UsageReport u: usage = u.Usage; break;
                        default: await run.Fanout.OfferAsync(e).ConfigureAwait(false); break;
                    }
                }
                // A cancelled stream may simply end: an interrupt still has to be reported as one.
                run.Cancel.Token.ThrowIfCancellationRequested();
                self.Tell(new RunFinished(run, text.ToString(), model, keyId, usage, finish ?? "stop", null, false));
            }
            catch (OperationCanceledException) when (run.Cancel.IsCancellationRequested)
            {
                self.Tell(new RunFinished(run, text.ToString(), model, keyId, usage, "stop",
                    new SessionRunError(409, "The run was interrupted by a newer message.", "conflict_error", "interrupted"), true));
            }
            catch (UpstreamException e)
            {
                self.Tell(new RunFinished(run, text.ToString(), model, keyId, usage, null,
                    new SessionRunError(502, e.Failure.Message ?? "The upstream stream failed.", "api_error", "upstream_stream_error"), false));
            }
            catch (Exception e)
            {
                self.Tell(new RunFinished(run, text.ToString(), model, keyId, usage, null,
                    new SessionRunError(500, "internal error: " + e.GetType().Name, "api_error", "internal_error"), false));
            }
        });
    }

    private void OnRunFinished(RunFinished done)
    {
        if (!ReferenceEquals(done.Run, _active)) return;
        var events = new List<ISessionEvent>();
        var tail = new List<ChatEvent>();
        if (done.Model is not null && (done.Text.Length > 0 || done.Error is null))
        {
            var cost = done.Usage is { } u && _services.Resolver.Resolve(done.Model) is { Success: true } r ? ModelPricing.Cost(u, r.Model!.Model.Cost) : 0m;
            events.Add(new SessionEvents.AssistantReplied(Now, done.Text, done.Model, done.KeyId, done.Usage, cost) { ReplyTo = done.Run.Turns[^1].Seq });
            var mode = SessionDirectives.UsageMode(done.Run.Turns[^1].Inline, _state.Overrides, _services);
            if (done.Error is null && UsageLine.Format(mode, done.Usage, cost, done.Model) is { } line) tail.Add(new TextDelta("\n\n" + line));
            if (done.Error is null)
            {
                tail.Add(new Finished(done.Finish ?? "stop"));
                if (done.Usage is not null) tail.Add(new UsageReport(done.Usage));
            }
            // The automatic auth pin follows the key that answered (reference item 30); a user pin is never overwritten.
            if (done.KeyId is not null && _state.Overrides.AuthProfileSource != OverrideSource.User && _state.Overrides.AuthProfile != done.KeyId)
                events.Add(new SessionEvents.OverridesChanged(Now, _state.Overrides with
                {
                    AuthProfile = done.KeyId,
                    AuthProfileSource = OverrideSource.Auto,
                    AuthProfileCompactionCount = _state.CompactionCount,
                }));
        }
        if (done.Error is { } error)
        {
            events.Add(new SessionEvents.RunFailed(Now, error.Message, error.Status));
            tail.Add(error);
        }
        PersistAllApply(events, () =>
        {
            // The reply is in the journal before the subscribers see the end of the stream.
            _ = done.Run.Fanout.CompleteAsync(tail);
            _active = null;
            if (_pending is { Count: > 0 } && _pending[0].Mode == QueueMode.Collect) StartCollectTimer();
            else StartNextIfIdle();
        });
    }

    private ChatRequest BuildRequest(ImmutableArray<PendingTurn> turns)
    {
        var last = turns[^1];
        var template = last.Command.Template;
        var pendingSeqs = _pending is { Count: > 0 } ? _pending.Select(p => p.Seq).ToHashSet() : NoSeqs;
        var messages = ImmutableArray.CreateBuilder<ChatMessage>();
        if (template is not null)
            foreach (var m in template.Messages.Where(m => m.Role is "system" or "developer")) messages.Add(m);
        if (last.Command.History is { Count: > 0 } history)
            messages.AddRange(history.Where(m => m.Role is not ("system" or "developer")));
        else
            foreach (var entry in _state.Conversation(pendingSeqs))
                messages.Add(new ChatMessage(entry.Role, entry.Content));
        if (_droppedSummaries is { Count: > 0 })
        {
            messages.Insert(messages.Count - 1, new ChatMessage("user",
                "Earlier queued messages were dropped:\n" + string.Join("\n", _droppedSummaries.Select(s => "• " + s))));
            _droppedSummaries = null;
        }
        var baseRequest = template ?? new ChatRequest { Messages = [] };
        var target = SessionDirectives.TargetModel(last.View, _state, _services);
        return SessionDirectives.WithSettings(baseRequest with { Messages = messages.ToImmutable(), Stream = true, IncludeUsage = true },
            last.Inline, _state.Overrides, _services, target);
    }

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
        else PersistApply(new SessionEvents.OverridesChanged(Now, overrides), () => replyTo.Tell(View()));
    }

    private void PersistApply(ISessionEvent e, Action then) => PersistAllApply([e], then);

    private void PersistAllApply(IReadOnlyList<ISessionEvent> events, Action then)
    {
        if (events.Count == 0)
        {
            then();
            return;
        }
        var remaining = events.Count;
        PersistAll(events, e =>
        {
            _state = _state.Apply(e);
            if (LastSequenceNr % _services.Settings.Gateway.Sessions.SnapshotEvery == 0) SaveSnapshot(new SessionSnapshot(_state));
            if (--remaining == 0) then();
        });
    }

    /// <summary>A journal that rejects an event (e.g. it cannot serialize it) fails the turn loudly instead of leaving the client waiting.</summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        Log.Error(cause, "Session [{SessionKey}] could not journal {EventType} (seq {SequenceNr})", _key, @event.GetType().Name, sequenceNr);
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    private SessionView View() => new(_key, _state.Overrides, _state.Usage, _state.LastModel, _state.Transcript.Count,
        _active is not null, PendingCount, _state.CreatedAt);

    private static readonly IReadOnlySet<long> NoSeqs = new HashSet<long>();
}

/// <summary>
/// The one materializer every session's reply streams run on (an Akka extension, so one per actor system): a materializer
/// per session would cost each idle session a materializer and its supervisor actor.
/// </summary>
internal sealed class SessionStreams : IExtension
{
    private readonly IMaterializer _materializer;

    private SessionStreams(ActorSystem system) => _materializer = system.Materializer(namePrefix: "session");

    public static IMaterializer For(ActorSystem system) => system.WithExtension<SessionStreams, Provider>()._materializer;

    private sealed class Provider : ExtensionIdProvider<SessionStreams>
    {
        public override SessionStreams CreateExtension(ExtendedActorSystem system) => new(system);
    }
}
