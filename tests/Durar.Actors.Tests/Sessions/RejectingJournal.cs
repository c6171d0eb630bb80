using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// The in-memory journal, except that it rejects every write holding an assistant reply that contains
/// <see cref="Marker"/>, as a SQL journal rejects a write it cannot serialize: the write is refused with an exception and
/// the journal stays up (a rejection, not a failure); and that it holds the write of a user message whose text is in
/// <see cref="Gates"/> until the spec completes that gate: true stores it, false rejects it. Other writes are stored as usual.
/// </summary>
public sealed class RejectingJournal : MemoryJournal
{
    /// <summary>A reply containing this text is rejected.</summary>
    public const string Marker = "REJECT-ME";

    /// <summary>Gates by user-message text (one actor system per spec class; a spec uses texts of its own).</summary>
    public static readonly ConcurrentDictionary<string, TaskCompletionSource<bool>> Gates = new();

    /// <summary>The configuration that makes this the default journal of an actor system.</summary>
    public const string Hocon = """
        akka.persistence.journal.plugin = "durar-test.rejecting-journal"
        durar-test.rejecting-journal {
          class = "Durar.Actors.Tests.Sessions.RejectingJournal, Durar.Actors.Tests"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        """;

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var results = ImmutableList.CreateBuilder<Exception?>();
        foreach (var write in messages)
        {
            var payload = (IImmutableList<IPersistentRepresentation>)write.Payload;
            var gate = payload.Select(p => p.Payload is SessionEvents.UserMessageAccepted m && Gates.TryGetValue(m.Content, out var g) ? g : null)
                .FirstOrDefault(g => g is not null);
            var rejected = payload.Any(p => p.Payload is SessionEvents.AssistantReplied r && r.Content.Contains(Marker, StringComparison.Ordinal))
                || (gate is not null && !await gate.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken));
            if (rejected)
            {
                results.Add(new InvalidOperationException("the journal cannot store this event"));
                continue;
            }
            var stored = await base.WriteMessagesAsync([write], cancellationToken);
            results.Add(stored?.FirstOrDefault());
        }
        return results.ToImmutable();
    }
}
