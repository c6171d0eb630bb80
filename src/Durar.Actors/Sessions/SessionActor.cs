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

namespace Durar.Actors.Sessions;

/// <summary>
/// One conversation with a stable key: a persistent Cluster Sharding entity. It runs one turn at a time; messages that
/// arrive during a run follow the queue mode (followup, collect, interrupt; capped). A user message is journaled before it
/// is acknowledged; the reply streams to every subscriber through Akka.Streams SourceRefs (so any node's HTTP endpoint can
/// consume it) and is journaled when the run ends, whether or not a client is still listening.
/// </summary>
public sealed class SessionActor : ReceivePersistentActor, IWithTimers
{
    private const string CollectTimer = "collect-debounce";
    private const int SubscriberBuffer = 256;

    private readonly string _key;
    private readonly SessionServices _services;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IMaterializer _materializer;
    private SessionState _state = SessionState.Empty;
    private ActiveRun? _active;
    private readonly List<PendingTurn> _pending = [];
    private readonly List<string> _droppedSummaries = [];

    public ITimerScheduler Timers { get; set; } = null!;
    public override string PersistenceId { get; }

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

    private sealed class CollectDue : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        public static readonly CollectDue Instance = new();
        private CollectDue() { }
    }

    public SessionActor(string key, SessionServices services)
    {
        _key = key;
        _services = services;
        PersistenceId = "session-" + key;
        _materializer = Context.Materializer();
        Recover<ISessionEvent>(e => _state = _state.Apply(e));
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is SessionSnapshot s) _state = s.State;
        });

        Command<SessionCommands.SendMessage>(OnSend);
        Command<SessionCommands.GetSession>(_ => Sender.Tell(View()));
        Command<SessionCommands.GetMessages>(q =>
        {
            var offset = Math.Max(0, q.Offset);
            var limit = Math.Clamp(q.Limit, 1, 500);
            Sender.Tell(new TranscriptPage(_key, offset, _state.Transcript.Count, [.. _state.Transcript.Skip(offset).Take(limit)]));
        });
        Command<SessionCommands.PatchSession>(OnPatch);
        Command<SessionCommands.ResetSession>(_ =>
        {
            var replyTo = Sender;
            PersistApply(new SessionEvents.SessionReset(Now), () => replyTo.Tell(View()));
        });
        Command<SessionCommands.DeleteSession>(_ =>
        {
            _active?.Cancel.Cancel();
            DeleteMessages(LastSequenceNr);
            DeleteSnapshots(SnapshotSelectionCriteria.Latest);
            _state = SessionState.Empty;
            Sender.Tell(new SessionDeleted(_key));
            Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        });
        Command<RunFinished>(OnRunFinished);
        Command<CollectDue>(_ => StartNextIfIdle());
        Command<ReceiveTimeout>(_ =>
        {
            if (_active is null && _pending.Count == 0) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        });
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr - 1));
        Command<SaveSnapshotFailure>(f => _log.Warning("Session [{SessionKey}] snapshot failed: {Error}", _key, f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("Session [{SessionKey}] could not delete events: {Error}", _key, f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
    }

    public static Props Props(string key, SessionServices services) => Akka.Actor.Props.Create(() => new SessionActor(key, services));

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    protected override void PreStart()
    {
        Context.SetReceiveTimeout(_services.Settings.Gateway.Sessions.IdleTimeout);
        base.PreStart();
    }

    protected override void PostStop()
    {
        _active?.Cancel.Cancel();
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
        if (_active is not null && _pending.Count >= _services.Settings.Gateway.Sessions.QueueCap && !DropForRoom(mode, replyTo))
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
                .Run(_materializer);
            fanout.Add(queue);
            var usageMode = SessionDirectives.UsageMode(inline, _state.Overrides, _services);
            sourceRef.PipeTo(replyTo, success: r => new TurnAccepted(_key, turn.Seq, r, usageMode),
                failure: e => new TurnRejected(_key, 500, "Could not open the reply stream: " + e.Message, "stream_error"));

            if (_active is not null && mode == QueueMode.Interrupt)
            {
                _log.Info("Session [{SessionKey}]: interrupting the active run for a newer message", _key);
                _active.Cancel.Cancel();
            }
            _pending.Add(turn);
            if (_active is null)
            {
                if (mode == QueueMode.Collect) Timers.StartSingleTimer(CollectTimer, CollectDue.Instance, _services.Settings.Gateway.Sessions.QueueDebounce);
                else StartNextIfIdle();
            }
            else if (mode == QueueMode.Collect) Timers.StartSingleTimer(CollectTimer, CollectDue.Instance, _services.Settings.Gateway.Sessions.QueueDebounce);
        });
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
        var oldest = _pending[0];
        _pending.RemoveAt(0);
        if (policy == "summarize") _droppedSummaries.Add(oldest.Content.Length > 200 ? oldest.Content[..200] + "…" : oldest.Content);
        _ = oldest.Fanout.CompleteAsync([new SessionRunError(429, "Dropped from the session queue: too many messages were waiting.", "rate_limit_error", "queue_dropped")]);
        return true;
    }

    private void StartNextIfIdle()
    {
        if (_active is not null || _pending.Count == 0) return;
        Timers.Cancel(CollectTimer);
        // collect merges every waiting collect-mode message into one turn; other modes run one message per turn.
        var turns = _pending[0].Mode == QueueMode.Collect
            ? _pending.TakeWhile(p => p.Mode == QueueMode.Collect).ToImmutableArray()
            : [_pending[0]];
        _pending.RemoveRange(0, turns.Length);
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
            var cost = done.Usage is { } u && _services.Resolver.Resolve(done.Model) is { Success: true } r ? UsageLine.Cost(u, r.Model!.Model.Cost) : 0m;
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
            if (_pending.Count > 0 && _pending[0].Mode == QueueMode.Collect)
                Timers.StartSingleTimer(CollectTimer, CollectDue.Instance, _services.Settings.Gateway.Sessions.QueueDebounce);
            else StartNextIfIdle();
        });
    }

    private ChatRequest BuildRequest(ImmutableArray<PendingTurn> turns)
    {
        var last = turns[^1];
        var template = last.Command.Template;
        var pendingSeqs = _pending.Select(p => p.Seq).ToHashSet();
        var messages = ImmutableArray.CreateBuilder<ChatMessage>();
        if (template is not null)
            foreach (var m in template.Messages.Where(m => m.Role is "system" or "developer")) messages.Add(m);
        if (last.Command.History is { Count: > 0 } history)
            messages.AddRange(history.Where(m => m.Role is not ("system" or "developer")));
        else
            foreach (var entry in _state.Conversation(pendingSeqs))
                messages.Add(new ChatMessage(entry.Role, entry.Content));
        if (_droppedSummaries.Count > 0)
        {
            messages.Insert(messages.Count - 1, new ChatMessage("user",
                "Earlier queued messages were dropped:\n" + string.Join("\n", _droppedSummaries.Select(s => "• " + s))));
            _droppedSummaries.Clear();
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
        _log.Error(cause, "Session [{SessionKey}] could not journal {EventType} (seq {SequenceNr})", _key, @event.GetType().Name, sequenceNr);
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    private SessionView View() => new(_key, _state.Overrides, _state.Usage, _state.LastModel, _state.Transcript.Count,
        _active is not null, _pending.Count, _state.CreatedAt);
}
