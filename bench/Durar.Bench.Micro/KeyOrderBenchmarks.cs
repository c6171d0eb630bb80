using System.Collections.Immutable;
using Akka.Actor;
using BenchmarkDotNet.Attributes;
using Durar.Actors.Catalog;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;

namespace Durar.Bench.Micro;

/// <summary>
/// KeyOrderPolicy.Pick: the one key-order function, run by the lease board on every request and by the provider actor on
/// every lease it decides (2 and 8 keys, the least recently used one cooling for the model).
/// </summary>
[MemoryDiagnoser]
public class KeyOrderBenchmarks
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private ImmutableArray<KeyEntry> _keys;
    private ImmutableArray<string> _explicit;

    [Params(2, 8)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _keys = [.. Enumerable.Range(0, Keys).Select(i =>
        {
            var entry = KeyEntry.New(ApiKeyCredential.For("bench", $"sk-bench-{i}", "BENCH_API_KEYS"), KeyLimits.None, ActorRefs.Nobody);
            return entry.WithHealth(i == 0
                ? KeyHealth.Healthy with { ModelCooldowns = KeyHealth.Healthy.ModelCooldowns.SetItem("m", Now.AddSeconds(30)), ErrorCount = 1 }
                : KeyHealth.Healthy with { LastUsed = Now.AddSeconds(-i) });
        })];
        _explicit = [.. _keys.Select(k => k.Id).Reverse()];
    }

    // The chosen key is returned (KeyPick is internal to Durar.Actors): enough for BenchmarkDotNet to keep the call.
    [Benchmark(Baseline = true)]
    public object? Pick_RoundRobin() => KeyOrderPolicy.Pick(_keys, [], "m", ImmutableHashSet<string>.Empty, null, Now).Chosen;

    [Benchmark]
    public object? Pick_Explicit() => KeyOrderPolicy.Pick(_keys, _explicit, "m", ImmutableHashSet<string>.Empty, null, Now).Chosen;
}
