using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Akka.Actor;
using Akka.Streams;
using Durar.Actors.Chat;

namespace Durar.Persistence.Serialization;

/// <summary>
/// The System.Text.Json shape of Durar's wire messages: the persisted shape of <see cref="DurarJson"/> (camelCase, enums by
/// name, nulls omitted), plus what only a live actor system can carry. One instance per actor system, because actor refs
/// are written as paths of that system and resolved back through it.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><see cref="IActorRef"/>: <c>Serialization.SerializedActorPath</c> (with the remote address while remoting), resolved
/// back with the provider, so the ref on the other node reaches the original actor.</item>
/// <item><see cref="ISourceRef{TOut}"/> and <see cref="ISinkRef{TIn}"/>: written by Akka's own serializer for them
/// (<c>{"serializerId":..,"manifest":..,"payload":base64}</c>); their elements are serialized again, one by one, by
/// whatever serializer each element is bound to. A <c>LocalReply</c> (the reply a session hands a reader on its own node)
/// is refused.</item>
/// <item><see cref="Address"/>: its string form.</item>
/// <item>A default (uninitialized) <see cref="ImmutableArray{T}"/> is written as null and read back as default.</item>
/// <item>Abstract records: a property typed as the abstract base carries <see cref="DurarWireManifests.DiscriminatorProperty"/>
/// naming the concrete subtype (see <see cref="DurarWireManifests"/>).</item>
/// <item>Computed get-only properties (no setter, no constructor parameter, e.g. <c>ChatMessage.AllText</c>) are not written.</item>
/// </list>
/// <see cref="JsonElement"/>, immutable collections, <see cref="DateTimeOffset"/> (offset kept), <see cref="TimeSpan"/> and
/// <see cref="decimal"/> are System.Text.Json built-ins. Not supported: properties typed <c>object</c> or as an interface of
/// Durar's (they would not come back as the sent type); use a concrete or abstract record type instead.
/// </remarks>
internal static class DurarWireJson
{
    public static JsonSerializerOptions Create(ExtendedActorSystem system, DurarWireManifests manifests)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(manifests);
        var resolver = new DefaultJsonTypeInfoResolver();
        resolver.Modifiers.Add(DropComputedProperties);
        resolver.Modifiers.Add(info => AddSubtypes(info, manifests));
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DictionaryKeyPolicy = null,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            TypeInfoResolver = resolver,
        };
        options.Converters.Add(new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false));
        options.Converters.Add(new ActorRefConverter(system));
        options.Converters.Add(new AddressConverter());
        options.Converters.Add(new StreamRefConverterFactory(system));
        options.Converters.Add(new ImmutableArrayConverterFactory());
        options.MakeReadOnly();
        return options;
    }

    private static void DropComputedProperties(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object) return;
        for (var i = info.Properties.Count - 1; i >= 0; i--)
        {
            var property = info.Properties[i];
            if (property.Set is null && property.AssociatedParameter is null) info.Properties.RemoveAt(i);
        }
    }

    private static void AddSubtypes(JsonTypeInfo info, DurarWireManifests manifests)
    {
        if (info.Kind != JsonTypeInfoKind.Object || !manifests.TryGetHierarchy(info.Type, out var derived)) return;
        var polymorphism = new JsonPolymorphismOptions
        {
            TypeDiscriminatorPropertyName = DurarWireManifests.DiscriminatorProperty,
            UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization,
            IgnoreUnrecognizedTypeDiscriminators = false,
        };
        foreach (var (type, discriminator) in derived) polymorphism.DerivedTypes.Add(new JsonDerivedType(type, discriminator));
        info.PolymorphismOptions = polymorphism;
    }

    /// <summary>Actor refs as serialized paths; null and NoSender as JSON null (the property is then omitted).</summary>
    private sealed class ActorRefConverter(ExtendedActorSystem system) : JsonConverter<IActorRef>
    {
        public override IActorRef? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var path = reader.GetString();
            return string.IsNullOrEmpty(path) ? ActorRefs.NoSender : system.Provider.ResolveActorRef(path);
        }

        public override void Write(Utf8JsonWriter writer, IActorRef value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Akka.Serialization.Serialization.SerializedActorPath(value));
    }

    private sealed class AddressConverter : JsonConverter<Address>
    {
        public override Address Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Address.Parse(reader.GetString() ?? throw new JsonException("An actor system address must be a string."));

        public override void Write(Utf8JsonWriter writer, Address value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }

    /// <summary>Stream refs through Akka's serializer for them: the ref carries its origin actor, only Akka knows the format.</summary>
    private sealed class StreamRefConverterFactory(ExtendedActorSystem system) : JsonConverterFactory
    {
        public override bool CanConvert(Type typeToConvert) =>
            typeToConvert.GetInterfaces().Append(typeToConvert).Any(i => i.IsGenericType
                && (i.GetGenericTypeDefinition() == typeof(ISourceRef<>) || i.GetGenericTypeDefinition() == typeof(ISinkRef<>)));

        public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
            (JsonConverter)Activator.CreateInstance(typeof(AkkaSerializedConverter<>).MakeGenericType(typeToConvert), system)!;
    }

    private sealed class AkkaSerializedConverter<T>(ExtendedActorSystem system) : JsonConverter<T> where T : class
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            int? serializerId = null;
            string? manifest = null;
            byte[]? payload = null;
            if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException($"A {typeof(T).Name} must be a JSON object.");
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "serializerId": serializerId = reader.GetInt32(); break;
                    case "manifest": manifest = reader.GetString(); break;
                    case "payload": payload = reader.GetBytesFromBase64(); break;
                    default: reader.Skip(); break;
                }
            }
            if (serializerId is null || payload is null) throw new JsonException($"A {typeof(T).Name} needs serializerId and payload.");
            return system.Serialization.Deserialize(payload, serializerId.Value, manifest ?? "") as T
                   ?? throw new JsonException($"The payload is not a {typeof(T).Name}.");
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        {
            // A reply handed to a reader on the session's own node is a channel, not a stream ref: it never crosses nodes.
            if (value is Durar.Actors.Sessions.LocalReply)
                throw new NotSupportedException("A local session reply (LocalReply) cannot be sent to another node; only a SourceRef can.");
            var serializer = system.Serialization.FindSerializerFor(value);
            writer.WriteStartObject();
            writer.WriteNumber("serializerId", serializer.Identifier);
            writer.WriteString("manifest", Akka.Serialization.Serialization.ManifestFor(serializer, value));
            writer.WriteBase64String("payload", serializer.ToBinary(value));
            writer.WriteEndObject();
        }
    }

    private sealed class ImmutableArrayConverterFactory : JsonConverterFactory
    {
        public override bool CanConvert(Type typeToConvert) =>
            typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(ImmutableArray<>);

        public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
            (JsonConverter)Activator.CreateInstance(typeof(ImmutableArrayConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;
    }

    private sealed class ImmutableArrayConverter<T> : JsonConverter<ImmutableArray<T>>
    {
        public override bool HandleNull => true;

        public override ImmutableArray<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null
                ? default
                : ImmutableCollectionsMarshal.AsImmutableArray(JsonSerializer.Deserialize<T[]>(ref reader, options) ?? []);

        public override void Write(Utf8JsonWriter writer, ImmutableArray<T> value, JsonSerializerOptions options)
        {
            if (value.IsDefault)
            {
                writer.WriteNullValue();
                return;
            }
            writer.WriteStartArray();
            foreach (var item in value) JsonSerializer.Serialize(writer, item, options);
            writer.WriteEndArray();
        }
    }
}
