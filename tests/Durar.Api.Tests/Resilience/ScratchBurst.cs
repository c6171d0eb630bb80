using System.Diagnostics;
using Durar.Testing;
using Xunit.Abstractions;
using static Durar.Api.Tests.Resilience.ResilienceClient;
namespace Durar.Api.Tests.Resilience;
public sealed class ScratchBurst(ITestOutputHelper output)
{
    [Theory]
    [InlineData("ok")]
    [InlineData("429")]
    [InlineData("503")]
    [InlineData("latency")]
    [InlineData("stall")]
    [InlineData("cut")]
    public async Task Should_burst(string fault)
    {
        await using var gw = await GatewayHarness.StartAsync(Provider("bur", "m1", "sk-burst-aaaa") + Provider("bur2", "m2", "sk-burst-bbbb") + FastFailover + """
          gateway { cloudIdleTimeout = 500ms, localIdleTimeout = 500ms }
          auth { cooldowns { schedule = [250ms, 500ms, 1s] } }
        """);
        var n = 0;
        gw.Fake.Script = r => Interlocked.Increment(ref n) % 4 != 0 || r.Model == "m2" ? null : fault switch
        {
            "429" => FakeResponse.RateLimited("1"),
            "503" => FakeResponse.Overloaded(),
            "latency" => new FakeResponse { Latency = TimeSpan.FromMilliseconds(800) },
            "stall" => new FakeResponse { StallAfterChunks = 0 },
            "cut" => new FakeResponse { CutAfterChunks = 0 },
            _ => null,
        };
        for (var round = 0; round < 3; round++)
        {
        var sw = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => gw.ChatAsync("bur/m1", ["bur2/m2"], stream: i % 2 == 0)));
        output.WriteLine($"{fault} round {round}: total {sw.ElapsedMilliseconds} ms, max {results.Max(r => r.Elapsed.TotalMilliseconds):0}, statuses {string.Join(",", results.Select(r => (int)r.Status).Distinct())}, threads {ThreadPool.ThreadCount}, pending {ThreadPool.PendingWorkItemCount}");
        }
    }
}
