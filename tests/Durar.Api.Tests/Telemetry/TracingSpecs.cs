using System.Collections;
using System.Diagnostics;
using System.Net;
using Durar.Actors.Telemetry;
using Durar.Api.Telemetry;
using Durar.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Telemetry;

/// <summary>
/// Traces through the real gateway, exported to OpenTelemetry's in-memory exporter with the gateway's own tracing wiring
/// (<see cref="GatewayTelemetry.ConfigureTracing"/>): a request continues the caller's trace with one server span (route,
/// requested model, attempts, outcome) and one child span per attempt carrying the GenAI attributes, the key, and for a
/// failed attempt its error type and failover step. Each request sends its own <c>traceparent</c>, so the spans of other
/// gateways in the process (specs run in parallel) are told apart by trace id.
/// </summary>
public sealed class TracingSpecs : IDisposable
{
    private const string KeyA = "sk-trace-aaaa";
    private const string KeyB = "sk-trace-bbbb";

    private readonly LockedList<Activity> _spans = new();
    private readonly TracerProvider _tracing;

    public TracingSpecs() =>
        _tracing = GatewayTelemetry.ConfigureTracing(Sdk.CreateTracerProviderBuilder()).AddInMemoryExporter(_spans).Build()!;

    public void Dispose() => _tracing.Dispose();

    private static string TwoKeys(string id) => $$"""
        models { providers { {{id}} { baseUrl = "{fake-openai}", api = "openai-completions", models = [{ id = "m1", cost = { input = 3, output = 15 } }] } } }
        env { {{id.ToUpperInvariant()}}_API_KEYS = "{{KeyA}},{{KeyB}}" }
        """ + "\n" + FastFailover;

    private async Task<(Activity Request, IReadOnlyList<Activity> Attempts)> SendTracedAsync(GatewayHarness gw, string model, bool stream)
    {
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var request = gw.Post("v1/chat/completions", Body(model, stream: stream));
        request.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{callerSpan.ToHexString()}-01");
        var reply = await gw.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, reply.Status);

