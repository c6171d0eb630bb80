using System.Collections.Immutable;

namespace Durar.Actors.Sessions;

/// <summary>A message waiting in a session's queue, as the queue rules see it.</summary>
internal interface IQueuedTurn
{
    QueueMode Mode { get; }

    string Content { get; }
}

/// <summary>What the queue decides for a message that arrives, before the message is journaled.</summary>
internal enum QueueAdmission
{
    /// <summary>There is room (or no run is active): the message is journaled and queued.</summary>
    Accept,

    /// <summary>The queue is full and the policy is <see cref="QueueDropPolicy.New"/>: the message is rejected (429).</summary>
    RejectFull,

    /// <summary>The queue is full: the oldest waiting message is dropped (<see cref="SessionQueue{T}.DropOldest"/>) to make room.</summary>
    DropOldest,
}

/// <summary>What the session does after its queue changed.</summary>
internal enum QueueStep
{
    /// <summary>Nothing now: a run is active, or nothing is waiting.</summary>
    Wait,

    /// <summary>(Re)start the collect debounce: the merged turn runs once no collect message came for the debounce time.</summary>
    Debounce,

    /// <summary>Start the next run if none is active (<see cref="SessionQueue{T}.TakeNext"/>).</summary>
    RunNext,
}

/// <summary>
/// The queue rules of a session (reference items 81–82) as pure state: which messages wait behind the active run, in
/// order, and the summaries of dropped ones for the next turn. Decide (<see cref="Admit"/>, <see cref="AfterRun"/>)
/// and apply (<see cref="Enqueue"/>, <see cref="DropOldest"/>, <see cref="TakeNext"/>, <see cref="TakeDroppedSummaries"/>)
/// return new values; the session actor holds the current one and performs the steps (timers, runs, cancellation).
/// </summary>
/// <remarks>
/// An idle session holds <see cref="Empty"/>, one shared instance: every operation that leaves nothing waiting and no
/// summary returns it, so a quiet session keeps no queue of its own (bench/RESULTS.md counts bytes per idle session).
/// </remarks>
internal sealed class SessionQueue<T> where T : class, IQueuedTurn
{
    /// <summary>Longest text a dropped message contributes to the summary the next turn carries.</summary>
    public const int SummaryLength = 200;

    /// <summary>Nothing waiting, nothing dropped.</summary>
    public static readonly SessionQueue<T> Empty = new([], []);

    private SessionQueue(ImmutableList<T> waiting, ImmutableList<string> droppedSummaries)
    {
        Waiting = waiting;
        DroppedSummaries = droppedSummaries;
    }

    /// <summary>The messages behind the active run (or its debounce), oldest first.</summary>
    public ImmutableList<T> Waiting { get; }

    /// <summary>Beginnings of messages dropped under <see cref="QueueDropPolicy.Summarize"/>, for the next turn.</summary>
    public ImmutableList<string> DroppedSummaries { get; }

    /// <summary>Whether a message arriving now may be queued: the cap applies only while a run is active.</summary>
    public QueueAdmission Admit(bool running, int cap, QueueDropPolicy policy) =>
        !running || Waiting.Count < cap ? QueueAdmission.Accept
        : policy == QueueDropPolicy.New ? QueueAdmission.RejectFull
        : QueueAdmission.DropOldest;

    /// <summary>Removes the oldest waiting message (remembering its beginning under <see cref="QueueDropPolicy.Summarize"/>).</summary>
    public SessionQueue<T> DropOldest(QueueDropPolicy policy, out T dropped)
    {
        dropped = Waiting[0];
        var summaries = policy == QueueDropPolicy.Summarize
            ? DroppedSummaries.Add(dropped.Content.Length > SummaryLength ? dropped.Content[..SummaryLength] + "…" : dropped.Content)
            : DroppedSummaries;
        return Of(Waiting.RemoveAt(0), summaries);
    }

    /// <summary>
    /// Queues a journaled message. An <see cref="QueueMode.Interrupt"/> message ends the active run; a
    /// <see cref="QueueMode.Collect"/> one (re)starts the debounce; any other runs at once when no run is active.
    /// </summary>
    public (SessionQueue<T> Queue, QueueStep Step, bool InterruptActive) Enqueue(T turn, bool running)
    {
        var step = turn.Mode == QueueMode.Collect ? QueueStep.Debounce : running ? QueueStep.Wait : QueueStep.RunNext;
        return (Of(Waiting.Add(turn), DroppedSummaries), step, running && turn.Mode == QueueMode.Interrupt);
    }

    /// <summary>
    /// The turns of the next run, removed from the queue: every leading <see cref="QueueMode.Collect"/> message merged into
    /// one turn, otherwise the oldest message alone. Empty when nothing waits.
    /// </summary>
    public (SessionQueue<T> Queue, ImmutableArray<T> Turns) TakeNext()
    {
        if (Waiting.IsEmpty) return (this, []);
        var turns = Waiting[0].Mode == QueueMode.Collect
            ? Waiting.TakeWhile(p => p.Mode == QueueMode.Collect).ToImmutableArray()
            : [Waiting[0]];
        return (Of(Waiting.RemoveRange(0, turns.Length), DroppedSummaries), turns);
    }

    /// <summary>Removes every waiting message <paramref name="match"/> selects (an abort), keeping the order of the others.</summary>
    public SessionQueue<T> Remove(Func<T, bool> match, out ImmutableList<T> removed)
    {
        removed = Waiting.Where(match).ToImmutableList();
        return removed.IsEmpty ? this : Of(Waiting.RemoveAll(t => match(t)), DroppedSummaries);
    }

    /// <summary>What follows the end of a run: the debounce when collect messages lead the queue, else the next run.</summary>
    public QueueStep AfterRun() =>
        Waiting.IsEmpty ? QueueStep.Wait : Waiting[0].Mode == QueueMode.Collect ? QueueStep.Debounce : QueueStep.RunNext;

    /// <summary>The summaries of dropped messages, handed to the next turn once (the queue forgets them).</summary>
    public (SessionQueue<T> Queue, ImmutableList<string> Summaries) TakeDroppedSummaries() =>
        DroppedSummaries.IsEmpty ? (this, DroppedSummaries) : (Of(Waiting, []), DroppedSummaries);

    private static SessionQueue<T> Of(ImmutableList<T> waiting, ImmutableList<string> summaries) =>
        waiting.IsEmpty && summaries.IsEmpty ? Empty : new SessionQueue<T>(waiting, summaries);
}
