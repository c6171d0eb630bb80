using System.Diagnostics;
using Durar.Actors.Configuration;
using Durar.Actors.Telemetry;
using Durar.Api.Apis;
using static Durar.Actors.Telemetry.TelemetryNames;

namespace Durar.Api.Telemetry;

/// <summary>
/// The HTTP layer's telemetry, first in the pipeline: when a request completes it counts it (<c>durar.requests</c>) and
/// times it (<c>durar.request.duration</c>) by route, method, status, requested model and outcome, puts the model, the
/// attempts and the outcome on the request's span (ASP.NET Core's server span, when tracing), and writes one log line
/// with the trace id. Health checks and <c>/metrics</c> are left alone (probes and scrapers would drown the rest).
/// </summary>
/// <remarks>
/// The outcome is the error code the answer carried (<see cref="RequestFacts.Failed"/>); else <c>cancelled</c> when the
/// client left before the whole answer was written (<see cref="RequestFacts.IsAnswered"/>: decided by what was written, not
/// by whether the client was still connected when the handler returned, since a client may close on a stream's terminator
/// while the handler is still finishing); else by status. The line is written once the handler has returned, i.e. after a
/// stream's last byte. Tags are built only for a
/// listening instrument; the per-request cost with everything on is one small object (<see cref="RequestFacts"/>), the
/// tag lists (structs) and the log event.
/// </remarks>
internal sealed partial class RequestTelemetry(DurarTelemetry telemetry, TelemetrySettings settings, ILogger<RequestTelemetry> logger)
{
    private static readonly object[] BoxedStatus = Enumerable.Range(0, 600).Select(i => (object)i).ToArray();

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var log = settings.RequestLog && logger.IsEnabled(LogLevel.Information);
        var measure = telemetry.Requests.Enabled || telemetry.RequestDuration.Enabled;
        if (!(log || measure || Activity.Current is not null) || RequestTelemetryPaths.IsQuiet(context.Request.Path))
        {
            await next(context);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        var facts = new RequestFacts();
        context.Features.Set(facts);
        var failed = false;
        try
        {
            await next(context);
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            Complete(context, facts, Stopwatch.GetElapsedTime(started), failed, log, measure);
        }
    }

    private void Complete(HttpContext context, RequestFacts facts, TimeSpan elapsed, bool failed, bool log, bool measure)
    {
        var response = context.Response;
        var status = failed && !response.HasStarted ? 500 : response.StatusCode;
        var outcome = facts.ErrorCode
            ?? (context.RequestAborted.IsCancellationRequested && !facts.IsAnswered ? Cancelled
                : status < 400 ? Success : status < 500 ? "client_error" : "server_error");
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(unmatched)";
        var method = context.Request.Method;
        if (measure)
        {
            var tags = new TagList { { HttpRoute, route }, { TelemetryNames.HttpMethod, method }, { HttpStatus, Box(status) }, { Outcome, outcome } };
            if (facts.RequestedModel is { } requested) tags.Add(RequestModel, requested);
            if (telemetry.Requests.Enabled) telemetry.Requests.Add(1, tags);
            if (telemetry.RequestDuration.Enabled) telemetry.RequestDuration.Record(elapsed.TotalSeconds, tags);
        }
        var answered = Header(response, DurarHeaders.Model);
        int? attempts = int.TryParse(Header(response, DurarHeaders.Attempts), out var n) ? n : null;
        var span = Activity.Current;
        if (span is { IsAllDataRequested: true })
        {
            if (facts.RequestedModel is { } requested)
            {
                span.SetTag(OperationName, facts.Operation);
                span.SetTag(RequestModel, requested);
            }
            if (answered is not null) span.SetTag(ResponseModel, answered);
            if (attempts is { } tried) span.SetTag(Attempts, tried);
            span.SetTag(Outcome, outcome);
            if (facts.ErrorCode is { } code) span.SetTag(ErrorType, code);
        }
        if (log)
            LogRequest(logger, method, context.Request.Path.Value ?? "", status, elapsed.TotalMilliseconds, route, facts.RequestedModel, answered,
                attempts, outcome, TraceIdOf(context, span), context.TraceIdentifier);
    }

    /// <summary>The W3C trace id: the request's span, else the caller's <c>traceparent</c>; null when neither exists.</summary>
    private static string? TraceIdOf(HttpContext context, Activity? span)
    {
        if (span is not null) return span.TraceId.ToHexString();
        var parent = context.Request.Headers.TraceParent.ToString();
        return parent.Length > 0 && ActivityContext.TryParse(parent, null, out var caller) ? caller.TraceId.ToHexString() : null;
    }

    private static string? Header(HttpResponse response, string name) =>
        response.Headers.TryGetValue(name, out var value) && value.Count > 0 ? value.ToString() : null;

    private static object Box(int status) => (uint)status < (uint)BoxedStatus.Length ? BoxedStatus[status] : status;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, EventName = "http_request",
        Message = "{Method:l} {Path:l} answered {Status} in {DurationMs:0.0} ms (route {Route:l}, model {RequestedModel:l} -> {Model:l}, attempts {Attempts}, outcome {Outcome:l}, trace {TraceId:l}, request {RequestId:l})")]
    private static partial void LogRequest(ILogger logger, string method, string path, int status, double durationMs, string route,
        string? requestedModel, string? model, int? attempts, string outcome, string? traceId, string requestId);
}
