namespace Durar.Actors;

/// <summary>
/// What recovery hands an actor in place of a journaled event or snapshot whose bytes cannot be read (corrupt, or written
/// by a newer version under an unknown manifest). The persistence serializer returns it instead of throwing, because a
/// throw fails the whole recovery and the actor could never start again (every message to it would wait and time out);
/// with it, the actor knows which event it lost and decides: a session starts in a failed state that shows the reason,
/// a client token refuses every request (it might have been revoked by the lost event), a key skips it (its health is
/// rebuilt by the next outcome). Never persisted.
/// </summary>
/// <param name="Manifest">The manifest stored with the payload.</param>
/// <param name="Reason">Why it could not be read (the serializer's message).</param>
internal sealed record UnreadablePayload(string Manifest, string Reason);
