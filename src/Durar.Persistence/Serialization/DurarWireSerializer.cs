using System.Reflection;
using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Durar.Actors;

namespace Durar.Persistence.Serialization;

/// <summary>
/// The serializer for every message that crosses nodes (<see cref="IDurarWireMessage"/>): System.Text.Json in the shape of
/// <see cref="DurarWireJson"/>, named by the short derived manifests of <see cref="DurarWireManifests"/>. It exists because
/// Akka's default Newtonsoft serializer writes .NET type names and mangles <see cref="JsonElement"/> (a chat request's
/// <c>tools</c>), so a session turn sent through another node would not arrive intact.
/// </summary>
/// <remarks>
/// Extra assemblies with wire types (e.g. a test assembly) are listed under <see cref="AssembliesSetting"/>; Durar.Actors is
/// always scanned. Wire messages are never stored, so manifests need only agree between nodes of the same version (see
/// <see cref="Durar.Actors.Serialization.WireManifestAttribute"/> for rolling upgrades).
/// </remarks>
internal sealed class DurarWireSerializer : SerializerWithStringManifest
{
    /// <summary>The serializer id, registered under <c>akka.actor.serialization-identifiers</c>; sent with every remote message.</summary>
    public const int SerializerId = 4712;

    /// <summary>The assembly-qualified type name the HOCON registration uses.</summary>
    public const string TypeName = "Durar.Persistence.Serialization.DurarWireSerializer, Durar.Persistence";

    /// <summary>The name the serializer is registered under in <c>akka.actor.serializers</c>.</summary>
    public const string SerializerName = "durar-wire";

    /// <summary>The HOCON binding key: every type implementing the marker goes through this serializer.</summary>
    public const string MarkerTypeName = "Durar.Actors.IDurarWireMessage, Durar.Actors";

    /// <summary>HOCON list of assembly names scanned for wire types in addition to Durar.Actors.</summary>
    public const string AssembliesSetting = "akka.actor.serialization-settings." + SerializerName + ".assemblies";

    private readonly DurarWireManifests _manifests;
    private readonly JsonSerializerOptions _options;

    public DurarWireSerializer(ExtendedActorSystem system) : this(system, Config.Empty)
    {
    }

    /// <summary>Akka calls this one when <c>akka.actor.serialization-settings.durar-wire</c> exists, with that section.</summary>
    public DurarWireSerializer(ExtendedActorSystem system, Config settings) : base(system)
    {
        _manifests = DurarWireManifests.Build(ExtraAssemblies(settings ?? Config.Empty));
        _options = DurarWireJson.Create(system, _manifests);
    }

    public override int Identifier => SerializerId;

    /// <summary>The wire types this serializer knows (for specs and diagnostics).</summary>
    public DurarWireManifests Manifests => _manifests;

    public override string Manifest(object o) =>
        _manifests.TryGetManifest(o.GetType(), out var manifest)
            ? manifest
            : throw new SerializationException(
                $"{o.GetType().FullName} is bound to {nameof(DurarWireSerializer)} but is not a concrete {nameof(IDurarWireMessage)} in a scanned assembly " +
                $"(Durar.Actors or {AssembliesSetting}).");

    public override byte[] ToBinary(object obj)
    {
        _ = Manifest(obj);
        if (_manifests.TryGetSingleton(obj.GetType(), out _)) return "{}"u8.ToArray();
        try
        {
            return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), _options);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new SerializationException($"{obj.GetType().Name} cannot be written for the wire: {e.Message}", e);
        }
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!_manifests.TryGetType(manifest, out var type))
            throw new SerializationException($"Unknown wire manifest \"{manifest}\" for {nameof(DurarWireSerializer)}: no {nameof(IDurarWireMessage)} type derives it on this node.");
        if (_manifests.TryGetSingleton(type, out var singleton)) return singleton;
        try
        {
            return JsonSerializer.Deserialize(bytes, type, _options)
                   ?? throw new SerializationException($"Wire manifest \"{manifest}\": the payload is JSON null.");
        }
        catch (Exception e) when (e is not SerializationException)
        {
            throw new SerializationException($"Wire manifest \"{manifest}\": the payload is not a valid {type.Name}: {e.Message}", e);
        }
    }

    private static IEnumerable<Assembly> ExtraAssemblies(Config config)
    {
        var names = !config.IsEmpty && config.HasPath("assemblies") ? config.GetStringList("assemblies") : [];
        foreach (var name in names)
        {
            Assembly assembly;
            try
            {
                assembly = Assembly.Load(name);
            }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
            {
                throw new ConfigurationException($"{AssembliesSetting}: cannot load assembly \"{name}\": {e.Message}");
            }
            yield return assembly;
        }
    }
}
