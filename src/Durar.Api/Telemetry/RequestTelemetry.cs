using System.Collections.Concurrent;
using System.Diagnostics;
using Durar.Actors.Configuration;
using Durar.Actors.Telemetry;
using Durar.Api.Apis;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;
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
/// <para>
/// The log line is written straight to the gateway's Serilog logger (<see cref="RequestLogLine"/>), not through
/// Microsoft.Extensions.Logging's bridge: the same event (template, properties and their order, event id, source context,
/// trace and span ids), without the bridge's boxed state, its enumeration and a template lookup per request.
/// </para>
/// </remarks>
internal sealed class RequestTelemetry(DurarTelemetry telemetry, TelemetrySettings settings, Serilog.ILogger logger)
{
    private static readonly object[] BoxedStatus = Enumerable.Range(0, 600).Select(i => (object)i).ToArray();

    private readonly Serilog.ILogger _log = logger.ForContext(Constants.SourceContextPropertyName, typeof(RequestTelemetry).FullName);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var log = settings.RequestLog && _log.IsEnabled(LogEventLevel.Information);
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
            _log.Write(RequestLogLine.Create(method, context.Request.Path.Value ?? "", status, elapsed.TotalMilliseconds, route, facts.RequestedModel,
                answered, attempts, outcome, TraceIdOf(context, span), context.TraceIdentifier, span));
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
}

/// <summary>
/// The request log line as a Serilog event: event id 1 <c>http_request</c>, at Information, with the message template below and
/// one property per placeholder in the template's order, then the event id (what Microsoft.Extensions.Logging's
/// <c>[LoggerMessage]</c> through Serilog's bridge wrote, so the text and JSON lines are unchanged). The template is parsed
/// once; the values that repeat (status, attempts, method, route, outcome, null) are shared, not allocated per line.
/// </summary>
internal static class RequestLogLine
{
    public const string Text = "{Method:l} {Path:l} answered {Status} in {DurationMs:0.0} ms (route {Route:l}, model {RequestedModel:l} -> {Model:l}, "
        + "attempts {Attempts}, outcome {Outcome:l}, trace {TraceId:l}, request {RequestId:l})";

    private static readonly MessageTemplate Template = new MessageTemplateParser().Parse(Text);

    private static readonly StructureValue EventId =
        new([new LogEventProperty("Id", new ScalarValue(1)), new LogEventProperty("Name", new ScalarValue("http_request"))]);

    private static readonly ScalarValue[] Statuses = Enumerable.Range(0, 600).Select(i => new ScalarValue(i)).ToArray();
    private static readonly ScalarValue[] SmallCounts = Enumerable.Range(0, 16).Select(i => new ScalarValue(i)).ToArray();

    // Routes are the endpoints' patterns (a fixed set); outcomes the error codes and the four outcome names (a fixed set).
    private static readonly ConcurrentDictionary<string, ScalarValue> Shared = new(StringComparer.Ordinal);
    private const int SharedLimit = 256;

    /// <summary>13: the 11 placeholders, the event id and the source context the logger adds.</summary>
    private const int Properties = 13;

    public static LogEvent Create(string method, string path, int status, double durationMs, string route, string? requestedModel, string? model,
        int? attempts, string outcome, string? traceId, string requestId, Activity? span)
    {
        var properties = new Dictionary<string, LogEventPropertyValue>(Properties)
        {
            ["Method"] = Method(method),
            ["Path"] = new ScalarValue(path),
            ["Status"] = (uint)status < (uint)Statuses.Length ? Statuses[status] : new ScalarValue(status),
            ["DurationMs"] = new ScalarValue(durationMs),
            ["Route"] = SharedValue(route),
            ["RequestedModel"] = Str(requestedModel),
            ["Model"] = Str(model),
            ["Attempts"] = attempts is not { } n ? ScalarValue.Null : (uint)n < (uint)SmallCounts.Length ? SmallCounts[n] : new ScalarValue(n),
            ["Outcome"] = SharedValue(outcome),
            ["TraceId"] = Str(traceId),
            ["RequestId"] = new ScalarValue(requestId),
            ["EventId"] = EventId,
        };
        return LogEvent.UnstableAssembleFromParts(DateTimeOffset.Now, LogEventLevel.Information, null, Template, properties,
            span?.TraceId ?? default, span?.SpanId ?? default);
    }

    private static ScalarValue Str(string? value) => value is null ? ScalarValue.Null : new ScalarValue(value);

    private static ScalarValue Method(string method) =>
        ReferenceEquals(method, HttpMethods.Post) ? Post : ReferenceEquals(method, HttpMethods.Get) ? Get : new ScalarValue(method);

    private static readonly ScalarValue Post = new(HttpMethods.Post), Get = new(HttpMethods.Get);

    private static ScalarValue SharedValue(string value)
    {
        if (Shared.TryGetValue(value, out var shared)) return shared;
        var fresh = new ScalarValue(value);
        return Shared.Count < SharedLimit ? Shared.GetOrAdd(value, fresh) : fresh;
    }
}
