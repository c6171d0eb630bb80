namespace Durar.Actors;

/// <summary>
/// Marker for every type Durar persists (events, snapshots). Durar.Persistence binds it to Durar's own
/// string-manifest serializer, so nothing is ever stored as .NET type-name JSON.
/// </summary>
internal interface IDurarPersistable;
