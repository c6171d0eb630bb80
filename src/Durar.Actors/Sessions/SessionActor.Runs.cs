using System.Collections.Immutable;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using Durar.Actors.Chat;
using Durar.Actors.Sessions.Messages;
using Durar.Actors.Sessions.Runs;

namespace Durar.Actors.Sessions;

/// <summary>
/// The runs of a session (issue 18): every accepted turn is a run with an id journaled with its user message; its status
/// is read and waited for (<see cref="SessionCommands.GetRun"/>), it can be aborted (<see cref="SessionCommands.AbortRun"/>),
/// and a repeated <c>Idempotency-Key</c> gets the first run's answer instead of a second run. The bookkeeping is the pure
/// <see cref="SessionRunLedger"/> and the actor-owned <see cref="RunWatchers"/>; this part of the actor only routes to them,
/// so the turn protocol in <c>SessionActor.cs</c> changes in a few marked lines.
/// </summary>
internal sealed partial class SessionActor
{
    private SessionRunLedger _runs = SessionRunLedger.Empty;
    private RunWatchers? _watchers;

    /// <summary>The error code of a run whose session stopped (restart, node move) before the run ended.</summary>
    internal const string RunLost = "run_lost";

    /// <summary>A new run id: <c>run_</c> and 24 random hex digits (unique without coordination, safe in a URL and a header).</summary>
    internal static string NewRunId() => "run_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>Applies a journaled event to the runs, before <see cref="SessionState.Apply"/> numbers its transcript entry.</summary>
    private void ApplyToRuns(ISessionEvent e) => _runs = _runs.Apply(e, _state.NextSeq, _services.Settings.Gateway.SessionRuns.Keep);

    private void OnRunCommand(object message)
    {
        switch (message)
        {
            case SessionCommands.GetRun get:
                OnGetRun(get);
                break;
            case SessionCommands.AbortRun abort:
                OnAbort(abort);
                break;
            case RunWatchers.WaitOver over when _watchers?.Expire(over) is var (runId, replyTo):
                replyTo.Tell(_runs.Find(runId) is { } run ? ViewOf(run) : NoSuchRun(runId));
                break;
        }
    }

    private void OnGetRun(SessionCommands.GetRun get)
    {
        if (_runs.Find(get.RunId) is not { } run)
        {
            Sender.Tell(NoSuchRun(get.RunId));
            return;
        }
        var view = ViewOf(run);
        if (get.Wait <= TimeSpan.Zero || view.EndedAt is not null || view.Status == "failed") Sender.Tell(view);
        else (_watchers ??= new RunWatchers()).Wait(get.RunId, Sender, get.Wait, Context.System.Scheduler, Self);
    }

    private TurnRejected NoSuchRun(string runId) => new(_key, 404, $"No run \"{runId}\" in session \"{_key}\".", "run_not_found");

    /// <summary>
    /// Aborts the active run (all of it, or when it answers <see cref="SessionCommands.AbortRun.RunId"/>) and drops the
    /// queued runs named or, with <c>clearQueued</c>, all of them; the drops are journaled before the answer.
    /// </summary>
    private void OnAbort(SessionCommands.AbortRun abort)
    {
        var replyTo = Sender;
        if (abort.RunId is { } only && _runs.Find(only) is null)
        {
            replyTo.Tell(NoSuchRun(only));
            return;
        }
        var ended = ImmutableArray.CreateBuilder<string>();
        if (_active is { } active && (abort.RunId is null || active.RunIds.Contains(abort.RunId)) && !active.Cancel.IsCancellationRequested)
        {
            Log.Info("Session [{SessionKey}]: aborting run {RunIds}", _key, string.Join(",", active.RunIds));
            active.Abort();
            ended.AddRange(active.RunIds);
        }
        _queue = _queue.Remove(t => abort.ClearQueued || t.RunId == abort.RunId, out var dropped);
        if (dropped.IsEmpty)
        {
            replyTo.Tell(new AbortResult(_key, ended.Count > 0, ended.ToImmutable()));
            return;
        }
        var droppedIds = dropped.Select(t => t.RunId).ToImmutableArray();
        var error = new SessionRunError(SessionRunLedger.AbortedStatus, "The run was aborted before it started.", "conflict_error", SessionRunLedger.AbortedCode);
        foreach (var turn in dropped) _ = turn.Fanout.CompleteAsync([error]);
        ended.AddRange(droppedIds);
        PersistAllApply([new SessionEvents.RunsDropped(Now, droppedIds, error.Status, error.Code, error.Message)], () =>
        {
            RunsEnded(droppedIds);
            replyTo.Tell(new AbortResult(_key, true, ended.ToImmutable()));
        }, Refuse(replyTo));
    }

