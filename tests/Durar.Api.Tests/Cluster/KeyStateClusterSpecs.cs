using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Durar.Actors.Hosting;
using Durar.Actors.Providers.Messages;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// Key state is one actor per key for the whole cluster: a 429 seen through one node makes the other nodes skip the key
/// within milliseconds (measured here), and a per-key rpm admits that many requests across all nodes, not that many per node.
/// </summary>
public sealed class KeyStateClusterSpecs(ITestOutputHelper output)
{
    private const string KeyA = "sk-cluster-key-aaaa";
    private const string KeyB = "sk-cluster-key-bbbb";


    private static IActorRef Providers(GatewayHarness node) => node.Services.GetRequiredService<ActorRegistry>().Get<ProvidersRegistryKey>();

    private static async Task<KeyStateView> KeyAsync(GatewayHarness node, string provider, string secretTail)
    {
        var view = await Providers(node).Ask<ProviderStateView>(new ProviderCommands.GetProviderState(provider), TimeSpan.FromSeconds(5));
        return view.Keys.Single(k => k.Masked == "…" + secretTail[^4..]);
    }

    private static async Task<HttpStatusCode> ChatAsync(GatewayHarness node, string model)
    {
        using var response = await node.Http.SendAsync(node.Post("v1/chat/completions",
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}"""));
        return response.StatusCode;
    }

    [Fact]
    public async Task Should_make_every_node_skip_a_key_within_milliseconds_of_a_429_seen_through_one_node()
    {
        var fake = await FakeProvider.StartAsync();
        var nodes = await InProcessCluster.StartAsync(fake, $$"""
            models { providers { clk { baseUrl = "{fake-openai}", api = "openai-completions", models = [{ id = "m" }] } } }
            env { CLK_API_KEYS = "{{KeyA}},{{KeyB}}" }
            agents { defaults { model { primary = "clk/m" } } }
            gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
            """);
        try
        {
            // Every node serves once, so every provider is attached to both key actors.
            foreach (var node in nodes) Assert.Equal(HttpStatusCode.OK, await ChatAsync(node, "clk/m"));

            var measured = new List<double>();
            for (var round = 0; round < 5; round++)
            {
                var origin = nodes[round % 3];
                var others = nodes.Where(n => n != origin).ToList();
                long sentAt = 0;
                fake.Script = r =>
                {
                    if (r.ApiKey != KeyA || Interlocked.Read(ref sentAt) != 0) return null;
                    Interlocked.Exchange(ref sentAt, Stopwatch.GetTimestamp());
                    return FakeResponse.RateLimited("30");
                };
                // The other nodes watch their own view of key A as tightly as an Ask allows (bounded: 10 s).
                var watchers = others.Select(node => Task.Run(async () =>
                {
                    var seen = await Eventually.Until(async () => ((await KeyAsync(node, "clk", KeyA)).State, At: Stopwatch.GetTimestamp()),
                        key => key.State == "cooling", $"{node.BaseUri} showing key A cooling", TimeSpan.FromSeconds(10), TimeSpan.Zero);
                    return seen.At;
                })).ToList();

                // Round-robin may pick key B first on the origin; a few requests reach key A.
                for (var i = 0; i < 4 && Interlocked.Read(ref sentAt) == 0; i++)
                    Assert.Equal(HttpStatusCode.OK, await ChatAsync(origin, "clk/m"));
                Assert.NotEqual(0, Interlocked.Read(ref sentAt));

                var seen = await Task.WhenAll(watchers);
                var ms = seen.Select(t => Stopwatch.GetElapsedTime(sentAt, t).TotalMilliseconds).ToList();
                measured.AddRange(ms);
                output.WriteLine($"round {round}: 429 sent by the upstream -> key cooling on the other nodes: {string.Join(", ", ms.Select(m => $"{m:F2} ms"))}");

                // And a request through another node now goes straight to key B.
                var before = fake.Requests.Count;
                Assert.Equal(HttpStatusCode.OK, await ChatAsync(others[0], "clk/m"));
                Assert.Equal([KeyB], fake.Requests.Skip(before).Select(r => r.ApiKey));

                fake.Script = null;
                var keyId = (await KeyAsync(origin, "clk", KeyA)).KeyId;
                using (var reset = await origin.Http.SendAsync(origin.Post($"v1/admin/keys/{Uri.EscapeDataString(keyId)}/reset", "{}")))
                    Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
                foreach (var node in nodes)
                    await Eventually.Until(() => KeyAsync(node, "clk", KeyA), key => key.State == "ready", $"the reset reaching {node.BaseUri}",
                        interval: TimeSpan.FromMilliseconds(5));
            }

            measured.Sort();
            output.WriteLine($"propagation over {measured.Count} observations: median {measured[measured.Count / 2]:F2} ms, max {measured[^1]:F2} ms");
            // Issue 5 asks for < 100 ms (the median below); single observations get room for a loaded machine (1.1 s was seen
            // at a load average of 60 on 2 cores), the figure above is the measurement.
            Assert.All(measured, m => Assert.True(m < 2500, $"propagation took {m:F1} ms"));
            Assert.True(measured[measured.Count / 2] < 100, $"median propagation {measured[measured.Count / 2]:F1} ms");
        }
        finally
        {
            foreach (var node in Enumerable.Reverse(nodes)) await node.DisposeAsync();
            await fake.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_admit_a_keys_rpm_across_the_cluster_not_per_node()
    {
        var fake = await FakeProvider.StartAsync();
        var nodes = await InProcessCluster.StartAsync(fake, """
            models { providers { clr { baseUrl = "{fake-openai}", apiKey = "sk-cluster-rpm-key1", api = "openai-completions", rpm = 5, models = [{ id = "m" }] } } }
            agents { defaults { model { primary = "clr/m" } } }
            gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 5s } }
            """);
        try
        {
            // 15 requests, concurrently, five through each node: the key's one actor admits 5 in all.
            var results = await Task.WhenAll(Enumerable.Range(0, 15).Select(i => ChatAsync(nodes[i % 3], "clr/m")));
            Assert.Equal(5, results.Count(s => s == HttpStatusCode.OK));
            Assert.Equal(10, results.Count(s => s == HttpStatusCode.TooManyRequests));
            Assert.Equal(5, fake.RequestCount);

            // Every node sees the key as limited until its minute frees (and says so).
            foreach (var node in nodes)
            {
                var key = await KeyAsync(node, "clr", "sk-cluster-rpm-key1");
                Assert.Equal("limited", key.State);
                Assert.NotNull(key.Until);
                Assert.InRange(key.Until!.Value, DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(61));
            }
            Assert.Equal(HttpStatusCode.TooManyRequests, await ChatAsync(nodes[2], "clr/m"));
            Assert.Equal(5, fake.RequestCount);
        }
        finally
        {
            foreach (var node in Enumerable.Reverse(nodes)) await node.DisposeAsync();
            await fake.DisposeAsync();
        }
    }
}
