namespace Durar.Api.Telemetry;

/// <summary>
/// What a handler knows about its request that the HTTP layer's telemetry (<see cref="RequestTelemetry"/>: the request
/// metrics, the request span's attributes and the request log line) cannot see in the response: the model the client
/// asked for, why an answer failed, whether the whole answer was written, and how its stream ends early. A request
/// feature: set by that telemetry, or by <see cref="Extensions.GatewayDrain"/> when telemetry is off (the drain reads
/// <see cref="IsAnswered"/> and <see cref="StreamCloser"/>).
/// </summary>
public sealed class RequestFacts
{
    /// <summary>The model as the client named it (a ref, an alias, or <c>durar</c>); null outside the model routes.</summary>
    public string? RequestedModel { get; set; }

    /// <summary>The GenAI operation of a model route (<c>gen_ai.operation.name</c>): <c>chat</c> unless the handler says otherwise.</summary>
    public string Operation { get; set; } = Durar.Actors.Telemetry.TelemetryNames.ChatOperation;

    /// <summary>The error code the request ended with (<c>rate_limit</c>, <c>no_api_keys</c>, ...); null = none was written.</summary>
    public string? ErrorCode { get; private set; }

    /// <summary>Records the error code of the answer (the first one written wins: it is what the client saw).</summary>
    public void Failed(string code) => ErrorCode ??= code;

    /// <summary>
    /// True once the answer's last byte was written: a stream's terminator (<c>data: [DONE]</c>, <c>message_stop</c>,
    /// <c>response.completed</c> or <c>response.incomplete</c>) or a whole JSON answer. A client that leaves after that (it
    /// has the answer) is not <c>cancelled</c>, however long the handler takes to return.
    /// </summary>
    public bool IsAnswered { get; private set; }

    /// <summary>Records that the whole answer was written (each dialect's writer calls it after the answer's last byte).</summary>
    public void Answered() => IsAnswered = true;

    /// <summary>
    /// How this request's model stream ends early in its dialect; set by the endpoint when the stream starts, null for
    /// streams of other kinds (the dashboard, session events) and for answers that are not streams.
    /// </summary>
    internal Apis.IStreamCloser? StreamCloser { get; set; }

    /// <summary>The facts of <paramref name="context"/>'s request, or null outside the gateway's pipeline.</summary>
    public static RequestFacts? Of(HttpContext context) => context.Features.Get<RequestFacts>();
}