    /// <summary>
    /// The Responses API's cancel, by user message: the same abort as <see cref="SessionCommands.AbortRun"/> for the run
    /// answering <see cref="SessionCommands.CancelTurn.Seq"/> (partial reply kept marked aborted, the run ends as
    /// <c>aborted</c>), answered at once; a turn that is not running (ended, queued, unknown) is left alone.
    /// </summary>
    private void OnCancelTurn(SessionCommands.CancelTurn cancel)
    {
        var running = _active is { } active && active.Turns.Any(t => t.Seq == cancel.Seq) && !active.Cancel.IsCancellationRequested;
        if (running)
        {
            Log.Info("Session [{SessionKey}]: cancelling run {RunIds} (message {Seq})", _key, string.Join(",", _active!.RunIds), cancel.Seq);
            _active.Abort();
        }
        Sender.Tell(new TurnCancelled(_key, cancel.Seq, running));
    }

    /// <summary>
    /// A turn that repeats an <c>Idempotency-Key</c> seen within the TTL: answered with the first run (its reply replayed
    /// from the journal, or attached until the run ends) and never run again. False when the key is new (or absent).
    /// </summary>
    private bool TryAttach(SessionCommands.SendMessage send, IActorRef replyTo)
    {
        if (send.IdempotencyKey is not { } key) return false;
        var runs = _services.Settings.Gateway.SessionRuns;
        if (_runs.FindByIdempotencyKey(key, Now - runs.IdempotencyTtl) is not { } run) return false;
        var view = ViewOf(run);
        if (view.ErrorCode == RunLost)
        {
            replyTo.Tell(new TurnRejected(_key, 503, view.ErrorMessage!, RunLost));
            return true;
        }
        var hosting = _services.Settings.Gateway.SessionHosting;
        var reply = new SessionFanout(hosting.ReplyStallTimeout);
        var host = Context.Parent;
        var usageMode = SessionDirectives.UsageMode(SessionOverrides.None, _state.Overrides, _services);
        SessionStreams.HandOut(Context.System, hosting.ReplyBuffer, reply, replyTo,
            r => new TurnAccepted(_key, run.Seq, r, usageMode) { Host = host, RunId = run.RunId }, StreamFailed);
        if (run.Ended) _ = reply.CompleteAsync(Replay(run));
        else (_watchers ??= new RunWatchers()).Attach(run.RunId, reply);
        return true;
    }

    /// <summary>The answer when a remote reader's reply stream could not be opened.</summary>
    private object StreamFailed(Exception e) => new TurnRejected(_key, 500, "Could not open the reply stream: " + e.Message, "stream_error");

    /// <summary>The events a turn is journaled with: its run id and idempotency key, after the drop of <paramref name="droppedRunId"/>.</summary>
    private IReadOnlyList<ISessionEvent> WithRun(IReadOnlyList<ISessionEvent> events, string runId, string? idempotencyKey, string? droppedRunId)
    {
        var withRun = new List<ISessionEvent>(events.Count + 1);
        if (droppedRunId is { Length: > 0 })
            withRun.Add(new SessionEvents.RunsDropped(Now, [droppedRunId], 429, "queue_dropped", "Dropped from the session queue: too many messages were waiting."));
        foreach (var e in events)
            withRun.Add(e is SessionEvents.UserMessageAccepted m ? m with { RunId = runId, IdempotencyKey = idempotencyKey } : e);
        return withRun;
    }

    /// <summary>The runs' end is journaled: whoever waits for them is answered.</summary>
    private void RunsEnded(IEnumerable<string> runIds)
    {
        if (_watchers is null) return;
        foreach (var id in runIds)
            if (_runs.Find(id) is { } run) _watchers.Ended(id, ViewOf(run), () => Replay(run));
        if (_watchers.IsEmpty) _watchers = null;
    }

    private IReadOnlyList<ChatEvent> Replay(RunRecord run)
    {
        var reply = run.ReplySeq is { } seq ? _state.Transcript.FindLast(e => e.Seq == seq) : null;
        return RunReplay.Events(run, reply, SessionDirectives.UsageMode(SessionOverrides.None, _state.Overrides, _services));
    }

    /// <summary>The run as the API shows it: <c>running</c> while it is the active run, a lost one (not ended, neither active nor queued) as failed.</summary>
    private RunView ViewOf(RunRecord run)
    {
        if (run.Ended)
            return new RunView(_key, run.RunId, run.Status.ToString().ToLowerInvariant(), run.AcceptedAt, run.EndedAt, run.Model, run.Usage,
                run.ErrorStatus, run.ErrorCode, run.ErrorMessage);
        if (_active is { } active && active.RunIds.Contains(run.RunId))
            return new RunView(_key, run.RunId, "running", run.AcceptedAt, null, null, null, null, null, null);
        if (_queue.Waiting.Any(t => t.RunId == run.RunId))
            return new RunView(_key, run.RunId, "queued", run.AcceptedAt, null, null, null, null, null, null);
        return new RunView(_key, run.RunId, "failed", run.AcceptedAt, null, null, null, 503,
            RunLost, "The session stopped before this run ended (a restart or a move to another node); send the message again.");
    }
}
