using System.Collections.Immutable;
using CsCheck;
using Durar.Actors.Sessions;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// <see cref="SessionState.Conversation"/> in one walk of the transcript, without a lookup or an iterator per turn (issue 17),
/// orders every transcript the way the lookup did: each reply right after the message it answered, pending messages left
/// out, error entries never sent. Properties over random transcripts (queued messages between a message and its reply,
/// replies to trimmed or pending messages, replies without a message, errors), against the first definition kept here,
/// and the same for what a run sends after a compaction (<see cref="SessionState.SentEntries"/>: from the kept message on).
/// </summary>
public sealed class ConversationOrderSpecs
{
    private static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch;

    /// <summary>The definition before issue 17's change: a lookup of every reply by its message.</summary>
    private static IEnumerable<TranscriptEntry> Reference(ImmutableList<TranscriptEntry> transcript, IReadOnlySet<long> pending)
    {
        var replies = transcript.Where(e => e.Role == "assistant" && e.ReplyTo is not null).ToLookup(e => e.ReplyTo!.Value);
        foreach (var e in transcript)
        {
            if (e.Role == "user")
            {
                if (pending.Contains(e.Seq)) continue;
                yield return e;
                foreach (var reply in replies[e.Seq]) yield return reply;
            }
            else if (e.Role == "assistant" && e.ReplyTo is null) yield return e;
        }
    }

    // An entry: 0 user, 1 reply to a recent message (or a missing one), 2 assistant without a message, 3 error.
    private static readonly Gen<(ImmutableList<TranscriptEntry> Transcript, HashSet<long> Pending)> Transcripts =
        Gen.Select(Gen.Int[0, 3].Array[0, 40], Gen.Int[0, 4].Array[40], Gen.Bool.Array[40], (kinds, back, pend) =>
        {
            var entries = ImmutableList.CreateBuilder<TranscriptEntry>();
            var users = new List<long>();
            var pending = new HashSet<long>();
            for (var i = 0; i < kinds.Length; i++)
            {
                var seq = i + 1L;
                switch (kinds[i])
                {
                    case 0:
                        entries.Add(new TranscriptEntry(seq, "user", "u" + seq, At));
                        users.Add(seq);
                        if (pend[i] && back[i] == 0) pending.Add(seq);
                        break;
                    case 1:
                        var to = back[i] < users.Count ? users[^(back[i] + 1)] : 1000 + seq; // a message further back, or one trimmed away
                        entries.Add(new TranscriptEntry(seq, "assistant", "a" + seq, At) { ReplyTo = to });
                        break;
                    case 2:
                        entries.Add(new TranscriptEntry(seq, "assistant", "n" + seq, At));
                        break;
                    default:
                        entries.Add(new TranscriptEntry(seq, "error", "e" + seq, At));
                        break;
                }
            }
            return (entries.ToImmutable(), pending);
        });

    [Fact]
    public void Should_order_every_transcript_as_the_lookup_did()
    {
        Transcripts.Sample(t =>
        {
            var state = SessionState.Empty with { Transcript = t.Transcript, NextSeq = t.Transcript.Count + 1 };
            Assert.Equal(Reference(t.Transcript, t.Pending).Select(e => e.Seq), state.Conversation(t.Pending).Select(e => e.Seq));
        }, iter: 5000);
    }

    [Fact]
    public void Should_send_from_the_compactions_kept_message_on_in_the_same_order()
    {
        Transcripts.Select(Gen.Int[0, 45]).Sample((t, keepFrom) =>
        {
            var state = SessionState.Empty with
            {
                Transcript = t.Transcript,
                NextSeq = t.Transcript.Count + 1,
                Summary = keepFrom == 0 ? null : new ContextSummary("summary", keepFrom),
            };
            var keeping = keepFrom == 0;
            var expected = Reference(t.Transcript, t.Pending)
                .Where(e => keeping |= e.Role == "user" && e.Seq >= keepFrom)
                .Select(e => e.Seq)
                .ToList();
            Assert.Equal(expected, state.SentEntries(t.Pending).Select(e => e.Seq));
            Assert.Equal(expected, state.SentConversation(t.Pending).Select(e => e.Seq));
        }, iter: 5000);
    }

    [Fact]
    public void Should_send_a_reply_after_its_message_when_a_queued_message_came_between()
    {
        var transcript = ImmutableList.Create(
            new TranscriptEntry(1, "user", "first", At),
            new TranscriptEntry(2, "user", "queued during the run", At),
            new TranscriptEntry(3, "assistant", "to first", At) { ReplyTo = 1 },
            new TranscriptEntry(4, "assistant", "to queued", At) { ReplyTo = 2 });
        var state = SessionState.Empty with { Transcript = transcript, NextSeq = 5 };

        Assert.Equal(["first", "to first", "queued during the run", "to queued"], state.Conversation(new HashSet<long>()).Select(e => e.Content));
        Assert.Equal(["first", "to first"], state.Conversation(new HashSet<long> { 2 }).Select(e => e.Content));
    }
}
