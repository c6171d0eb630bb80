using System.Collections.Immutable;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions;

/// <summary>
/// A session's state: transcript, overrides, usage totals and the last model that answered. Pure; the session actor
/// persists events and applies them here.
/// </summary>
internal sealed record SessionState(
    ImmutableList<TranscriptEntry> Transcript,
    SessionOverrides Overrides,
    UsageTotals Usage,
    string? LastModel,
    int CompactionCount,
    long NextSeq,
    DateTimeOffset? CreatedAt)
{
    public static readonly SessionState Empty = new([], SessionOverrides.None, UsageTotals.Zero, null, 0, 1, null) { Archive = TranscriptArchive.Start };

    /// <summary>
    /// Where the entries that are no longer resident are (<see cref="TranscriptWindow"/>): <see cref="Transcript"/> holds the
    /// newest entries (and any pinned ones), not necessarily all of them. Null only in a snapshot taken before the window
    /// existed (its transcript is whole; <see cref="TranscriptWindow.Recovered"/> fills it in).
    /// </summary>
    public TranscriptArchive? Archive { get; init; }

    /// <summary>The summary sent in place of the compacted turns (null until the first compaction, and after a reset).</summary>
    public ContextSummary? Summary { get; init; }

    /// <summary>The tokens of the last answered turn's input, as the gateway counted them.</summary>
    public int? LastInputTokens { get; init; }

    /// <summary>The fallback notice in force (a turn answered by another model than the session's); null when none.</summary>
    public FallbackNotice? Fallback { get; init; }

    public SessionState Apply(ISessionEvent e) => e switch
    {
        // One copy of the state per event (issue 17: the append and the other fields were two).
        SessionEvents.UserMessageAccepted m => this with
        {
            Transcript = Transcript.Add(new TranscriptEntry(NextSeq, "user", m.Content, m.At) { Messages = m.Messages.IsDefault ? [] : m.Messages }),
            NextSeq = NextSeq + 1,
            CreatedAt = CreatedAt ?? m.At,
        },
        SessionEvents.AssistantReplied r => this with
        {
            Transcript = Transcript.Add(new TranscriptEntry(NextSeq, "assistant", r.Content, r.At, SessionInterning.Share(r.Model), r.Usage, r.Cost)
            {
                ReplyTo = r.ReplyTo, Reasoning = r.Reasoning, ReasoningSignature = r.ReasoningSignature, ToolCalls = r.ToolCalls.IsDefault ? [] : r.ToolCalls,
                Aborted = r.Aborted,
            }),
            NextSeq = NextSeq + 1,
            LastModel = SessionInterning.Share(r.Model),
            Usage = r.Usage is { } u ? Usage.Add(u, r.Cost) : Usage,
            LastInputTokens = r.InputTokens ?? LastInputTokens,
        },
        SessionEvents.Compacted c => this with
        {
            Summary = new ContextSummary(ContextSummary.Header + c.Summary, c.KeepFromSeq),
            CompactionCount = CompactionCount + 1,
            Usage = c.Usage is { } cu ? Usage.Add(cu, c.Cost) : Usage,
        },
        SessionEvents.RunFailed f => Append(new TranscriptEntry(NextSeq, "error", f.Error, f.At)),
        SessionEvents.OverridesChanged o => this with { Overrides = SessionInterning.Share(o.Overrides) },
        SessionEvents.FallbackNoticed f => this with { Fallback = new FallbackNotice(f.Selected, f.Active, f.Reason, f.At) },
        SessionEvents.FallbackCleared => this with { Fallback = null },
        SessionEvents.SessionReset r => this with
        {
            Transcript = [],
            // The journal position of the new transcript is set by the session (TranscriptWindow.Journaled).
            Archive = (Archive ?? TranscriptArchive.Start) with { FirstSeq = NextSeq, Pinned = 0, Trimmed = 0 },
            // /new and /reset keep user pins and the usage display mode, and drop auto pins (reference items 30, 31, 78).
            Overrides = SessionInterning.Share(Overrides with
            {
                AuthProfile = Overrides.AuthProfileSource == OverrideSource.User ? Overrides.AuthProfile : null,
                AuthProfileSource = Overrides.AuthProfileSource == OverrideSource.User ? OverrideSource.User : null,
                AuthProfileCompactionCount = null,
            }),
            CompactionCount = 0,
            Summary = null,
            LastInputTokens = null,
            Fallback = null, // /new and /reset clear the notice state (reference item 60)
        },
        _ => this,
    };

    /// <summary>
    /// The conversation in answer order: each reply right after the user message it answered (messages queued during a run
    /// were journaled before that run's reply). Pending (not yet run) user messages are left out, and so are their replies,
    /// replies to messages no longer in the transcript, and error entries.
    /// </summary>
    public IEnumerable<TranscriptEntry> Conversation(IReadOnlySet<long> pending) => Ordered(pending, keepFrom: 0);

    /// <summary>
    /// The conversation as it is sent upstream: <see cref="Conversation"/> without the turns a compaction summarised (the
    /// entries before the user message <see cref="ContextSummary.KeepFromSeq"/>), whose <see cref="Summary"/> goes instead.
    /// </summary>
    public IEnumerable<TranscriptEntry> SentConversation(IReadOnlySet<long> pending) => SentEntries(pending);

    /// <summary><see cref="SentConversation"/> as an array: what a run's request is built from and its tokens counted over.</summary>
    public ImmutableArray<TranscriptEntry> SentEntries(IReadOnlySet<long> pending) => Ordered(pending, Summary?.KeepFromSeq ?? 0);

    /// <summary>
    /// One walk of the transcript per turn, with no lookup and no iterator (issue 17: with a lookup of the whole transcript
    /// and nested iterators, ordering the conversation was about 10 % of a long session's turn in a profile). Most transcripts have every reply right after its
    /// message (or after an earlier reply to it): those are taken in place. A reply that is not (a message queued during a
    /// run sits between the run's message and its reply) is set aside by the message it answers and placed after that
    /// message's replies in place. From <paramref name="keepFrom"/> on (a user message's seq; 0 = all), entries are kept.
    /// </summary>
    private ImmutableArray<TranscriptEntry> Ordered(IReadOnlySet<long> pending, long keepFrom)
    {
        var inPlace = ImmutableArray.CreateBuilder<TranscriptEntry>(Transcript.Count);
        Dictionary<long, List<TranscriptEntry>>? displaced = null;
        long lastUser = -1;
        foreach (var e in Transcript)
        {
            if (e.Role == "user")
            {
                lastUser = pending.Contains(e.Seq) ? -1 : e.Seq;
                if (lastUser != -1) inPlace.Add(e);
            }
            else if (e.Role == "assistant")
            {
                if (e.ReplyTo is not { } to)
                {
                    lastUser = -1; // a reply after it would no longer be next to its message
                    inPlace.Add(e);
                }
                else if (to == lastUser) inPlace.Add(e);
                else
                {
                    displaced ??= [];
                    if (!displaced.TryGetValue(to, out var replies)) displaced[to] = replies = [];
                    replies.Add(e);
                }
            }
            // error entries are never sent, and the answer order keeps a reply after its message across them
        }
        if (displaced is null && keepFrom == 0)
            return inPlace.Count == inPlace.Capacity ? inPlace.MoveToImmutable() : inPlace.ToImmutable();
        var ordered = ImmutableArray.CreateBuilder<TranscriptEntry>(inPlace.Count + (displaced?.Values.Sum(r => r.Count) ?? 0));
        var keeping = keepFrom == 0;
        List<TranscriptEntry>? late = null; // the displaced replies of the message whose replies are being taken
        foreach (var e in inPlace)
        {
            // A message's replies in place end at the next user message or at an assistant entry that answers none.
            var ends = e.Role == "user" || e.ReplyTo is null;
            if (ends && late is not null)
            {
                if (keeping) ordered.AddRange(late);
                late = null;
            }
            keeping |= e.Role == "user" && e.Seq >= keepFrom;
            if (keeping) ordered.Add(e);
            if (e.Role == "user") displaced?.TryGetValue(e.Seq, out late);
        }
        if (late is not null && keeping) ordered.AddRange(late);
        return ordered.Count == ordered.Capacity ? ordered.MoveToImmutable() : ordered.ToImmutable();
    }

    private SessionState Append(TranscriptEntry entry) => this with { Transcript = Transcript.Add(entry), NextSeq = NextSeq + 1 };
}

/// <summary>
/// What a compaction left in place of the turns it summarised: the system message sent instead of them (<see cref="Header"/>
/// and the summary), and the user message the conversation sent resumes at.
/// </summary>
internal sealed record ContextSummary(string Text, long KeepFromSeq)
{
    /// <summary>The first line of the summary's message, telling the model what it is reading.</summary>
    public const string Header = "Summary of the earlier conversation (older turns were compacted to fit the model's context):\n\n";

    /// <summary>The summary without <see cref="Header"/> (what the next compaction folds in).</summary>
    public string BodyText() => Text.StartsWith(Header, StringComparison.Ordinal) ? Text[Header.Length..] : Text;
}
