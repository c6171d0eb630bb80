using Akka.Hosting;
using BenchmarkDotNet.Attributes;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.Models;
using Durar.Actors.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Durar.Actors.Chat;
using Durar.Actors.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Durar.Bench.Micro;

/// <summary>
/// One whole request through <see cref="ChatRunner"/> with the production wiring (<c>AddDurarCore</c>, the provider and key
/// actors with an in-memory journal, the key lease Ask, the upstream HttpClient from the factory), and the upstream answered
/// in memory: what the gateway adds around the transport, without sockets, Kestrel or the response writing.
/// </summary>
/// <remarks>
/// <see cref="Telemetry"/> runs each case with nobody listening (<c>off</c>, the cost every request pays), with the
/// OpenTelemetry SDK collecting the meter "Durar" (<c>metrics</c>, what <c>gateway.telemetry.metrics = on</c> costs), and
/// with spans recorded too (<c>metrics+traces</c>, what an OTLP endpoint adds; spans go to a processor that drops them).
/// </remarks>
[MemoryDiagnoser]
public class RunnerBenchmarks
{
    [Params("off", "metrics", "metrics+traces")]
    public string Telemetry { get; set; } = "off";

    private MeterProvider? _meters;
    private TracerProvider? _tracer;
    private IHost _host = null!;
    private ChatRunner _runner = null!;
    private RunPlan _plan = null!;
    private readonly ChatRequest _complete = Fixtures.Request;
    private readonly ChatRequest _stream = Fixtures.Request with { Stream = true };

    [GlobalSetup]
    public void Setup()
    {
        if (Telemetry.StartsWith("metrics", StringComparison.Ordinal))
            _meters = Sdk.CreateMeterProviderBuilder().AddMeter(TelemetryNames.Source).AddInMemoryExporter(new List<Metric>()).Build();
        if (Telemetry.EndsWith("traces", StringComparison.Ordinal))
            _tracer = Sdk.CreateTracerProviderBuilder().AddSource(TelemetryNames.Source).AddProcessor(new DroppingProcessor()).Build();
        var config = DurarSettingsLoader.FromText("""
            models { providers { bench { baseUrl = "http://127.0.0.1:9/v1", apiKey = "sk-bench", api = "openai-completions", models = [{ id = "m" }] } } }
            """);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddDurarCore(config);
        builder.Services.AddHttpClient("durar-upstream").ConfigurePrimaryHttpMessageHandler(() => new CannedByAcceptHandler(
            Fixtures.CompletionBody, Fixtures.SseBody(20)));
        builder.Services.AddAkka("bench", (akka, _) =>
        {
            akka.AddHocon("""
                akka.loglevel = WARNING
                akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
                akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
                """, HoconAddMode.Prepend);
            akka.WithDurarActors();
        });
        _host = builder.Build();
        _host.StartAsync().GetAwaiter().GetResult();
        _runner = _host.Services.GetRequiredService<ChatRunner>();
        _plan = RunPlanner.Plan(_host.Services.GetRequiredService<ModelResolver>(), "bench/m", null);
        // The first lease creates the key actors and recovers them: not part of a request.
        if (Complete().GetAwaiter().GetResult() is null) throw new InvalidOperationException("the warm-up request failed");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _host.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
        _meters?.Dispose();
        _tracer?.Dispose();
    }

    /// <summary>Non-streaming: lease, upstream call (in memory), outcome report.</summary>
    [Benchmark]
    public async Task<string?> Complete()
    {
        var result = await _runner.CompleteAsync(_plan, _complete, CancellationToken.None);
        return result.Value?.Completion.Text;
    }

    /// <summary>Streaming, 20 chunks: lease, upstream SSE (in memory), every event read, outcome report.</summary>
    [Benchmark]
    public async Task<int> Stream()
    {
        var result = await _runner.StreamAsync(_plan, _stream, CancellationToken.None);
        var n = 0;
        await foreach (var _ in result.Value!.Events) n++;
        return n;
    }

    /// <summary>Receives every ended span and keeps none: the cost of recording spans without an exporter's.</summary>
    private sealed class DroppingProcessor : BaseProcessor<System.Diagnostics.Activity>;
}

/// <summary>Answers SSE requests (<c>Accept: text/event-stream</c>) with <paramref name="sse"/>, others with <paramref name="json"/>.</summary>
public sealed class CannedByAcceptHandler(byte[] json, byte[] sse) : HttpMessageHandler
{
    private readonly CannedHandler _json = new(json, "application/json");
    private readonly CannedHandler _sse = new(sse, "text/event-stream");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        request.Headers.Accept.Any(a => a.MediaType == "text/event-stream")
            ? _sse.Answer(request)
            : _json.Answer(request);
}
