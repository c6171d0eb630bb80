using Durar.Actors.Sessions.Messages;

namespace Durar.Actors.Sessions;

/// <summary>
/// A journaled user message waiting for (or in) its run: its transcript sequence number, the text and queue mode, the
/// command it came with (model, client history, request template), its inline directives, and the subscribers that
/// want its reply. The session queue orders these; a <see cref="SessionRun"/> runs one or several (collect).
/// </summary>
internal sealed record PendingTurn(long Seq, string Content, QueueMode Mode, SessionCommands.SendMessage Command, SessionFanout Fanout,
    SessionOverrides Inline) : IQueuedTurn
{
    /// <summary>What the model and request rules (<see cref="SessionDirectives"/>) need of the turn.</summary>
    public PendingTurnView View => new(Inline, Command.Model);

    /// <summary>The run this turn is (<c>x-durar-run-id</c>), journaled with its user message.</summary>
    public string RunId { get; init; } = "";
}
