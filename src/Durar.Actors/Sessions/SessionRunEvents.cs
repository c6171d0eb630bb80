using Durar.Actors.Chat;

namespace Durar.Actors.Sessions;

/// <summary>
/// A run of a session produced no answer (or was interrupted or dropped from the queue). It travels in-band on the
/// session's event stream so every subscriber learns it the same way; the HTTP layer maps it to an error response.
/// </summary>
public sealed record SessionRunError(int Status, string Message, string Type, string Code, TimeSpan? RetryAfter = null) : ChatEvent
{
    /// <summary>The field the provider refused, when it named one.</summary>
    public string? Param { get; init; }

    /// <summary>The gateway's classification of the failure (<c>x-durar-failure-reason</c>); empty when it is the gateway's own error.</summary>
    public string? Reason { get; init; }

    /// <summary>The provider's error answer headers a client reads (its request id, rate-limit figures), passed on with the error.</summary>
    public UpstreamHeaders Headers { get; init; } = UpstreamHeaders.None;
}

/// <summary>
/// The model that answered this turn (first event of a committed run), with what the HTTP answer says about it: the
/// upstream's headers a client reads and the fields its wire did not send (<c>x-durar-dropped</c>).
/// </summary>
public sealed record RunModel(string Model) : ChatEvent
{
    public UpstreamHeaders Headers { get; init; } = UpstreamHeaders.None;
    public System.Collections.Immutable.ImmutableArray<string> Dropped { get; init; } = [];

    /// <summary>
    /// Set when this answer came from another model than the session's and the session was not told yet (once per change):
    /// the HTTP answer says so (<c>x-durar-fallback-from</c>, <c>x-durar-fallback-reason</c>).
    /// </summary>
    public Sessions.FallbackNotice? Fallback { get; init; }
}
