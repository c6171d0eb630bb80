using System.Collections.Immutable;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using BenchmarkDotNet.Attributes;
using Durar.Actors.Chat;

namespace Durar.Bench.Micro;

/// <summary>
/// What carrying a stream's events through Akka.Streams costs, per response, against reading the transport's async
/// stream directly: ChatRunner.StreamAsync did <c>Source.From(() => transport.StreamAsync(..)).RunAsAsyncEnumerable(materializer)</c>
/// for every streamed request (a materialization, an interpreter actor, and a hand-off per element) until issue 6; it now
/// reads the async stream directly. Kept as the reference for that decision. The events are the 20-chunk answer (20 text
/// deltas, finish, usage), produced in memory so only the bridge is measured.
/// </summary>
[MemoryDiagnoser]
public class StreamBridgeBenchmarks
{
    private ActorSystem _system = null!;
    private IMaterializer _materializer = null!;
    private ImmutableArray<ChatEvent> _events;

    [Params(20)]
    public int Chunks { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench", "akka.loglevel = WARNING");
        _materializer = _system.Materializer();
        _events = Fixtures.Events(Chunks);
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    /// <summary>The async stream read directly (what the transport yields, no bridge).</summary>
    [Benchmark(Baseline = true)]
    public async Task<int> Direct()
    {
        var n = 0;
        await foreach (var e in AsyncList.Of(_events)) n++;
        return n;
    }

    /// <summary>The same stream through Source.From(..).RunAsAsyncEnumerable(materializer), as ChatRunner did.</summary>
    [Benchmark]
    public async Task<int> ThroughAkkaStreams()
    {
        var n = 0;
        await foreach (var e in Source.From(() => AsyncList.Of(_events)).RunAsAsyncEnumerable(_materializer)) n++;
        return n;
    }
}
