using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Durar.Persistence.Serialization;

/// <summary>
/// The JSON shape of persisted Durar payloads. Changing any setting here changes what is on disk: treat it as a wire format.
/// </summary>
internal static class DurarJson
{
    /// <summary>
    /// camelCase property names; dictionary keys kept verbatim (they are model ids and wire names, not C# names); enums as
    /// their exact member names, never numbers; nulls omitted (a missing property reads back as null/default).
    /// </summary>
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DictionaryKeyPolicy = null,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            // The session events' contracts are generated at compile time (DurarSessionJsonContext); every other type's by reflection.
            TypeInfoResolver = JsonTypeInfoResolver.Combine(DurarSessionJsonContext.Default, new DefaultJsonTypeInfoResolver()),
        };
        options.Converters.Add(new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false));
        options.MakeReadOnly();
        return options;
    }
}
