using System.Collections.Immutable;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// The in-memory journal, except that it rejects every write holding an assistant reply that contains
/// <see cref="Marker"/>, as a SQL journal rejects a write it cannot serialize: the write is refused with an exception and
/// the journal stays up (a rejection, not a failure). Other writes are stored as usual.
/// </summary>
public sealed class RejectingJournal : MemoryJournal
{
    /// <summary>A reply containing this text is rejected.</summary>
    public const string Marker = "REJECT-ME";

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
            if (payload.Any(p => p.Payload is SessionEvents.AssistantReplied r && r.Content.Contains(Marker, StringComparison.Ordinal)))
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
