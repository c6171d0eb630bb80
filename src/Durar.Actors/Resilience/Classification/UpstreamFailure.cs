namespace Durar.Actors.Resilience;

/// <summary>
/// Everything the classifier may know about one failed upstream call, flattened from whatever the provider
/// client saw (HTTP status, error body or exception message, structured error code and type, transport fault).
/// It exists so classification is a pure function of plain data, testable without HTTP clients or actors.
/// </summary>
/// <param name="Status">The HTTP status, if a response arrived. When null, a leading status in <paramref name="Message"/> (e.g. "429 Too Many Requests") or a numeric <paramref name="Code"/> in 400–599 is used instead.</param>
/// <param name="Message">The error message or raw error body (JSON is fine; it is matched as text).</param>
/// <param name="Code">A structured error code (<c>error.code</c>, <c>error.status</c>, an errno name such as <c>ECONNRESET</c>).</param>
/// <param name="ErrorType">A structured error type (<c>error.type</c>, e.g. <c>overloaded_error</c>).</param>
/// <param name="ProviderId">The provider id; some rules are provider-scoped (OpenRouter).</param>
/// <param name="Transport">A transport-level fault, when the call failed below HTTP.</param>
internal sealed record UpstreamFailure(
    int? Status,
    string? Message,
    string? Code = null,
    string? ErrorType = null,
    string? ProviderId = null,
    UpstreamTransportError? Transport = null)
{
    /// <summary>The provider's <c>error.param</c> (the field it refused), passed on to the client as the provider said it.</summary>
    public string? Param { get; init; }
}

/// <summary>
/// Transport-level faults, reported by the provider client when no (complete) HTTP answer arrived. They all
/// classify as <see cref="FailoverReason.Timeout"/>; the distinction only shapes the user-facing copy.
/// </summary>
internal enum UpstreamTransportError
{
    /// <summary>No transport fault.</summary>
    None,

    /// <summary>The endpoint refused the TCP connection.</summary>
    ConnectionRefused,

    /// <summary>The connection was reset or aborted mid-request.</summary>
    ConnectionReset,

    /// <summary>The network or host is unreachable.</summary>
    HostUnreachable,

    /// <summary>The host name could not be resolved.</summary>
    DnsFailure,

    /// <summary>The request or the stream went idle past its timeout.</summary>
    Timeout,

    /// <summary>The stream ended before its terminal event (no <c>[DONE]</c>, no finish reason).</summary>
    StreamCut,

    /// <summary>A stream frame could not be parsed.</summary>
    MalformedStream,
}
