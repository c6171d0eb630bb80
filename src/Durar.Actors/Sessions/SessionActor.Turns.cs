using System.Collections.Frozen;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Durar.Actors.Routing;
using Durar.Actors.Sessions.Context;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions;

/// <summary>
/// A turn's way through the session: accepted (the queue's cap, the journal, then the acknowledgement with the reply
/// stream), its run started (early, while its message is journaled, when it would start at once; or when the session is
/// idle), and its outcome journaled before the reply ends. The dispatch that calls these stays in <c>SessionActor.cs</c>.
/// </summary>
internal sealed partial class SessionActor
{
    /// <summary>A run started while its turn's user message is being journaled (<see cref="StartEarly"/>); null otherwise.</summary>
    private SessionRun? _early;

    /// <summary>Queues a turn: the queue's cap first, then the journal, then the acknowledgement with the reply stream.</summary>
    private void Accept(SessionCommands.SendMessage send, SendDecision.Turn decided, IActorRef replyTo)
    {
        var inline = decided.Inline;
        var mode = send.QueueMode ?? inline.Queue ?? _state.Overrides.Queue ?? SessionDirectives.DefaultQueueMode(_services);
        var cap = SessionDirectives.QueueCap(_state.Overrides, _services);
        var drop = SessionDirectives.DropPolicy(_state.Overrides, _services);
        var runId = NewRunId();
        string? droppedRunId = null;
        switch (_queue.Admit(_active is not null, cap, drop))
        {
            case QueueAdmission.RejectFull:
                replyTo.Tell(new TurnRejected(_key, 429, $"The session queue is full ({cap} messages waiting).", "queue_full"));
                return;
            case QueueAdmission.DropOldest:
                _queue = _queue.DropOldest(drop, out var dropped);
                droppedRunId = dropped.RunId;
                _ = dropped.Fanout.CompleteAsync([new SessionRunError(429, "Dropped from the session queue: too many messages were waiting.",
                    "rate_limit_error", "queue_dropped")]);
                break;
        }

        var events = WithRun(decided.Events, runId, send.IdempotencyKey, droppedRunId);
        var hosting = _services.Settings.Gateway.SessionHosting;
        _early = droppedRunId is null ? StartEarly(events, seq => new PendingTurn(seq, decided.Content, mode, send,
            SessionFanout.Held(hosting.ReplyStallTimeout), inline) { RunId = runId }) : null;
        PersistAllApply(events, () =>
        {
            if (droppedRunId is not null) RunsEnded([droppedRunId]);
            // The message is in the journal: only now is the client acknowledged (its reply stream handed out).
            var turn = _early?.Turns[0] is { } started && started.Seq == _state.NextSeq - 1 ? started
                : new PendingTurn(_state.NextSeq - 1, decided.Content, mode, send, new SessionFanout(hosting.ReplyStallTimeout), inline) { RunId = runId };
            var fanout = turn.Fanout;
            var usageMode = SessionDirectives.UsageMode(inline, _state.Overrides, _services);
            var host = Context.Parent;
            SessionStreams.HandOut(Context.System, hosting.ReplyBuffer, fanout, replyTo,
                r => new TurnAccepted(_key, turn.Seq, r, usageMode) { Host = host, RunId = runId }, StreamFailed);

            var (next, step, interrupt) = _queue.Enqueue(turn, _active is not null);
            _queue = next;
            if (interrupt)
            {
                Log.Info("Session [{SessionKey}]: interrupting the active run for a newer message", _key);
                _active!.Cancel.Cancel();
            }
            Follow(step);
        }, cause =>
        {
            DiscardEarly();
            Refuse(replyTo)(cause);
        });
    }

    /// <summary>
    /// The run of a turn that will start as soon as its user message is journaled (the session is idle, nothing waits, the
    /// queue mode runs it at once), started now, while the message is being written: the journal write and the upstream
    /// call overlap instead of adding up (issue 17: a turn's first write was ~0.3 ms of a 1.1 ms turn at c=1; against a
    /// real model it hides behind the time to first token). Nothing of the run reaches anyone before the write: its
    /// fanout is <see cref="SessionFanout.Held"/> until <see cref="StartNextIfIdle"/> adopts it, after the acknowledgement.
    /// Commands wait while the write is in flight (Akka stashes them), so the state the run was built from is the state the
    /// write leaves; a rejected or failed write cancels the run (its upstream call may have been made; it is not charged,
    /// nothing of it is journaled, and no client saw it). Null when the turn would not start at once.
    /// </summary>
    private SessionRun? StartEarly(IReadOnlyList<ISessionEvent> events, Func<long, PendingTurn> turnAt)
    {
        if (_active is not null || !_queue.Waiting.IsEmpty || !_queue.DroppedSummaries.IsEmpty) return null;
        var state = _state;
        foreach (var e in events) state = state.Apply(e);
        var turn = turnAt(state.NextSeq - 1);
        if (_queue.Enqueue(turn, running: false).Step != QueueStep.RunNext) return null;
        var plan = SessionDirectives.Plan(turn.View, state, _services, out _);
        if (plan is null) return null; // not started: the turn's own start reports why
        var run = new SessionRun([turn], turn.Fanout) { Noticed = state.Fallback, WholeAnswer = WholeAnswer([turn]) };
        Launch(run, plan, state, []);
        return run;
    }

