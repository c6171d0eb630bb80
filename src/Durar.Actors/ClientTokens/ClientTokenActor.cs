using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Durar.Actors.Catalog;
using Durar.Actors.ClientTokens.Messages;
using Durar.Actors.Providers.Keys;

namespace Durar.Actors.ClientTokens;

/// <summary>
/// One client token, cluster-wide (a sharded entity, persistence id <c>client-token-&lt;id&gt;</c>): the single writer of its
/// secret hash, revocation and spend, and the single counter of its rpm/tpm, so its limits are exact across the cluster as a
/// key's are. Authorizations are answered from memory; creation, rotation and revocation are answered once journaled; usage
/// is journaled behind (<c>PersistAsync</c>) and counted at once. Decisions live in <see cref="ClientTokenState"/> and the
/// minute window in <see cref="MinuteWindow"/>.
/// </summary>
internal sealed class ClientTokenActor : ReceivePersistentActor
{
    private readonly int _snapshotEvery;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly MinuteWindow _window = new(KeyLimits.None);
    private ClientTokenState? _state;

    /// <summary>An event or snapshot of this token's journal could not be read: it counts as revoked.</summary>
    private bool _unreadable;

    public override string PersistenceId { get; }

    public ClientTokenActor(string tokenId, int snapshotEvery)
    {
        _snapshotEvery = snapshotEvery;
        PersistenceId = "client-token-" + tokenId;
        Recover<IClientTokenEvent>(e => _state = ClientTokenState.Apply(_state, e));
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is ClientTokenSnapshot s) _state = s.State;
            else if (offer.Snapshot is UnreadablePayload u) Unreadable(u, offer.Metadata.SequenceNr);
        });
        // A lost event might have been the revocation: a token with an unreadable event refuses every request (fail closed).
        Recover<UnreadablePayload>(u => Unreadable(u, LastSequenceNr));
        Recover<RecoveryCompleted>(_ => Limit());

        Command<ClientTokenCommands.Authorize>(a =>
        {
            if (_state is null)
            {
                Sender.Tell(new AuthorizeReply(AuthorizeVerdicts.Unknown, null, null));
                return;
            }
            if (_unreadable)
            {
                Sender.Tell(new AuthorizeReply(AuthorizeVerdicts.Revoked, null, null));
                return;
            }
            var now = Now;
            var reply = _state.Decide(a.SecretHash, now, _window.LimitedUntil(now));
            if (reply.Verdict == AuthorizeVerdicts.Ok) _window.Grant(now);
            Sender.Tell(reply);
        });
        Command<ClientTokenCommands.ReportUsage>(u =>
        {
            if (_state is null) return;
            var now = Now;
            _window.Spend(u.PromptTokens + u.CompletionTokens, now);
            PersistAsync(new ClientTokenEvents.Used(u.Requests, u.PromptTokens, u.CompletionTokens, u.Cost, now), Journaled);
        });
        Command<ClientTokenCommands.Create>(c =>
        {
            if (_state is not null)
            {
                Sender.Tell(new ClientTokenReply(null, "exists"));
                return;
            }
            var sender = Sender;
            Persist(new ClientTokenEvents.Created(c.TokenId, c.Spec, c.SecretHash, Now), e =>
            {
                Journaled(e);
                Limit();
                sender.Tell(new ClientTokenReply(_state!.ViewAt(Now), null));
            });
        });
        Command<ClientTokenCommands.Rotate>(r =>
        {
            if (Refused(_state, revokedToo: true) is { } refused)
            {
                Sender.Tell(refused);
                return;
            }
            var sender = Sender;
            Persist(new ClientTokenEvents.Rotated(r.SecretHash, Now), e =>
            {
                Journaled(e);
                sender.Tell(new ClientTokenReply(_state!.ViewAt(Now), null));
            });
        });
        Command<ClientTokenCommands.Revoke>(_ =>
        {
            if (Refused(_state, revokedToo: false) is { } refused)
            {
                Sender.Tell(refused);
                return;
            }
            if (_state!.RevokedAt is not null)
            {
                Sender.Tell(new ClientTokenReply(_state.ViewAt(Now), null));
                return;
            }
            var sender = Sender;
            Persist(new ClientTokenEvents.Revoked(Now), e =>
            {
                Journaled(e);
                _log.Info("Client token [{TokenId}] revoked", _state.Id);
                sender.Tell(new ClientTokenReply(_state.ViewAt(Now), null));
            });
        });
        Command<ClientTokenCommands.Get>(_ => Sender.Tell(_state is null ? new ClientTokenReply(null, "not_found") : new ClientTokenReply(_state.ViewAt(Now), null)));
        Command<SaveSnapshotSuccess>(s =>
        {
            // Only the newest snapshot is ever read.
            if (s.Metadata.SequenceNr > 1) DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1));
        });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning("Client token [{TokenId}] could not delete old snapshots: {Error}", tokenId, f.Cause.Message));
        Command<SaveSnapshotFailure>(f => _log.Warning("Client token [{TokenId}] snapshot failed: {Error}", tokenId, f.Cause.Message));
    }

    public static Props Props(string tokenId, int snapshotEvery) => Akka.Actor.Props.Create(() => new ClientTokenActor(tokenId, snapshotEvery));

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    private void Unreadable(UnreadablePayload unreadable, long sequenceNr)
    {
        _unreadable = true;
        _log.Error("Client token [{0}]: sequence number {1} of its journal ({2}) cannot be read ({3}); the token refuses every request "
                   + "until it is rotated away (create a new token, revoke this one)", PersistenceId, sequenceNr, unreadable.Manifest, unreadable.Reason);
    }

    private static ClientTokenReply? Refused(ClientTokenState? state, bool revokedToo) =>
        state is null ? new ClientTokenReply(null, "not_found")
        : revokedToo && state.RevokedAt is not null ? new ClientTokenReply(state.ViewAt(state.RevokedAt.Value), "revoked")
        : null;

    private void Limit() => _window.Limits = _state is null ? KeyLimits.None : new KeyLimits(_state.Spec.Rpm, _state.Spec.Tpm);

    /// <summary>An event is in the journal: applied, and every <c>snapshotEvery</c> events the state is snapshotted.</summary>
    private void Journaled(IClientTokenEvent e)
    {
        _state = ClientTokenState.Apply(_state, e);
        if (_state is not null && LastSequenceNr % _snapshotEvery == 0) SaveSnapshot(new ClientTokenSnapshot(_state));
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // Nothing rejected was applied: the state is what the journal holds. A caller waiting on a create, rotate or revoke
        // gets no answer and its Ask times out into a 503; usage that could not be written is lost for the totals only.
        _log.Warning("Client token [{TokenId}] could not journal {Event}: {Error}", PersistenceId, @event.GetType().Name, cause.Message);
    }
}
