using System.Collections.Immutable;
using System.Text;
using Durar.Actors.Chat;

namespace Durar.Actors.Sessions.Context;

/// <summary>What a compaction summarises and keeps: the entries before <see cref="Cut"/> (and any earlier summary) go into the summary.</summary>
/// <param name="Cut">Index in <see cref="TurnPrompt.Entries"/> of the first entry kept (a user message).</param>
/// <param name="SummaryCap">The most tokens the summary may take.</param>
internal sealed record CompactionCut(int Cut, int SummaryCap)
{
    /// <summary>The transcript seq the conversation sent resumes at.</summary>
    public long KeepFromSeq(TurnPrompt prompt) => prompt.Entries[Cut].Seq;
}

/// <summary>
/// The pure rules of compaction (issue 18; OpenClaw's session compaction): which older turns to summarise so a turn fits its
/// budget, the requests that ask a model for the summary (in pieces that each fit the summarising model), and the turn's
/// request with the summary in place of those turns. The session's transcript is never touched: only what is sent changes.
/// </summary>
/// <remarks>
/// What is kept: the most recent turns that fit in half of what the budget leaves after the fixed messages and the summary,
/// so the next turns have room before the next compaction; never less than the turn being answered. The cut always falls
/// on a user message, so the conversation sent still starts a turn after the summary.
/// </remarks>
internal static class Compactor
{
    /// <summary>The system prompt of a summary request (tests recognise summary requests by it).</summary>
    public const string Instruction =
        "You compact a conversation so that it can go on within a limited context. Write a concise summary of the " +
        "conversation below, folding in the summary so far if one is given: keep every fact, name, number, decision, " +
        "preference and open question a continuation would need; drop pleasantries and repetition. Reply with the summary only.";

    /// <summary>Tokens kept free in a summary request for its own framing and instruction beyond what is counted.</summary>
    private const int RequestSlack = 32;

    /// <summary>
    /// Where to cut <paramref name="prompt"/> so its input fits <paramref name="target"/> tokens, keeping the run's own messages
    /// (from <paramref name="runFirstSeq"/>); null when nothing can be summarised or the kept turn alone cannot fit.
    /// </summary>
    public static CompactionCut? Plan(TurnPrompt prompt, long target, long runFirstSeq)
    {
        var entries = prompt.Entries;
        if (entries.IsEmpty) return null;
        var summaryCap = (int)Math.Clamp(target / 5, 16, 4096);
        var summaryFrame = TokenCounter.PerMessage + prompt.Budget.Counter.Count(ContextSummary.Header);
        var available = target - prompt.FixedTokens - summaryCap - summaryFrame;
        if (available <= 0) return null;

        // The latest cut allowed: the run's first user message (what the turn answers is never summarised).
        var mustKeep = -1;
        for (var i = 0; i < entries.Length && mustKeep < 0; i++)
            if (entries[i].Role == "user" && entries[i].Seq >= runFirstSeq) mustKeep = i;
        if (mustKeep < 0)
            for (mustKeep = entries.Length - 1; mustKeep > 0 && entries[mustKeep].Role != "user"; mustKeep--) { }

        var counter = prompt.Budget.Counter;
        long kept = 0;
        for (var i = entries.Length - 1; i >= mustKeep; i--) kept += entries[i].Tokens(counter);
        if (kept > available) return null;
        var cut = mustKeep;
        var keepTarget = available / 2;
        long suffix = kept;
        for (var i = mustKeep - 1; i >= 0; i--)
        {
            suffix += entries[i].Tokens(counter);
            if (suffix > keepTarget) break;
            if (entries[i].Role == "user") cut = i;
        }
        return cut == 0 && prompt.SummaryBody is null ? null : new CompactionCut(cut, summaryCap);
    }

    /// <summary>
    /// The text the summary requests carry, split so that each piece with the summary so far fits <paramref name="budget"/>
    /// (the summarising model's) while leaving <paramref name="summaryCap"/> tokens for its answer. An entry too large
    /// for any piece is cut short and marked so.
    /// </summary>
    public static List<string> Pieces(IEnumerable<TranscriptEntry> entries, ContextBudget budget, int summaryCap)
    {
        var counter = budget.Counter;
        var room = budget.Input - TokenCounter.PerRequest - 2 * TokenCounter.PerMessage - counter.Count(Instruction) - RequestSlack
            - 2 * (long)summaryCap; // the summary so far, and the answer's share of a model whose output cap is small
        room = Math.Max(room, 64);
        var pieces = new List<string>();
        var piece = new StringBuilder();
        long used = 0;
        foreach (var e in entries)
        {
            var line = e.Role + ": " + e.Content + "\n\n";
            var n = counter.Count(line);
            if (n > room)
            {
                line = Shorten(line, n, room, counter);
                n = counter.Count(line);
            }
            if (used + n > room && piece.Length > 0)
            {
                pieces.Add(piece.ToString());
                piece.Clear();
                used = 0;
            }
            piece.Append(line);
            used += n;
        }
        if (piece.Length > 0) pieces.Add(piece.ToString());
        return pieces;
    }

