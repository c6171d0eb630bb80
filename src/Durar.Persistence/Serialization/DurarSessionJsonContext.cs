using System.Text.Json.Serialization;
using Durar.Actors.Sessions.Messages;

namespace Durar.Persistence.Serialization;

/// <summary>
/// Compile-time System.Text.Json metadata for the session events, the payloads a session turn journals, and its snapshot (issue 17: the
/// reflection-built contracts of the events were ~3.6 % of a turn's CPU). <see cref="DurarJson.Options"/> asks this context
/// first and the reflection resolver for every other persisted type. It only supplies the contract: the names, the null
/// handling and the enum converter come from <see cref="DurarJson.Options"/> as before, so the bytes are the same
/// (DurarSessionJsonContextSpecs compares every session sample against the reflection contract, both ways). The options below
/// repeat those of <see cref="DurarJson.Options"/> so the generator's own defaults agree with them.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SessionEvents.UserMessageAccepted))]
[JsonSerializable(typeof(SessionEvents.AssistantReplied))]
[JsonSerializable(typeof(SessionEvents.RunFailed))]
[JsonSerializable(typeof(SessionEvents.OverridesChanged))]
[JsonSerializable(typeof(SessionEvents.SessionReset))]
[JsonSerializable(typeof(SessionEvents.Compacted))]
[JsonSerializable(typeof(SessionEvents.RunsDropped))]
[JsonSerializable(typeof(SessionEvents.FallbackNoticed))]
[JsonSerializable(typeof(SessionEvents.FallbackCleared))]
[JsonSerializable(typeof(SessionSnapshot))]
internal sealed partial class DurarSessionJsonContext : JsonSerializerContext;
