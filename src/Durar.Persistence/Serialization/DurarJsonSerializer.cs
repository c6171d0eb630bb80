using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Akka.Serialization;
using Durar.Actors;

namespace Durar.Persistence.Serialization;

/// <summary>
/// The one serializer for everything Durar persists (<see cref="IDurarPersistable"/> events and snapshots). It exists so the
/// journal never holds Newtonsoft type-name JSON: each payload is plain System.Text.Json and its type is named by a short
/// manifest from <see cref="DurarManifests"/>, so renaming or moving a .NET type never breaks recovery.
/// </summary>
/// <remarks>
/// Wire rules (extend-only, C13): never change or reuse a manifest; add properties rather than rename them (a missing
/// property reads as its default, an unknown one is skipped); enums are written by member name, so pin a renamed member's
/// old name with <c>[JsonStringEnumMemberName("Old")]</c>.
/// </remarks>
internal sealed class DurarJsonSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>The serializer id, registered under <c>akka.actor.serialization-identifiers</c>. Never change it: it is stored with every row.</summary>
    public const int SerializerId = 4711;

    /// <summary>The assembly-qualified type name the HOCON registration uses.</summary>
    public const string TypeName = "Durar.Persistence.Serialization.DurarJsonSerializer, Durar.Persistence";

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        DurarManifests.TryGetManifest(o.GetType(), out var manifest)
            ? manifest
            : throw new SerializationException(
                $"{o.GetType().FullName} is bound to {nameof(DurarJsonSerializer)} but has no manifest: add it to {nameof(DurarManifests)}.");

    public override byte[] ToBinary(object obj)
    {
        // Resolving the manifest first rejects unmapped types before anything is written.
        _ = Manifest(obj);
        return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), DurarJson.Options);
    }

    /// <summary>
    /// The stored object, or an <see cref="UnreadablePayload"/> naming the manifest and the reason when the bytes cannot be
    /// read: a corrupt row must not make its actor unrecoverable (see <see cref="UnreadablePayload"/>). Logged as an error.
    /// </summary>
    public override object FromBinary(byte[] bytes, string manifest)
    {
        try
        {
            return Read(bytes, manifest);
        }
        catch (SerializationException e)
        {
            system.Log.Error(e, "A journaled payload cannot be read; its actor recovers without it: {0}", e.Message);
            return new UnreadablePayload(manifest, e.Message);
        }
    }

    /// <summary>Deserializes <paramref name="bytes"/> as the type of <paramref name="manifest"/>.</summary>
    /// <exception cref="SerializationException">The manifest is unknown or the payload is not a valid value of its type.</exception>
    internal static object Read(byte[] bytes, string manifest)
    {
        if (!DurarManifests.TryGetType(manifest, out var type))
        {
            throw new SerializationException($"Unknown manifest \"{manifest}\" for {nameof(DurarJsonSerializer)}: no Durar type is registered under it.");
        }

        try
        {
            return JsonSerializer.Deserialize(bytes, type, DurarJson.Options)
                   ?? throw new SerializationException($"Manifest \"{manifest}\": the payload is JSON null.");
        }
        catch (Exception e) when (e is not SerializationException)
        {
            // Malformed JSON, invalid UTF-8, or a payload the type's constructor rejects (e.g. a required collection missing).
            throw new SerializationException($"Manifest \"{manifest}\": the payload is not a valid {type.Name}: {e.Message}", e);
        }
    }
}
