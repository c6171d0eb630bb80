namespace Durar.Actors.Transports;

/// <summary>
/// A field of the request that a wire cannot carry to one model, found before any upstream call
/// (<see cref="IChatTransport.Unsupported"/>). It exists so a request is never sent with a field silently dropped: the run skips
/// that candidate without leasing a key, and when no candidate can carry the request the client gets a 400
/// <c>unsupported_parameter</c> naming <see cref="Param"/>.
/// </summary>
/// <param name="Param">The field as the client wrote it, as a path (<c>n</c>, <c>messages[2].content[0]</c>).</param>
/// <param name="Message">What cannot cross and why, naming the field and the model.</param>
internal sealed record UnsupportedField(string Param, string Message)
{
    /// <summary>The error <c>code</c> of a request refused for such a field (OpenAI's own code for it).</summary>
    public const string Code = "unsupported_parameter";
}
