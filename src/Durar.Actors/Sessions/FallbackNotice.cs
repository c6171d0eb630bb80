namespace Durar.Actors.Sessions;

/// <summary>
/// A session's fallback notice (the reference's <c>fallbackNotice*</c> fields, item 60): its turns are answered by
/// <see cref="Active"/> instead of the session's model <see cref="Selected"/>, since <see cref="At"/>, because of
/// <see cref="Reason"/> (the failover reason of the selected model's last attempt). Fallback stays turn-local: only this
/// notice is stored, so the reply and the event stream say it once per change, not on every turn while it lasts, and a
/// turn answered by the selected model again clears it.
/// </summary>
public sealed record FallbackNotice(string Selected, string Active, string? Reason, DateTimeOffset At);
