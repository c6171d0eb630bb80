using System.Collections.Immutable;
using Durar.Actors.Configuration;
using Durar.Actors.Sessions.Context;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions;

/// <summary>
/// Where the part of a session's transcript that is not resident lives: in the journal, from <see cref="FromEvent"/> on.
/// The whole transcript (since the last <c>/new</c> or <c>/reset</c>) is, by index: the <see cref="Pinned"/> first resident
/// entries, then the <see cref="Trimmed"/> entries the journal's events from <see cref="FromEvent"/> rebuild first, then the
/// rest of the resident entries.
/// </summary>
/// <param name="FromEvent">The journal sequence number the transcript's events start at: 1, the event after the last reset,
/// or the event after a snapshot written before the window existed (whose earlier events were deleted).</param>
/// <param name="FirstSeq">The transcript seq in force at <see cref="FromEvent"/> (the session's next seq there).</param>
/// <param name="Pinned">Leading resident entries the journal no longer holds (taken from such an older snapshot): they stay
/// resident until the next reset.</param>
/// <param name="Trimmed">Entries after the pinned ones that left memory and snapshots: the journal from <see cref="FromEvent"/> has them.</param>
internal sealed record TranscriptArchive(long FromEvent, long FirstSeq, int Pinned, int Trimmed)
{
    /// <summary>A session whose whole journal is its transcript's.</summary>
    public static readonly TranscriptArchive Start = new(1, 1, 0, 0);
}

/// <summary>
/// The bound on what a session keeps resident (issue 13, <c>gateway.sessions.transcript.keepResident</c>): which entries
/// leave memory and the snapshot, how the journal position of the transcript follows resets, and how a page of the
/// transcript splits into what is resident and what must be read from the journal. Pure.
/// </summary>
/// <remarks>
/// What stays resident is whatever the next turn builds its prompt from (<see cref="SessionState.SentConversation"/>): the
/// entries from the latest compaction summary's first kept user message (with no summary, the newest entries up to
/// <see cref="SessionTranscriptSettings.KeepTokens"/>), the running and queued turns, the last user message, and at least
/// the newest <see cref="SessionTranscriptSettings.KeepEntries"/>. The cut falls on a user message, and never between a
/// user message and the reply to it, so the conversation sent is the same as if nothing had been trimmed.
/// </remarks>
internal static class TranscriptWindow
{
    /// <summary>The archive of a state recovered from a snapshot taken at <paramref name="snapshotSeq"/> (one without an archive predates it: its entries are pinned).</summary>
    public static SessionState Recovered(SessionState state, long snapshotSeq) =>
        state.Archive is not null ? state : state with { Archive = new TranscriptArchive(snapshotSeq + 1, state.NextSeq, state.Transcript.Count, 0) };

    /// <summary>
    /// <paramref name="state"/> after <paramref name="e"/>, journaled at <paramref name="journalSeq"/>, was applied: a reset
    /// starts the transcript's events after it (nothing before it is part of the transcript any more).
    /// </summary>
    public static SessionState Journaled(SessionState state, ISessionEvent e, long journalSeq) =>
        e is SessionEvents.SessionReset ? state with { Archive = new TranscriptArchive(journalSeq + 1, state.NextSeq, 0, 0) } : state;

    /// <summary>
    /// Whether <paramref name="seq"/> falls among the trimmed entries (after the pinned ones, before the first resident one
    /// after them). A seq there is an entry of the transcript, though not necessarily a user message.
    /// </summary>
    public static bool IsTrimmed(SessionState state, long seq)
    {
        if (state.Archive is not { Trimmed: > 0 } archive) return false;
        var afterPinned = archive.Pinned > 0 ? state.Transcript[archive.Pinned - 1].Seq + 1 : archive.FirstSeq;
        var firstResident = archive.Pinned < state.Transcript.Count ? state.Transcript[archive.Pinned].Seq : state.NextSeq;
        return seq >= afterPinned && seq < firstResident;
    }

    /// <summary>The number of transcript entries since the last reset, resident or not.</summary>
    public static int Total(SessionState state) => (state.Archive?.Trimmed ?? 0) + state.Transcript.Count;

    /// <summary>
    /// <paramref name="state"/> with the entries it need not keep resident trimmed (<see cref="TranscriptWindow"/>'s rule);
    /// the same instance when nothing is trimmed. Entries from <paramref name="protectFromSeq"/> on (the running and queued
    /// turns) always stay.
    /// </summary>
    public static SessionState Trim(SessionState state, SessionTranscriptSettings settings, long protectFromSeq)
    {
        var t = state.Transcript;
        var archive = state.Archive ?? TranscriptArchive.Start;
        var pinned = archive.Pinned;
        if (t.Count - pinned <= settings.KeepEntries) return state;
        // Pinned entries are sent with what follows them when there is no summary: trimming between them would leave a gap.
        if (pinned > 0 && state.Summary is null) return state;

        var keep = t.Count - settings.KeepEntries;
        if (state.Summary is null)
        {
            long tokens = 0;
            for (var i = t.Count - 1; i >= pinned; i--)
            {
                tokens += EstimatedTokens(t[i]);
                if (tokens > settings.KeepTokens) break;
                keep = Math.Min(keep, i);
            }
        }
        var mustFromSeq = Math.Min(protectFromSeq, state.Summary?.KeepFromSeq ?? long.MaxValue);
        var lastUser = t.FindLast(e => e.Role == "user");
        if (lastUser is not null) mustFromSeq = Math.Min(mustFromSeq, lastUser.Seq);
        while (keep > pinned && t[keep - 1].Seq >= mustFromSeq) keep--;

        // On a user message, with every resident reply's user message resident too (queued turns are answered later).
        while (true)
        {
            while (keep > pinned && t[keep].Role != "user") keep--;
            if (keep <= pinned) return state;
            var firstSeq = t[keep].Seq;
            long earliestAnswered = long.MaxValue;
            for (var i = keep; i < t.Count; i++)
                if (t[i] is { Role: "assistant", ReplyTo: { } to } && to < firstSeq) earliestAnswered = Math.Min(earliestAnswered, to);
            if (earliestAnswered == long.MaxValue) break;
            while (keep > pinned && t[keep - 1].Seq >= earliestAnswered) keep--;
            if (keep <= pinned) return state;
        }

        var trimmed = keep - pinned;
        var resident = pinned == 0 ? t.RemoveRange(0, trimmed) : t.RemoveRange(pinned, trimmed);
        return state with { Transcript = resident, Archive = archive with { Trimmed = archive.Trimmed + trimmed } };
    }

