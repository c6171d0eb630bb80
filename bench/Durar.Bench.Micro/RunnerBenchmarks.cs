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

namespace Durar.Bench.Micro;

/// <summary>
/// One whole request through <see cref="ChatRunner"/> with the production wiring (<c>AddDurarCore</c>, the provider and key
/// actors with an in-memory journal, the key lease Ask, the upstream HttpClient from the factory), and the upstream answered
/// in memory: what the gateway adds around the transport, without sockets, Kestrel or the response writing.
/// </summary>
[MemoryDiagnoser]
public class RunnerBenchmarks
{
    private IHost _host = null!;
    private ChatRunner _runner = null!;
    private RunPlan _plan = null!;
    private readonly ChatRequest _complete = Fixtures.Request;
    private readonly ChatRequest _stream = Fixtures.Request with { Stream = true };

    [GlobalSetup]
    public void Setup()
    {
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
