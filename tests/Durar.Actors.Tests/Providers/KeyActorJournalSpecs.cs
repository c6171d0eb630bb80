using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Durar.Actors.Configuration;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;
using Durar.Actors.Resilience;

namespace Durar.Actors.Tests.Providers;

/// <summary>
/// The key actor and a slow journal (issue 17's allocation finding): a change of health is written behind it, so the failures
/// that arrive while a write is on its way are decided and pushed at once and go to the journal after it, instead of each
/// waiting for the one before (which, under a 429 storm, queued one journal round trip per failure behind the key and left
/// that backlog running after the storm). The journal is the in-memory one behind a gate the spec opens.
/// </summary>
public sealed class KeyActorJournalSpecs() : Akka.TestKit.Xunit2.TestKit(Config, nameof(KeyActorJournalSpecs))
{
    private static readonly Akka.Configuration.Config Config = ConfigurationFactory.ParseString($$"""
        akka.persistence.journal.plugin = "akka.persistence.journal.gated"
        akka.persistence.journal.gated {
          class = "{{typeof(GatedJournal).AssemblyQualifiedName}}"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        """).WithFallback(InMemoryPersistence.Config);

    private static readonly ApiKeyCredential Key = ApiKeyCredential.For("openai", "sk-gated-key-1", "TEST");

    private static KeyCommands.ReportOutcome AuthFailure() =>
        new(Key.Id, "gpt", new AttemptOutcome.Failed(FailoverReason.Auth, RateLimitHints.None, "boom"));

    [Fact]
    public void Should_decide_and_push_failures_while_an_earlier_one_is_still_being_written_and_journal_them_all_in_order()
    {
        var journal = GatedJournal.Of(Sys);
        var parent = CreateTestProbe();
        var key = parent.ChildActorOf(KeyActor.Props(Key, CooldownSettings.Default));
        parent.FishForMessage<KeyStateChanged>(m => m.View.State == "ready", TimeSpan.FromSeconds(5));

        journal.Close();
        key.Tell(AuthFailure());
        Assert.Equal(1, parent.FishForMessage<KeyStateChanged>(m => m.View.ErrorCount == 1, TimeSpan.FromSeconds(5)).View.ErrorCount);
        AwaitCondition(() => journal.Waiting > 0, TimeSpan.FromSeconds(5)); // the first write is on its way, and held

        // Four more while it is held: each is decided on the health before it and pushed at once (a Persist would hold them
        // all in the actor until the write returned).
        for (var i = 0; i < 4; i++) key.Tell(AuthFailure());
        var fifth = parent.FishForMessage<KeyStateChanged>(m => m.View.ErrorCount == 5, TimeSpan.FromSeconds(5));
        Assert.Equal("cooling", fifth.View.State);

        journal.Open();
        AwaitCondition(() => journal.Written == 5, TimeSpan.FromSeconds(5));

        // Every failure is in the journal, in order: a new incarnation recovers the count.
        Watch(key);
        Sys.Stop(key);
        ExpectTerminated(key);
        var again = CreateTestProbe();
        again.ChildActorOf(KeyActor.Props(Key, CooldownSettings.Default));
        Assert.Equal(5, again.FishForMessage<KeyStateChanged>(_ => true, TimeSpan.FromSeconds(5)).View.ErrorCount);
    }
}

/// <summary>The in-memory journal behind a gate: while closed, every write waits (a slow disk); it counts the events written.</summary>
public sealed class GatedJournal : MemoryJournal
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<ActorSystem, GatedJournal> Instances = new();
    private volatile TaskCompletionSource _gate = Opened();
    private int _waiting;
    private int _written;

    public GatedJournal() => Instances[Context.System] = this;

    /// <summary>The journal of <paramref name="system"/> (started on its first use).</summary>
    public static GatedJournal Of(ActorSystem system)
    {
        Persistence.Instance.Apply(system).JournalFor(null);
        // The journal actor is constructed asynchronously: bounded wait for its constructor to register it.
        Assert.True(SpinWait.SpinUntil(() => Instances.ContainsKey(system), TimeSpan.FromSeconds(5)), "the gated journal did not start");
        return Instances[system];
    }

    /// <summary>Writes waiting at the gate now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Events written so far (key events only: the key actor is the only writer in these specs).</summary>
    public int Written => Volatile.Read(ref _written);

    public void Close() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _gate.TrySetResult();

    protected override async Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages.ToList();
        Interlocked.Increment(ref _waiting);
        await _gate.Task.ConfigureAwait(false);
        Interlocked.Decrement(ref _waiting);
        var result = await base.WriteMessagesAsync(writes, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _written, writes.Sum(w => ((IImmutableList<IPersistentRepresentation>)w.Payload).Count));
        return result;
    }

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }
}
