using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Durar.Api.Tests.Durability;
using Durar.Testing;
using Xunit.Abstractions;

namespace Durar.Api.Tests.Telemetry;

/// <summary>
/// <c>--log-format json</c> on the real executable (a separate process, its stdout read line by line): every line it
/// writes is a JSON object, and each HTTP request leaves one Information line with its route, model, attempts, status,
/// duration and trace id: the caller's <c>traceparent</c>, and the request span's when traces are exported.
/// </summary>
public sealed class JsonLogSpecs(ITestOutputHelper output)
{
    private const string KeyA = "sk-jsonlog-aaaa";
    private const string KeyB = "sk-jsonlog-bbbb";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    private static string Config(string fake) => $$"""
        models { providers { jlog { baseUrl = "{{fake}}", api = "openai-completions", models = [{ id = "m1" }] } } }
        env { JLOG_API_KEYS = "{{KeyA}},{{KeyB}}" }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    private async Task<(JsonElement Line, IReadOnlyList<string> All, string TraceId)> RunAsync(IReadOnlyList<string> args,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        await using var fake = await FakeProvider.StartAsync();
        fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited() : new FakeResponse { Text = "logged" };
        var root = Directory.CreateTempSubdirectory("durar-jsonlog-").FullName;
        var log = new GatewayLog();
        try
        {
            var configPath = Path.Combine(root, "gateway.conf");
            await File.WriteAllTextAsync(configPath, Config(fake.OpenAiBaseUrl));
            await using var gw = await GatewayProcess.StartAsync("gw", configPath, Path.Combine(root, "data"), root, log, ReadyTimeout, args,
                environment: environment);

            var traceId = ActivityTraceId.CreateRandom().ToHexString();
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
            {
                Content = new StringContent("""{"model":"jlog/m1","messages":[{"role":"user","content":"hi"}]}"""),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            using var response = await gw.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            // The line is written when the request completes, by the logger's background worker.
            await Eventually.Until(() => log.TextsFrom("gw").Any(l => l.Contains(traceId, StringComparison.Ordinal)),
                "the request's log line", TimeSpan.FromSeconds(10));
            var lines = log.TextsFrom("gw");
            var line = lines.Select(Parse).Single(j => j.TryGetProperty("TraceId", out var t) && t.GetString() == traceId);
            return (line, lines, traceId);
        }
        finally
        {
            output.WriteLine(log.Tail(60));
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    private static JsonElement Parse(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            Assert.True(doc.RootElement.TryGetProperty("@t", out _), $"no @t timestamp: {line}");
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"a log line is not JSON ({e.Message}): {line}");
        }
    }

    [Fact]
    public async Task Should_write_json_lines_and_one_request_line_with_the_callers_trace_id()
    {
        var (line, all, _) = await RunAsync(["--log-format", "json"]);

        // A healthy start says little (Akka's own lines are at Debug), but what it says is JSON too: the ready banner.
        Assert.True(all.Count >= 3, $"expected the start-up lines too, got {all.Count}");
        Assert.All(all, l => Parse(l));
        Assert.Contains(all, l => Parse(l).TryGetProperty("EventId", out var id) && id.GetProperty("Name").GetString() == "gateway_ready");
        Assert.False(line.TryGetProperty("@l", out _), "the request line is at Information (no @l)");
        Assert.Equal("http_request", line.GetProperty("EventId").GetProperty("Name").GetString());
        Assert.Equal("POST", line.GetProperty("Method").GetString());
        Assert.Equal("/v1/chat/completions", line.GetProperty("Route").GetString());
        Assert.Equal(200, line.GetProperty("Status").GetInt32());
        Assert.Equal("jlog/m1", line.GetProperty("RequestedModel").GetString());
        Assert.Equal("jlog/m1", line.GetProperty("Model").GetString());
        Assert.Equal(2, line.GetProperty("Attempts").GetInt32());
        Assert.Equal("success", line.GetProperty("Outcome").GetString());
        Assert.True(line.GetProperty("DurationMs").GetDouble() > 0);
        Assert.StartsWith("POST /v1/chat/completions answered 200", line.GetProperty("@m").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_carry_the_request_spans_trace_id_when_traces_are_exported()
    {
        // An OTLP endpoint nobody listens on: spans are recorded (and their export fails quietly in the background).
        var (line, _, traceId) = await RunAsync([], new Dictionary<string, string>
        {
            ["DURAR_LOG_FORMAT"] = "json",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{GatewayProcess.FreePort()}",
        });

        // Serilog's own trace and span ids come from the request's span, which continued the caller's trace.
        Assert.Equal(traceId, line.GetProperty("@tr").GetString());
        Assert.Matches("^[0-9a-f]{16}$", line.GetProperty("@sp").GetString()!);
    }
}
