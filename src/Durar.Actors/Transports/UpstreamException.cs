using Durar.Actors.Resilience;

namespace Durar.Actors.Transports;

/// <summary>
/// An upstream call failed: a non-2xx answer, a connection or idle-timeout failure, a cut or malformed stream, or an error
/// event inside a stream. It carries what classification and cooldowns need, never a secret.
/// </summary>
internal sealed class UpstreamException(UpstreamFailure failure, RateLimitHints hints, Exception? inner = null)
    : Exception(failure.Message ?? $"upstream failed with status {failure.Status}", inner)
{
    public UpstreamFailure Failure { get; } = failure;
    public RateLimitHints Hints { get; } = hints;

    /// <summary>The error answer's headers a client reads (its request id, rate-limit figures), passed on with the error.</summary>
    public Chat.UpstreamHeaders Headers { get; init; } = Chat.UpstreamHeaders.None;

    /// <summary>True when no output reached the client yet, so the request can move to another key or model.</summary>
    public bool BeforeOutput { get; init; } = true;

    public static readonly RateLimitHints NoHints = new(null, false, null);
}
