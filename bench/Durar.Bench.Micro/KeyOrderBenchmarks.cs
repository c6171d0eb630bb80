using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using Durar.Actors.Providers;
using Durar.Actors.Providers.Messages;

namespace Durar.Bench.Micro;

/// <summary>KeyOrderPolicy.Order: runs in the provider actor on every lease (2 and 8 keys, one of them cooling).</summary>
[MemoryDiagnoser]
public class KeyOrderBenchmarks
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private KeyCandidate[] _keys = [];
    private ImmutableArray<string> _explicit;

    [Params(2, 8)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _keys = Enumerable.Range(0, Keys).Select(i => new KeyCandidate(
            $"bench:key-{i:x8}", "BENCH_API_KEYS", "api_key",
            i == 0
                ? KeyHealth.Healthy with { ModelCooldowns = KeyHealth.Healthy.ModelCooldowns.SetItem("m", Now.AddSeconds(30)), ErrorCount = 1 }
                : KeyHealth.Healthy with { LastUsed = Now.AddSeconds(-i) },
            Now.AddSeconds(-i))).ToArray();
        _explicit = [.. _keys.Select(k => k.KeyId).Reverse()];
    }

    [Benchmark(Baseline = true)]
    public ImmutableArray<KeyCandidate> Order_RoundRobin() => KeyOrderPolicy.Order(_keys, default, "m", Now);

    [Benchmark]
    public ImmutableArray<KeyCandidate> Order_Explicit() => KeyOrderPolicy.Order(_keys, _explicit, "m", Now);
}
