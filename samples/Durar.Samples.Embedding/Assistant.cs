using System.Text;
using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Durar.Actors.Chat;
using Durar.Actors.Hosting;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Microsoft.Extensions.AI;

namespace Durar.Samples.Embedding;

/// <summary>
/// Application code that uses the embedded Durar two ways: a one-off question through Microsoft.Extensions.AI's
/// <see cref="IChatClient"/> (stateless, the same key rotation and failover as the gateway), and a turn in a session
/// (a conversation Durar keeps in its journal) sent straight to Durar's session shard region. Every answer is noted in the
/// application's own <see cref="NotebookActor"/>.
/// </summary>
public sealed class Assistant(
    IChatClient chat,
    IRequiredActor<SessionRegionKey> sessions,
    IRequiredActor<NotebookActor> notebook,
    ActorSystem system,
    IMaterializer materializer)
{
    /// <summary>How long a session may take to accept a message (it is journaled first, maybe on another node).</summary>
    private static readonly TimeSpan AcceptTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Asks the configured model (<c>agents.defaults.model.primary</c>) one question.</summary>
    /// <exception cref="DurarRunException">No model answered; it lists every attempt.</exception>
    public async Task<string> AskAsync(string question, CancellationToken ct = default)
    {
        var response = await chat.GetResponseAsync(question, cancellationToken: ct);
        notebook.ActorRef.Tell(new NotebookActor.Note("chat", response.Text));
        return response.Text;
    }

    /// <summary>
    /// Sends <paramref name="message"/> to the session <paramref name="sessionKey"/> and returns the reply. The session
    /// keeps the transcript, so the model sees the earlier turns; a directive-only message (<c>/think high</c>) answers
    /// with its acknowledgement.
    /// </summary>
    /// <exception cref="InvalidOperationException">The session refused the message or its run failed (status and code in the message).</exception>
    public async Task<string> SendSessionTurnAsync(string sessionKey, string message, CancellationToken ct = default)
    {
        var region = await sessions.GetAsync(ct);
        var answer = await region.Ask<object>(new SessionCommands.SendMessage(sessionKey, message), AcceptTimeout, ct);
        var reply = answer switch
        {
            TurnAccepted accepted => await ReadReplyAsync(accepted, ct),
            DirectivesApplied applied => applied.Reply,
            TurnRejected rejected => throw new InvalidOperationException($"session {sessionKey} refused the message: {rejected.Status} {rejected.Code}: {rejected.Message}"),
            _ => throw new InvalidOperationException($"unexpected answer from session {sessionKey}: {answer.GetType().Name}"),
        };
        notebook.ActorRef.Tell(new NotebookActor.Note("session " + sessionKey, reply));
        return reply;
    }

    /// <summary>Everything the application noted so far (its own actor's state).</summary>
    public async Task<IReadOnlyList<NotebookActor.Note>> NotesAsync(CancellationToken ct = default) =>
        (await notebook.ActorRef.Ask<NotebookActor.Notes>(NotebookActor.GetNotes.Instance, AcceptTimeout, ct)).Entries;

    /// <summary>
    /// Reads the reply's events (from whichever node runs the session) with <see cref="SessionReply"/>, which also ends the
    /// read if that node dies mid-reply: the model that answered first, then text deltas, usage and the finish reason, or a
    /// <see cref="SessionRunError"/> when the run failed.
    /// </summary>
    private async Task<string> ReadReplyAsync(TurnAccepted accepted, CancellationToken ct)
    {
        await using var reply = SessionReply.Open(system, accepted, materializer, ct);
        var text = new StringBuilder();
        while (await reply.MoveNextAsync())
        {
            switch (reply.Current)
            {
                case TextDelta delta:
                    text.Append(delta.Text);
                    break;
                case SessionRunError error:
                    throw new InvalidOperationException($"session {accepted.SessionKey} run failed: {error.Status} {error.Code}: {error.Message}");
            }
        }
        return text.ToString();
    }
}