        // The server span ends with the response, just after the client has read it: poll for it.
        var spans = await Eventually.Until(() => Task.FromResult(_spans.Where(s => s.TraceId == traceId).ToList()),
            s => s.Any(a => a.Kind == ActivityKind.Server), "the request's server span", TimeSpan.FromSeconds(10));
        var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        Assert.Equal(callerSpan, server.ParentSpanId);
        var attempts = spans.Where(s => s.Source.Name == TelemetryNames.Source).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.All(attempts, a => Assert.Equal(server.SpanId, a.ParentSpanId));
        Assert.Equal(spans.Count, attempts.Count + 1);
        return (server, attempts);
    }

    [Fact]
    public async Task Should_trace_a_request_with_one_child_span_per_attempt_carrying_the_genai_attributes()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoKeys("trc1"));
        gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited() : new FakeResponse { Text = "traced", PromptTokens = 12, CompletionTokens = 3 };
        var keyA = (await gw.KeyAsync("trc1", KeyA)).GetProperty("id").GetString();
        var keyB = (await gw.KeyAsync("trc1", KeyB)).GetProperty("id").GetString();

        var (server, attempts) = await SendTracedAsync(gw, "trc1/m1", stream: false);

        Assert.Equal("/v1/chat/completions", server.GetTagItem("http.route"));
        Assert.Equal(200, server.GetTagItem("http.response.status_code"));
        Assert.Equal("chat", server.GetTagItem(TelemetryNames.OperationName));
        Assert.Equal("trc1/m1", server.GetTagItem(TelemetryNames.RequestModel));
        Assert.Equal("trc1/m1", server.GetTagItem(TelemetryNames.ResponseModel));
        Assert.Equal(2, server.GetTagItem(TelemetryNames.Attempts));
        Assert.Equal("success", server.GetTagItem(TelemetryNames.Outcome));

        Assert.Equal(2, attempts.Count);
        var (failed, answered) = (attempts[0], attempts[1]);
        foreach (var a in attempts)
        {
            Assert.Equal(ActivityKind.Client, a.Kind);
            Assert.Equal("chat trc1/m1", a.DisplayName);
            Assert.Equal("chat", a.GetTagItem(TelemetryNames.OperationName));
            Assert.Equal("trc1", a.GetTagItem(TelemetryNames.ProviderName));
            Assert.Equal("m1", a.GetTagItem(TelemetryNames.RequestModel));
        }
        Assert.Equal(keyA, failed.GetTagItem(TelemetryNames.KeyId));
        Assert.Equal(1, failed.GetTagItem(TelemetryNames.AttemptNumber));
        Assert.Equal("rate_limit", failed.GetTagItem(TelemetryNames.ErrorType));
        Assert.Equal("rate_limit", failed.GetTagItem(TelemetryNames.Reason));
        Assert.Equal("next_key", failed.GetTagItem(TelemetryNames.FailoverStep));
        Assert.Equal(429, failed.GetTagItem(TelemetryNames.HttpStatus));
        Assert.Equal(ActivityStatusCode.Error, failed.Status);

        Assert.Equal(keyB, answered.GetTagItem(TelemetryNames.KeyId));
        Assert.Equal(2, answered.GetTagItem(TelemetryNames.AttemptNumber));
        Assert.Equal("m1", answered.GetTagItem(TelemetryNames.ResponseModel));
        Assert.Equal(12L, answered.GetTagItem(TelemetryNames.InputTokens));
        Assert.Equal(3L, answered.GetTagItem(TelemetryNames.OutputTokens));
        Assert.Equal("success", answered.GetTagItem(TelemetryNames.Outcome));
        Assert.Null(answered.GetTagItem(TelemetryNames.ErrorType));
        Assert.NotEqual(ActivityStatusCode.Error, answered.Status);
        Assert.True(failed.StartTimeUtc + failed.Duration <= answered.StartTimeUtc + TimeSpan.FromMilliseconds(1), "the attempts run one after the other");
    }

    [Fact]
    public async Task Should_end_a_streamed_attempt_span_with_the_stream_and_its_usage()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoKeys("trc2"));
        gw.Fake.Script = _ => new FakeResponse { Text = "one two three", PromptTokens = 7, CompletionTokens = 3 };

        var (server, attempts) = await SendTracedAsync(gw, "trc2/m1", stream: true);

        var attempt = Assert.Single(attempts);
        Assert.Equal(7L, attempt.GetTagItem(TelemetryNames.InputTokens));
        Assert.Equal(3L, attempt.GetTagItem(TelemetryNames.OutputTokens));
        Assert.Equal("success", attempt.GetTagItem(TelemetryNames.Outcome));
        Assert.Equal(1, server.GetTagItem(TelemetryNames.Attempts));
        Assert.True(attempt.StartTimeUtc + attempt.Duration <= server.StartTimeUtc + server.Duration, "the attempt ends inside the request");
    }

    [Fact]
    public async Task Should_open_a_run_span_for_a_run_outside_any_request_span()
    {
        await using var gw = await GatewayHarness.StartAsync(TwoKeys("trc3"));
        gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited() : new FakeResponse { Text = "embedded" };
        var chat = gw.Services.GetRequiredService<IChatClient>();
        Assert.Null(Activity.Current);

        var answer = await chat.GetResponseAsync("hi", new ChatOptions { ModelId = "trc3/m1" });

        Assert.Equal("embedded", answer.Text);
        var run = await Eventually.Until(
            () => Task.FromResult(_spans.Where(s => s.Kind == ActivityKind.Internal && Equals(s.GetTagItem(TelemetryNames.ProviderName), "trc3")).ToList()),
            s => s.Count == 1, "the run's span", TimeSpan.FromSeconds(10));
        var root = run[0];
        Assert.Equal(default, root.ParentSpanId);
        Assert.Equal("chat trc3/m1", root.DisplayName);
        Assert.Equal("success", root.GetTagItem(TelemetryNames.Outcome));
        var attempts = _spans.Where(s => s.TraceId == root.TraceId && s.Kind == ActivityKind.Client).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.Equal(root.SpanId, a.ParentSpanId));
    }

    [Fact]
    public async Task Should_trace_an_embeddings_request_as_the_embeddings_operation()
    {
        await using var gw = await GatewayHarness.StartAsync($$"""
            models { providers { trc4 { baseUrl = "{fake-openai}", api = "openai-completions", models = [{ id = "e1", kind = "embedding" }] } } }
            env { TRC4_API_KEYS = "{{KeyA}},{{KeyB}}" }
            """ + "\n" + FastFailover);
        gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited() : new FakeResponse { PromptTokens = 4 };
        var traceId = ActivityTraceId.CreateRandom();
        using var request = gw.Post("v1/embeddings", """{"model":"trc4/e1","input":["traced text"]}""");
        request.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

        var reply = await gw.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var spans = await Eventually.Until(() => Task.FromResult(_spans.Where(s => s.TraceId == traceId).ToList()),
            s => s.Any(a => a.Kind == ActivityKind.Server), "the request's server span", TimeSpan.FromSeconds(10));
        var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        Assert.Equal(("/v1/embeddings", "embeddings", "trc4/e1"),
            (server.GetTagItem("http.route"), server.GetTagItem(TelemetryNames.OperationName), server.GetTagItem(TelemetryNames.RequestModel)));
        var attempts = spans.Where(s => s.Source.Name == TelemetryNames.Source).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(2, attempts.Count); // a rate limit on the first key, then the answer: the run's failover, traced as for chat
        Assert.All(attempts, a => Assert.Equal(("embeddings trc4/e1", "embeddings", server.SpanId),
            (a.DisplayName, a.GetTagItem(TelemetryNames.OperationName), a.ParentSpanId)));
        Assert.Equal("next_key", attempts[0].GetTagItem(TelemetryNames.FailoverStep));
        Assert.Equal(("success", 4L), (attempts[1].GetTagItem(TelemetryNames.Outcome), attempts[1].GetTagItem(TelemetryNames.InputTokens)));
    }

    /// <summary>The exporter's collection: gateways of other specs end spans on other threads at the same time.</summary>
    private sealed class LockedList<T> : ICollection<T>
    {
        private readonly List<T> _items = [];
        private readonly Lock _gate = new();

        public int Count { get { lock (_gate) return _items.Count; } }
        public bool IsReadOnly => false;
        public void Add(T item) { lock (_gate) _items.Add(item); }
        public void Clear() { lock (_gate) _items.Clear(); }
        public bool Contains(T item) { lock (_gate) return _items.Contains(item); }
        public void CopyTo(T[] array, int arrayIndex) { lock (_gate) _items.CopyTo(array, arrayIndex); }
        public bool Remove(T item) { lock (_gate) return _items.Remove(item); }
        public IEnumerator<T> GetEnumerator() { lock (_gate) return _items.ToList().GetEnumerator(); }
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
