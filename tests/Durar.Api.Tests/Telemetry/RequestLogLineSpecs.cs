using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Api.Telemetry;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Core;
using Serilog.Extensions.Logging;
using MelLogger = Microsoft.Extensions.Logging.ILogger;

namespace Durar.Api.Tests.Telemetry;

/// <summary>
/// The request log line (<see cref="RequestLogLine"/>, written straight to the gateway's Serilog pipeline) is the line the
/// gateway wrote before through Microsoft.Extensions.Logging's <c>[LoggerMessage]</c> and Serilog's bridge: the same text,
/// and the same JSON object (every property in the same order, the event id, the source context, the trace and span ids),
/// with nulls and with a span.
/// </summary>
public sealed partial class RequestLogLineSpecs
{
    private const string Category = "Durar.Api.Telemetry.RequestTelemetry";

    public static TheoryData<bool, bool> Formats => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Should_write_the_line_the_logging_bridge_wrote(bool json, bool withSpan)
    {
        using var span = withSpan ? new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start() : null;
        // With a span: every value set; without: the nulls a refused request leaves (no model, no attempts, no trace).
        var values = withSpan
            ? new Line("POST", "/v1/chat/completions", 200, 12.3456, "/v1/chat/completions", "bench/m", "bench/m", 2, "success",
                span!.TraceId.ToHexString(), "0HNABC:00000001")
            : new Line("PUT", "/nothing/here", 404, 0.04, "(unmatched)", null, null, null, "client_error", null, "0HNABC:00000002");

        var direct = Written(json, log => log.ForContext(Constants.SourceContextPropertyName, Category).Write(RequestLogLine.Create(values.Method,
            values.Path, values.Status, values.DurationMs, values.Route, values.RequestedModel, values.Model, values.Attempts, values.Outcome,
            values.TraceId, values.RequestId, Activity.Current)));
        var bridged = Written(json, log =>
        {
            using var factory = new SerilogLoggerFactory(log);
            LogRequest(factory.CreateLogger(Category), values.Method, values.Path, values.Status, values.DurationMs, values.Route,
                values.RequestedModel, values.Model, values.Attempts, values.Outcome, values.TraceId, values.RequestId);
        });

        Assert.Equal(bridged, direct);
        Assert.Contains(withSpan ? "POST /v1/chat/completions answered 200 in 12.3 ms (route /v1/chat/completions, model bench/m -> bench/m, attempts 2"
            : "PUT /nothing/here answered 404 in 0.0 ms (route (unmatched), model null -> null, attempts null, outcome client_error, trace null",
            direct, StringComparison.Ordinal);
        if (!json) return;
        var line = JsonNode.Parse(direct)!.AsObject();
        Assert.Equal(withSpan, line.ContainsKey("@tr"));
        string[] keys = ["@m", "@i", .. withSpan ? new[] { "@tr", "@sp" } : [], "Method", "Path", "Status", "DurationMs", "Route", "RequestedModel",
            "Model", "Attempts", "Outcome", "TraceId", "RequestId", "EventId", "SourceContext"];
        Assert.Equal(keys, line.Select(p => p.Key).ToArray());
        Assert.Equal("http_request", line["EventId"]!["Name"]!.GetValue<string>());
    }

    private sealed record Line(string Method, string Path, int Status, double DurationMs, string Route, string? RequestedModel, string? Model,
        int? Attempts, string Outcome, string? TraceId, string RequestId);

    /// <summary>The one line <paramref name="write"/> logs through the gateway's redirected pipeline, without its time stamp.</summary>
    private static string Written(bool json, Action<Serilog.ILogger> write)
    {
        var output = new MemoryStream();
        var log = GatewayLogging.Configure(new LoggerConfiguration(), json, output).CreateLogger();
        write(log);
        log.Dispose();
        var line = Assert.Single(Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        if (!json)
        {
            Assert.Matches(@"^\[\d\d:\d\d:\d\d INF\] ", line);
            return "[" + line[10..];
        }
        var o = JsonNode.Parse(line)!.AsObject();
        Assert.True(o.Remove("@t"), $"no @t: {line}");
        return o.ToJsonString(Relaxed);
    }

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // The line as the gateway declared it before (RequestTelemetry, up to 2026-12-07).
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, EventName = "http_request",
        Message = "{Method:l} {Path:l} answered {Status} in {DurationMs:0.0} ms (route {Route:l}, model {RequestedModel:l} -> {Model:l}, attempts {Attempts}, outcome {Outcome:l}, trace {TraceId:l}, request {RequestId:l})")]
    private static partial void LogRequest(MelLogger logger, string method, string path, int status, double durationMs, string route,
        string? requestedModel, string? model, int? attempts, string outcome, string? traceId, string requestId);
}
