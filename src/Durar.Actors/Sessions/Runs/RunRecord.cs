using Durar.Actors.Chat;

namespace Durar.Actors.Sessions.Runs;

/// <summary>Where a run is. Only the ended states and <see cref="Queued"/> are journaled; <see cref="Running"/> is the session's live view.</summary>
internal enum RunStatus { Queued, Running, Done, Failed, Aborted }

/// <summary>
/// What a session remembers of one run (one accepted turn): when it was accepted, the transcript entry of its user message
/// and of its reply, the <c>Idempotency-Key</c> it came with, and how it ended. Built from the journal only
/// (<see cref="SessionRunLedger.Apply"/>), so it says the same after a restart or on another node.
/// </summary>
/// <param name="Seq">The transcript sequence number of the run's user message.</param>
internal sealed record RunRecord(string RunId, long Seq, DateTimeOffset AcceptedAt)
{
    /// <summary><see cref="RunStatus.Queued"/> until the journal holds its end.</summary>
    public RunStatus Status { get; init; }

    public string? IdempotencyKey { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>The model that answered, its usage and cost, and the finish reason (done or aborted with a partial reply).</summary>
    public string? Model { get; init; }
    public TokenUsage? Usage { get; init; }
    public decimal? Cost { get; init; }
    public string? Finish { get; init; }

    /// <summary>The transcript sequence number of the reply (the partial one for an abort).</summary>
    public long? ReplySeq { get; init; }

    /// <summary>Why it failed or was aborted: HTTP status, code and message as the client got them.</summary>
    public int? ErrorStatus { get; init; }
    public string? ErrorCode { get; init; }
    public string? ErrorMessage { get; init; }

    /// <summary>True once the journal holds how it ended.</summary>
    public bool Ended => Status is RunStatus.Done or RunStatus.Failed or RunStatus.Aborted;
}
