namespace Durar.Api.Telemetry;

/// <summary>
/// What a handler knows about its request that the HTTP layer's telemetry (<see cref="RequestTelemetry"/>: the request
/// metrics, the request span's attributes and the request log line) cannot see in the response: the model the client
/// asked for, and why an answer failed. A request feature, present only while that telemetry is on.
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

    /// <summary>The facts of <paramref name="context"/>'s request, or null when request telemetry is off.</summary>
    public static RequestFacts? Of(HttpContext context) => context.Features.Get<RequestFacts>();
}
