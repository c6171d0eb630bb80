using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using Durar.Actors;
using Durar.Actors.Providers.Messages;

namespace Durar.Persistence.Tests.Journal;

/// <summary>
/// A test-only persistent actor: persists what it is told, saves snapshots on request, and reports what it recovered.
/// It stands in for the real key actor so the journal specs exercise only the plugin, the HOCON and the serializer.
/// </summary>
internal sealed class RecordingActor : ReceivePersistentActor
{
    public sealed record Write(IDurarPersistable Event);

    public sealed record Written(long SequenceNr, IDurarPersistable Event);

    /// <summary>Sent instead of <see cref="Written"/> when the journal failed or rejected the write, so a spec fails with the cause.</summary>
    public sealed record WriteFailed(string Cause);

    public sealed record Snap(KeyHealthSnapshot Snapshot);

    public sealed record Snapped(long SequenceNr);

    public sealed record SnapFailed(string Reason);

    public sealed class GetRecovered
    {
        public static GetRecovered Instance { get; } = new();

        private GetRecovered()
        {
        }
    }

    /// <summary>What recovery delivered: the snapshot offered (if any) and the events replayed after it, in order.</summary>
    public sealed record Recovered(KeyHealthSnapshot? Snapshot, long SnapshotSequenceNr, ImmutableList<IDurarPersistable> Events);

    private readonly List<IDurarPersistable> _recovered = [];
    private KeyHealthSnapshot? _snapshot;
    private long _snapshotSequenceNr;
    private IActorRef? _snapshotRequester;
    private IActorRef? _writer;

    public RecordingActor(string persistenceId)
    {
        PersistenceId = persistenceId;

        Recover<SnapshotOffer>(offer =>
        {
            _snapshot = (KeyHealthSnapshot)offer.Snapshot;
            _snapshotSequenceNr = offer.Metadata.SequenceNr;
        });
        Recover<IDurarPersistable>(e => _recovered.Add(e));

        Command<Write>(w =>
        {
            _writer = Sender;
            Persist(w.Event, e => Sender.Tell(new Written(LastSequenceNr, e)));
        });
        Command<Snap>(s =>
        {
            _snapshotRequester = Sender;
            SaveSnapshot(s.Snapshot);
        });
        Command<SaveSnapshotSuccess>(s => _snapshotRequester?.Tell(new Snapped(s.Metadata.SequenceNr)));
        Command<SaveSnapshotFailure>(f => _snapshotRequester?.Tell(new SnapFailed(f.Cause.Message)));
        Command<GetRecovered>(_ => Sender.Tell(new Recovered(_snapshot, _snapshotSequenceNr, [.. _recovered])));
    }

    public override string PersistenceId { get; }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _writer?.Tell(new WriteFailed(cause.ToString()));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _writer?.Tell(new WriteFailed(cause.ToString()));
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    public static Props Props(string persistenceId) => Akka.Actor.Props.Create(() => new RecordingActor(persistenceId));
}
