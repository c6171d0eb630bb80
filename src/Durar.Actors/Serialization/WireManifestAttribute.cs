namespace Durar.Actors.Serialization;

/// <summary>
/// Pins the wire manifest of an <see cref="IDurarWireMessage"/> type (or the type discriminator of a subtype of an abstract
/// record hierarchy). Without it the manifest is derived from the type name: the names of its declaring types and its own,
/// joined by dots, namespace left out (<c>SessionCommands.SendMessage</c>, <c>TurnAccepted</c>, <c>AttemptOutcome.Failed</c>).
/// </summary>
/// <remarks>
/// Wire manifests only have to agree between nodes that run at the same time, so moving a type to another namespace is
/// free. Renaming a type (or its declaring class) changes its derived manifest: during a rolling upgrade, pin the old name
/// here. Two types whose derived names collide make the serializer refuse to start; pin one of them.
/// </remarks>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
internal sealed class WireManifestAttribute(string manifest) : Attribute
{
    public string Manifest { get; } = manifest;
}
