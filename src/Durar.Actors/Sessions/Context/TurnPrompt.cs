using System.Collections.Immutable;
using Durar.Actors.Chat;

namespace Durar.Actors.Sessions.Context;

/// <summary>
/// A turn's request as the budget sees it: every message's tokens, which messages are transcript entries (counted once
/// and cached with the entry, <see cref="TranscriptEntry.Tokens"/>) and which one is the compaction summary, and the total.
/// It exists so the decision to compact, and what to keep, is made over numbers already known, without counting the whole
/// history again each turn.
/// </summary>
internal sealed class TurnPrompt
{
    /// <summary>Marks a message that is not a transcript entry (a system prompt, a note about dropped messages).</summary>
    public const int Other = -1;

    /// <summary>Marks the message that carries the compaction summary.</summary>
    public const int SummaryMessage = -2;

    private TurnPrompt(ChatRequest request, ContextBudget budget, ImmutableArray<TranscriptEntry> entries, int[] entryOf, int[] tokens,
        string? summaryBody)
    {
        Request = request;
        Budget = budget;
        Entries = entries;
        EntryOf = entryOf;
        MessageTokens = tokens;
        SummaryBody = summaryBody;
        Total = TokenCounter.PerRequest;
        foreach (var t in tokens) Total += t;
    }

    public ChatRequest Request { get; }

    public ContextBudget Budget { get; }

    /// <summary>The transcript entries sent, in the order they are sent.</summary>
    public ImmutableArray<TranscriptEntry> Entries { get; }

    /// <summary>Per message of <see cref="Request"/>: the index of its entry in <see cref="Entries"/>, <see cref="Other"/> or <see cref="SummaryMessage"/>.</summary>
    public int[] EntryOf { get; }

    /// <summary>Per message of <see cref="Request"/>: its tokens.</summary>
    public int[] MessageTokens { get; }

    /// <summary>The summary the request carries, without its header (null when it carries none).</summary>
    public string? SummaryBody { get; }

    /// <summary>The tokens of the whole input.</summary>
    public int Total { get; }

    public bool Fits => Total <= Budget.Input;

    /// <summary>The tokens of the messages that stay whatever is compacted (system prompts, notes), with the request's framing.</summary>
    public int FixedTokens
    {
        get
        {
            var n = TokenCounter.PerRequest;
            for (var i = 0; i < EntryOf.Length; i++)
                if (EntryOf[i] == Other) n += MessageTokens[i];
            return n;
        }
    }

    /// <summary>
    /// Measures <paramref name="request"/>, built by <see cref="SessionTurns.BuildRequest"/> from <paramref name="state"/>: the
    /// messages made from transcript entries are found by reference (their text is the entry's own string), so a client
    /// that sent its own history simply has no entries.
    /// </summary>
    public static TurnPrompt Prepare(ChatRequest request, ContextBudget budget, SessionState state, IReadOnlySet<long> waiting) =>
        Prepare(request, budget, state, state.SentEntries(waiting));

    /// <summary>
    /// <see cref="Prepare(ChatRequest, ContextBudget, SessionState, IReadOnlySet{long})"/> over the conversation the request
    /// was built from (<paramref name="sent"/>, <see cref="SessionState.SentEntries"/>), so a turn walks its transcript once.
    /// </summary>
    public static TurnPrompt Prepare(ChatRequest request, ContextBudget budget, SessionState state, ImmutableArray<TranscriptEntry> sent) =>
        Measure(request, budget, sent, state.Summary?.Text, state.Summary?.BodyText());

    /// <summary>Measures <paramref name="request"/> whose history messages come from <paramref name="entries"/>, in order.</summary>
    public static TurnPrompt Measure(ChatRequest request, ContextBudget budget, ImmutableArray<TranscriptEntry> entries, string? summaryText,
        string? summaryBody)
    {
        var messages = request.Messages;
        var entryOf = new int[messages.Length];
        var tokens = new int[messages.Length];
        var next = 0;
        var counter = budget.Counter;
        var carriesSummary = false;
        for (var i = 0; i < messages.Length; i++)
        {
            var m = messages[i];
            if (next > 0 && Carries(entries[next - 1], m))
            {
                entryOf[i] = next - 1; // a later message of an entry made of several (its tokens are counted with its first)
                tokens[i] = 0;
            }
            else if (next < entries.Length && IsFrom(m, entries[next]))
            {
                entryOf[i] = next;
                tokens[i] = entries[next].Tokens(counter);
                next++;
            }
            else
            {
                var isSummary = summaryText is not null && ReferenceEquals(m.Text, summaryText);
                carriesSummary |= isSummary;
                entryOf[i] = isSummary ? SummaryMessage : Other;
                tokens[i] = counter.Count(m);
            }
        }
        // Entries the request did not carry (a client that sent its own history) are not part of this prompt.
        return new TurnPrompt(request, budget, next == entries.Length ? entries : entries[..next], entryOf, tokens,
            carriesSummary ? summaryBody : null);
    }

    /// <summary>
    /// Whether <paramref name="m"/> was made from <paramref name="entry"/>: its own text, its tool calls (a reply of tool
    /// calls only has no text), or one of the messages a turn carried (a Responses API turn's input items).
    /// </summary>
    private static bool IsFrom(ChatMessage m, TranscriptEntry entry) =>
        !entry.Messages.IsDefaultOrEmpty
            ? Carries(entry, m)
            : m.Role == entry.Role && (ReferenceEquals(m.Text, entry.Content)
                || m.Text is null && !entry.ToolCalls.IsDefaultOrEmpty && m.ToolCalls == entry.ToolCalls);

    private static bool Carries(TranscriptEntry entry, ChatMessage m)
    {
        if (entry.Messages.IsDefaultOrEmpty) return false;
        foreach (var own in entry.Messages)
            if (ReferenceEquals(own, m)) return true;
        return false;
    }
}
