using Akka.Configuration.Hocon;

namespace Durar.Actors.Configuration;

/// <summary>
/// What a model answers: chat completions or embeddings (<c>kind</c> on a catalog model and on
/// <c>models.providers.&lt;id&gt;.models[]</c>). The gateway refuses, with a 400 naming the model, chat on an embedding model
/// and embeddings on a chat model, before any upstream call. A model nobody marked (a custom provider's model without
/// <c>kind</c>, an id no catalog lists) may serve either: its upstream decides.
/// </summary>
public enum ModelKind
{
    Chat,
    Embedding,
}

/// <summary>The wire names of <see cref="ModelKind"/> and their reader.</summary>
internal static class ModelKinds
{
    public const string Chat = "chat";
    public const string Embedding = "embedding";

    public static string ToWireName(this ModelKind kind) => kind == ModelKind.Embedding ? Embedding : Chat;

    /// <summary>A model's <c>kind</c> at <paramref name="path"/>; null when it is not written.</summary>
    /// <exception cref="DurarConfigException">An unknown kind (the message names <c>path.kind</c>).</exception>
    internal static ModelKind? Read(HoconValue model, string path) =>
        HoconReader.String(model, "kind", path) switch
        {
            null => null,
            Chat => ModelKind.Chat,
            Embedding => ModelKind.Embedding,
            var other => throw new DurarConfigException(HoconReader.Join(path, "kind"), $"unknown kind \"{other}\" (expected {Chat} or {Embedding})"),
        };
}