    /// <summary>The tokens of an entry as the estimate counts them (not cached: the entry's cache is its model's counter's).</summary>
    private static long EstimatedTokens(TranscriptEntry e)
    {
        if (!e.Messages.IsDefaultOrEmpty) return e.Messages.Sum(TokenCounter.Estimate.Count);
        long n = TokenCounter.PerMessage + TokenCounter.Estimate.Count(e.Content) + TokenCounter.Estimate.Count(e.Reasoning);
        if (!e.ToolCalls.IsDefaultOrEmpty)
            foreach (var call in e.ToolCalls)
                n += TokenCounter.Estimate.Count(call.Name) + TokenCounter.Estimate.Count(call.Arguments);
        return n;
    }

    /// <summary>
    /// A page of the transcript from what is resident, or null when it reaches into the trimmed entries
    /// (<see cref="Split"/> then says what to read from the journal).
    /// </summary>
    public static TranscriptPage? ResidentPage(SessionState state, string key, int offset, int limit)
    {
        var (from, to) = Range(state, offset, limit);
        var archive = state.Archive ?? TranscriptArchive.Start;
        if (archive.Trimmed > 0 && from < archive.Pinned + archive.Trimmed && to > archive.Pinned) return null;
        return new TranscriptPage(key, from, Total(state), [.. Resident(state, from, to)]);
    }

    /// <summary>A page that reaches into the trimmed entries: the resident entries before and after them, and which trimmed ones to read.</summary>
    public static ArchivedRead Split(SessionState state, string key, int offset, int limit)
    {
        var (from, to) = Range(state, offset, limit);
        var archive = state.Archive ?? TranscriptArchive.Start;
        var trimmedFrom = archive.Pinned;
        var trimmedTo = archive.Pinned + archive.Trimmed;
        return new ArchivedRead(key, from, Total(state), archive.FromEvent, archive.FirstSeq,
            Math.Max(from, trimmedFrom) - trimmedFrom, Math.Min(to, trimmedTo) - trimmedFrom,
            [.. Resident(state, from, Math.Min(to, trimmedFrom))], [.. Resident(state, Math.Max(from, trimmedTo), to)]);
    }

    private static (int From, int To) Range(SessionState state, int offset, int limit)
    {
        var total = Total(state);
        var from = Math.Max(0, offset);
        return (from, (int)Math.Min(total, (long)from + Math.Clamp(limit, 1, 500)));
    }

    /// <summary>The resident entries among the transcript indexes [<paramref name="from"/>, <paramref name="to"/>).</summary>
    private static IEnumerable<TranscriptEntry> Resident(SessionState state, int from, int to)
    {
        var archive = state.Archive ?? TranscriptArchive.Start;
        for (var i = from; i < to; i++)
        {
            if (i < archive.Pinned) yield return state.Transcript[i];
            else if (i >= archive.Pinned + archive.Trimmed) yield return state.Transcript[i - archive.Trimmed];
        }
    }

    /// <summary>
    /// Folds session events (journaled from <see cref="ArchivedRead.FromEvent"/> on, in order) into the trimmed entries a
    /// read asks for: the same <see cref="SessionState.Apply"/> that built them the first time, so they come back identical.
    /// </summary>
    public sealed class Fold(ArchivedRead read)
    {
        private SessionState _state = SessionState.Empty with { NextSeq = read.FirstSeq };
        private int _index;
        private readonly ImmutableArray<TranscriptEntry>.Builder _found = ImmutableArray.CreateBuilder<TranscriptEntry>();

        /// <summary>Whether every asked entry was found (later events are not needed).</summary>
        public bool Done => _index >= read.ArchivedTo;

        public void Add(ISessionEvent e)
        {
            if (Done) return;
            _state = _state.Apply(e);
            foreach (var entry in _state.Transcript)
            {
                if (_index >= read.ArchivedFrom && _index < read.ArchivedTo) _found.Add(entry);
                _index++;
            }
            // Only the new entries matter: the rest of the state is rebuilt for the entries' seqs alone.
            if (!_state.Transcript.IsEmpty) _state = _state with { Transcript = [] };
        }

        /// <summary>The page: the resident entries before, the entries found, the resident entries after.</summary>
        public TranscriptPage Page() => new(read.Key, read.Offset, read.Total, [.. read.Before, .. _found, .. read.After]);
    }
}

/// <summary>A page read that needs trimmed entries: the indexes [<see cref="ArchivedFrom"/>, <see cref="ArchivedTo"/>) of those rebuilt from the journal.</summary>
internal sealed record ArchivedRead(string Key, int Offset, int Total, long FromEvent, long FirstSeq, int ArchivedFrom, int ArchivedTo,
    ImmutableArray<TranscriptEntry> Before, ImmutableArray<TranscriptEntry> After);