    /// <summary>
    /// <paramref name="piece"/> in two halves, split at the message boundary nearest its middle (else at the middle), for a
    /// summarising model that refused it as too long; null when it is too short to split.
    /// </summary>
    public static (string First, string Second)? Halve(string piece)
    {
        if (piece.Length < 2) return null;
        var middle = piece.Length / 2;
        var before = piece.LastIndexOf("\n\n", middle, StringComparison.Ordinal);
        var after = piece.IndexOf("\n\n", middle, StringComparison.Ordinal);
        var split = (before, after) switch
        {
            ( > 0, _) when after < 0 || middle - before <= after - middle => before + 2,
            (_, > 0) when after + 2 < piece.Length => after + 2,
            _ => char.IsLowSurrogate(piece[middle]) ? middle - 1 : middle,
        };
        return split <= 0 || split >= piece.Length ? null : (piece[..split], piece[split..]);
    }

    /// <summary>The request that folds <paramref name="piece"/> into <paramref name="summarySoFar"/>.</summary>
    public static ChatRequest SummaryRequest(string? summarySoFar, string piece, int summaryCap) => new()
    {
        Messages =
        [
            new ChatMessage("system", Instruction),
            new ChatMessage("user", (summarySoFar is null ? "" : "Summary so far:\n" + summarySoFar + "\n\n") + "Conversation to summarise:\n\n" + piece),
        ],
        MaxTokens = summaryCap,
        Stream = false,
    };

    /// <summary>
    /// <paramref name="prompt"/>'s request with the entries before <paramref name="cut"/> and any earlier summary replaced by
    /// <paramref name="summary"/> (shortened when it would not let the input fit <paramref name="target"/>).
    /// </summary>
    public static TurnPrompt Apply(TurnPrompt prompt, CompactionCut cut, string summary, long target)
    {
        var counter = prompt.Budget.Counter;
        var keptTokens = 0L;
        for (var i = 0; i < prompt.EntryOf.Length; i++)
            if (prompt.EntryOf[i] >= cut.Cut) keptTokens += prompt.MessageTokens[i];
        var room = target - prompt.FixedTokens - keptTokens - TokenCounter.PerMessage - counter.Count(ContextSummary.Header);
        var n = counter.Count(summary);
        if (n > room) summary = Shorten(summary, n, Math.Max(room, 1), counter);
        var text = ContextSummary.Header + summary;

        var messages = ImmutableArray.CreateBuilder<ChatMessage>(prompt.Request.Messages.Length);
        var placed = false;
        for (var i = 0; i < prompt.Request.Messages.Length; i++)
        {
            var of = prompt.EntryOf[i];
            if (of == TurnPrompt.Other)
            {
                messages.Add(prompt.Request.Messages[i]);
                continue;
            }
            if (!placed)
            {
                messages.Add(new ChatMessage("system", text));
                placed = true;
            }
            if (of >= cut.Cut) messages.Add(prompt.Request.Messages[i]);
        }
        var kept = prompt.Entries[cut.Cut..];
        return TurnPrompt.Measure(prompt.Request with { Messages = messages.ToImmutable() }, prompt.Budget, kept, text, summary);
    }

    /// <summary><paramref name="text"/> (<paramref name="tokens"/> tokens) cut to about <paramref name="room"/> tokens, marked as cut.</summary>
    private static string Shorten(string text, long tokens, long room, TokenCounter counter)
    {
        const string mark = " […]";
        var keep = text.Length;
        for (var attempt = 0; attempt < 8 && keep > 0; attempt++)
        {
            keep = (int)Math.Max(0, Math.Min(keep - 1, (long)keep * (room - 2) / Math.Max(tokens, 1) * 9 / 10));
            if (keep > 0 && char.IsHighSurrogate(text[keep - 1])) keep--; // never half a character
            var cut = text[..keep] + mark;
            tokens = counter.Count(cut);
            if (tokens <= room) return cut;
        }
        return mark.Trim();
    }
}
