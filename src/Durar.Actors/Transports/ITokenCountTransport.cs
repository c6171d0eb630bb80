namespace Durar.Actors.Transports;

/// <summary>
/// A wire that can count a request's input tokens exactly, with the provider's own endpoint (Anthropic's
/// <c>count_tokens</c>). Other wires have no such endpoint: the gateway estimates instead, and says so.
/// </summary>
internal interface ITokenCountTransport
{
    /// <summary>The input tokens of <paramref name="call"/>'s request on its target. Failures throw <see cref="UpstreamException"/>.</summary>
    Task<long> CountTokensAsync(UpstreamCall call, CancellationToken cancellationToken);
}
