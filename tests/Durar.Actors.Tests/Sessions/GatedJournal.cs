using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Tests.Sessions;

/// <summary>
/// An in-memory journal that holds the write of a user message whose text is registered in <see cref="Gates"/> until the
/// spec completes its gate: with true the write goes through, with false it is rejected. Other writes pass at once.
/// </summary>
public sealed class GatedJournal : MemoryJournal
{
    /// <summary>Gates by user-message text (one actor system per spec class, so the static map is the spec's own).</summary>
    public static readonly ConcurrentDictionary<string, TaskCompletionSource<bool>> Gates = new();

    /// <summary>The configuration that makes this the default journal of an actor system.</summary>
    public const string Hocon = """
        akka.persistence.journal.plugin = "durar-test.gated-journal"
        durar-test.gated-journal {
          class = "Durar.Actors.Tests.Sessions.GatedJournal, Durar.Actors.Tests"
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
            if (gate is not null && !await gate.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken))
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
