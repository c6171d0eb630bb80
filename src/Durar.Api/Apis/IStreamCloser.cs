using System.IO.Pipelines;

namespace Durar.Api.Apis;

/// <summary>
/// How a model stream that cannot finish is ended in its own dialect: OpenAI's error frame without <c>[DONE]</c>,
/// Anthropic's <c>event: error</c> without <c>message_stop</c>, the Responses API's <c>error</c> and <c>response.failed</c>
/// events. A stream registers its closer when it starts (<see cref="Telemetry.RequestFacts.StreamCloser"/>), so the one
/// who cuts it from outside (<see cref="Extensions.GatewayDrain"/> at its deadline) ends it in words its client reads.
/// </summary>
internal interface IStreamCloser
{
    Task WriteStreamErrorAsync(PipeWriter pipe, ApiError error, CancellationToken ct);
}
