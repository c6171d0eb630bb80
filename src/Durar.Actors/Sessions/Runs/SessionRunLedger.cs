using System.Collections.Immutable;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions.Runs;

/// <summary>
/// A session's recent runs, pure: folded from the journaled events that carry run ids (a user message starts a run, a
/// reply, failure or drop ends it), bounded to <c>gateway.sessions.runs.keep</c> entries (the oldest ended runs are
/// forgotten first). It answers run status and finds the run of an <c>Idempotency-Key</c>. It lives beside
/// <see cref="SessionState"/> rather than inside it so the run bookkeeping stays one small type with its own specs;
/// the session actor applies every event to both and snapshots both.
/// </summary>
internal sealed record SessionRunLedger(ImmutableList<RunRecord> Runs)
{
    public static readonly SessionRunLedger Empty = new(ImmutableList<RunRecord>.Empty);

    /// <summary>
    /// Applies <paramref name="e"/>, whose transcript entry (if it makes one) gets the sequence number
    /// <paramref name="entrySeq"/>; at most <paramref name="keep"/> runs are kept.
    /// </summary>
    public SessionRunLedger Apply(ISessionEvent e, long entrySeq, int keep) => e switch
    {
        SessionEvents.UserMessageAccepted { RunId: { } id } m =>
            Add(new RunRecord(id, entrySeq, m.At) { IdempotencyKey = m.IdempotencyKey }, keep),
        SessionEvents.AssistantReplied { RunIds: { IsDefaultOrEmpty: false } ids } r => Update(ids, run => run with
        {
            Status = r.Aborted ? RunStatus.Aborted : RunStatus.Done,
            EndedAt = r.At,
            Model = r.Model,
            Usage = r.Usage,
            Cost = r.Cost,
            Finish = r.Finish,
            ReplySeq = entrySeq,
            ErrorStatus = r.Aborted ? AbortedStatus : null,
            ErrorCode = r.Aborted ? AbortedCode : null,
            ErrorMessage = r.Aborted ? AbortedMessage : null,
        }),
        SessionEvents.RunFailed { RunIds: { IsDefaultOrEmpty: false } ids } f => Update(ids, run => run with
        {
            Status = f.Code is AbortedCode or InterruptedCode ? RunStatus.Aborted : RunStatus.Failed,
            EndedAt = f.At,
            ErrorStatus = f.Status,
            ErrorCode = f.Code,
            ErrorMessage = f.Error,
        }),
        SessionEvents.RunsDropped d => Update(d.RunIds, run => run with
        {
            Status = d.Code == AbortedCode ? RunStatus.Aborted : RunStatus.Failed,
            EndedAt = d.At,
            ErrorStatus = d.Status,
            ErrorCode = d.Code,
            ErrorMessage = d.Error,
        }),
        _ => this,
    };

    /// <summary>The run <paramref name="runId"/>, or null when the session never had it or forgot it.</summary>
    public RunRecord? Find(string runId)
    {
        for (var i = Runs.Count - 1; i >= 0; i--)
            if (Runs[i].RunId == runId) return Runs[i];
        return null;
    }

    /// <summary>The newest run accepted with <paramref name="idempotencyKey"/> after <paramref name="notBefore"/>, or null.</summary>
    public RunRecord? FindByIdempotencyKey(string idempotencyKey, DateTimeOffset notBefore)
    {
        for (var i = Runs.Count - 1; i >= 0; i--)
        {
            var run = Runs[i];
            if (run.AcceptedAt <= notBefore) return null; // accepted in order: everything older is expired too
            if (run.IdempotencyKey == idempotencyKey) return run;
        }
        return null;
    }

    /// <summary>The error code of a run stopped by an abort.</summary>
    public const string AbortedCode = "aborted";

    /// <summary>The error code of a run ended by a newer message in <c>interrupt</c> mode (an abort too, for its status).</summary>
    public const string InterruptedCode = "interrupted";

    /// <summary>The HTTP status and message a client of an aborted run gets.</summary>
    public const int AbortedStatus = 409;
    public const string AbortedMessage = "The run was aborted.";

    private SessionRunLedger Add(RunRecord run, int keep)
    {
        var runs = Runs;
        while (runs.Count >= keep)
        {
            var oldestEnded = runs.FindIndex(r => r.Ended);
            runs = runs.RemoveAt(oldestEnded >= 0 ? oldestEnded : 0);
        }
        return new SessionRunLedger(runs.Add(run));
    }

    private SessionRunLedger Update(IEnumerable<string> runIds, Func<RunRecord, RunRecord> change)
    {
        var runs = Runs;
        foreach (var id in runIds)
        {
            var index = runs.FindLastIndex(r => r.RunId == id);
            if (index >= 0) runs = runs.SetItem(index, change(runs[index]));
        }
        return ReferenceEquals(runs, Runs) ? this : new SessionRunLedger(runs);
    }
}