    /// <summary>Cancels a run started early whose turn will not be run by it (the write failed, or was not the one expected).</summary>
    private void DiscardEarly()
    {
        if (_early is not { } early) return;
        _early = null;
        early.Cancel.Cancel();
        early.Fanout.Release(); // no subscriber was added: what it still offers is dropped
    }

    /// <summary>
    /// A run asks its upstream for a whole answer when every turn's client reads one (<see cref="SessionCommands.SendMessage.WholeAnswer"/>)
    /// and nobody watches the session live: nothing would read its deltas as they come.
    /// </summary>
    private bool WholeAnswer(ImmutableArray<PendingTurn> turns) =>
        _events is not { HasWatchers: true } && turns.All(static t => t.Command.WholeAnswer);

    private void Follow(QueueStep step)
    {
        if (step == QueueStep.Debounce) _debounce.Restart(Context.System.Scheduler, SessionDirectives.QueueDebounce(_state.Overrides, _services), Self);
        else if (step == QueueStep.RunNext) StartNextIfIdle();
    }

    private void StartNextIfIdle()
    {
        if (_active is not null || _queue.Waiting.IsEmpty) return;
        _debounce.Cancel();
        (_queue, var turns) = _queue.TakeNext();
        if (_early is { } early && turns.Length == 1 && ReferenceEquals(turns[0], early.Turns[0]))
        {
            // Started while its message was being journaled (StartEarly): adopted, and let through to its reader now.
            _early = null;
            _active = early;
            WatchRun(early);
            early.Fanout.Release();
            return;
        }
        DiscardEarly();
        var fanout = turns.Length == 1 ? turns[0].Fanout : SessionFanout.Merge([.. turns.Select(t => t.Fanout)]);
        var run = new SessionRun(turns, fanout) { Noticed = _state.Fallback, WholeAnswer = WholeAnswer(turns) };
        _active = run;
        WatchRun(run);

        var plan = SessionDirectives.Plan(turns[^1].View, _state, _services, out var planError);
        if (plan is null)
        {
            Self.Tell(run.NotPlanned(planError));
            return;
        }
        (_queue, var dropped) = _queue.TakeDroppedSummaries();
        Launch(run, plan, _state, dropped);
    }

    /// <summary>Builds the run's request from <paramref name="state"/> and starts it off the actor's thread; its outcome comes back to this actor.</summary>
    private void Launch(SessionRun run, RunPlan plan, SessionState state, ImmutableList<string> dropped)
    {
        // The conversation sent is walked once per run: the request is built from it and its tokens are counted over it.
        var sent = state.SentEntries(_queue.Waiting.IsEmpty ? (IReadOnlySet<long>)FrozenSet<long>.Empty : _queue.Waiting.Select(p => p.Seq).ToHashSet());
        var request = SessionTurns.BuildRequest(run.Turns, sent, dropped, state, _services, Now);
        try
        {
            var routed = ImageRouting.Route(plan, request, _services.Resolver); // a turn with images, on a model that reads none
            run.ImageRouted = !ReferenceEquals(routed, plan);
            plan = routed;
        }
        catch (PlanException e)
        {
            Self.Tell(run.NotPlanned(new SessionRunError(e.Status, e.Message, "invalid_request_error", e.Code)));
            return;
        }
        var services = _services;
        // Off the actor's thread: counting the input, compacting, and the runner's first steps (lease, connect) must not
        // hold the session's mailbox.
        Task.Run(() => SessionCompaction.ExecuteAsync(run, services, plan, request, state, sent)).PipeTo(Self);
    }

    private void OnRunFinished(SessionRun.Outcome done)
    {
        if (!ReferenceEquals(done.Run, _active)) return;
        // Spent upstream whether or not it is journaled, and whoever still reads the reply: charged once per run.
        if (SessionTurns.Charge(_key, done, _services) is { } charge) _services.ClientTokens.Tell(charge);
        var (events, tail) = SessionTurns.Conclude(done, _state, _services, Now);
        PersistAllApply(events, () =>
        {
            _active = null;
            RunsEnded(done.Run.RunIds);
            RunUnwatched(); // SessionActor.Events.cs
            // The reply is in the journal before the subscribers see the end of the stream, and the session is idle (unless
            // a turn waits) before they do: the client's next request may need this session's place on a full node.
            PublishEvictable();
            _ = done.Run.Fanout.CompleteAsync(tail);
            Follow(_queue.AfterRun());
        }, cause =>
        {
            // The reply could not be journaled: the subscribers learn it (no run stays active, passivation is not
            // blocked), nothing of it was applied, so the session goes on from what its journal holds.
            _active = null;
            RunsEnded(done.Run.RunIds);
            RunUnwatched(); // SessionActor.Events.cs
            PublishEvictable();
            _ = done.Run.Fanout.CompleteAsync([new SessionRunError(503, "The reply could not be saved to the session's journal: " + cause.Message,
                "api_error", JournalRejected)]);
            Follow(_queue.AfterRun());
        });
    }
}
