using System.Collections.Immutable;
using Akka.Actor;
using Akka.Hosting;

namespace Durar.Samples.Embedding;

/// <summary>
/// The application's own actor, in the same actor system as Durar's provider, key and session actors: it keeps a note of
/// every answer the application received. It stands for whatever actors an application already has; nothing in it knows
/// about Durar.
/// </summary>
public sealed class NotebookActor : ReceiveActor
{
    /// <summary>Write a note (not answered).</summary>
    public sealed record Note(string Source, string Text);

    /// <summary>Ask for every note so far; answered with <see cref="Notes"/>.</summary>
    public sealed record GetNotes
    {
        public static GetNotes Instance { get; } = new();

        private GetNotes()
        {
        }
    }

    /// <summary>The notes, oldest first.</summary>
    public sealed record Notes(ImmutableList<Note> Entries);

    private ImmutableList<Note> _notes = [];

    public NotebookActor()
    {
        Receive<Note>(note => _notes = _notes.Add(note));
        Receive<GetNotes>(_ => Sender.Tell(new Notes(_notes)));
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new NotebookActor());
}

/// <summary>The application's registration of its actor, the same way Durar registers its own (<c>WithDurarActors</c>).</summary>
public static class NotebookHosting
{
    /// <summary>The actor's name under <c>/user</c>.</summary>
    public const string Name = "notebook";

    /// <summary>Starts the <see cref="NotebookActor"/> and registers it in Akka.Hosting's registry.</summary>
    public static AkkaConfigurationBuilder WithNotebook(this AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, registry) => registry.Register<NotebookActor>(system.ActorOf(NotebookActor.Props(), Name)));
}
