using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Durar.Actors.ClientTokens.Messages;

namespace Durar.Actors.ClientTokens;

/// <summary>
/// The list of client-token ids (a single sharded entity, persistence id <c>client-token-index</c>), so the operator can list
/// tokens: a token's own actor is reached by the id inside its secret and needs no index. It holds ids only; each view comes
/// from the token's actor.
/// </summary>
internal sealed class ClientTokenIndexActor : ReceivePersistentActor
{
    private readonly int _snapshotEvery;
    private ImmutableSortedSet<string> _ids = [];

    public override string PersistenceId => "client-token-index";

    public ClientTokenIndexActor(int snapshotEvery)
    {
        _snapshotEvery = snapshotEvery;
        var log = Context.GetLogger();
        Recover<ClientTokenRegistered>(r => _ids = _ids.Add(r.TokenId));
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is TokenIdsSnapshot s) _ids = [.. s.Ids];
        });
        Command<ClientTokenCommands.Register>(r =>
        {
            if (_ids.Contains(r.Registered))
            {
                Sender.Tell(new TokenIds([.. _ids]));
                return;
            }
            var sender = Sender;
            Persist(new ClientTokenRegistered(r.Registered), e =>
            {
                _ids = _ids.Add(e.TokenId);
                if (LastSequenceNr % _snapshotEvery == 0) SaveSnapshot(new TokenIdsSnapshot([.. _ids]));
                sender.Tell(new TokenIds([.. _ids]));
            });
        });
        Command<ClientTokenCommands.List>(_ => Sender.Tell(new TokenIds([.. _ids])));
        Command<SaveSnapshotSuccess>(s =>
        {
            if (s.Metadata.SequenceNr > 1) DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1));
        });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => log.Warning("The client-token index could not delete old snapshots: {Error}", f.Cause.Message));
        Command<SaveSnapshotFailure>(f => log.Warning("The client-token index snapshot failed: {Error}", f.Cause.Message));
    }

    public static Props Props(int snapshotEvery) => Akka.Actor.Props.Create(() => new ClientTokenIndexActor(snapshotEvery));
}

/// <summary>The index's ids as of an event.</summary>
internal sealed record TokenIdsSnapshot(ImmutableArray<string> Ids) : IDurarPersistable;
