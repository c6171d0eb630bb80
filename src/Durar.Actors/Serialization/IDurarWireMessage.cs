namespace Durar.Actors;

/// <summary>
/// Marker for every message that may cross nodes of the Durar cluster: session commands and their replies, the events on a
/// session's reply stream, and the request model they carry. Durar.Persistence binds it to Durar's System.Text.Json wire
/// serializer (<c>DurarWireSerializer</c>), so nothing that travels between nodes goes through Akka's default Newtonsoft
/// type-name JSON, which mangles <see cref="System.Text.Json.JsonElement"/> and cannot be trusted with immutable collections.
/// </summary>
/// <remarks>
/// Marking a concrete type (or a base it inherits from) is all the serializer needs: its manifest is derived from the type
/// name (see <see cref="Serialization.WireManifestAttribute"/>). Every marked type needs a sample in the serializer specs
/// (<c>tests/Durar.Persistence.Tests/Serialization/WireSamples.cs</c>); a reflection spec fails when one is missing.
/// A type is either persisted (<see cref="IDurarPersistable"/>) or sent, never both: Akka could not pick a serializer.
/// </remarks>
public interface IDurarWireMessage;
