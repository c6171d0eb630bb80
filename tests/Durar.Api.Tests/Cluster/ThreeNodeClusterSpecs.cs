using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// Three gateways (separate ActorSystems with their own loopback ports) form one Akka cluster: sessions spread over the
/// nodes, and any node's HTTP endpoint reaches any session with one consistent transcript.
/// </summary>
public sealed class ThreeNodeClusterSpecs
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Should_spread_sessions_over_three_nodes_and_serve_each_from_any_node()
    {
        var fake = await FakeProvider.StartAsync();
        var dataDir = Directory.CreateTempSubdirectory("durar-cluster-").FullName;
        var ports = new[] { FreePort(), FreePort(), FreePort() };
        var seed = $"akka.tcp://durar@127.0.0.1:{ports[0]}";
        var nodes = new List<GatewayHarness>();
        try
        {
            foreach (var port in ports)
                nodes.Add(await GatewayHarness.StartAsync("""
                    models { providers { clu { baseUrl = "{fake-openai}", apiKey = "sk-cluster-1", api = "openai-completions", models = [{ id = "m" }] } } }
                    agents { defaults { model { primary = "clu/m" } } }
                    """ + $$"""
                    gateway { cluster { port = {{port}}, seedNodes = ["{{seed}}"] } }
                    """, fake, dataDir));

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            JsonElement cluster;
            do
            {
                cluster = JsonDocument.Parse(await nodes[0].Http.GetStringAsync("v1/admin/cluster")).RootElement.Clone();
                if (cluster.GetProperty("members").EnumerateArray().Count(m => m.GetProperty("status").GetString() == "up") == 3) break;
                await Task.Delay(200);
            } while (DateTime.UtcNow < deadline);
            Assert.Equal(3, cluster.GetProperty("members").EnumerateArray().Count(m => m.GetProperty("status").GetString() == "up"));

            const int sessions = 12;
            for (var turn = 0; turn < 2; turn++)
                for (var s = 0; s < sessions; s++)
                {
                    var node = nodes[(s + turn) % 3]; // each turn of a session through a different node
                    using var response = await node.Http.SendAsync(node.Post($"v1/sessions/cl-{s}/messages", $$"""{"content":"turn {{turn}} of {{s}}"}"""));
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }

            for (var s = 0; s < sessions; s++)
            {
                var transcripts = new List<string>();
                foreach (var node in nodes)
                    transcripts.Add(await node.Http.GetStringAsync($"v1/sessions/cl-{s}/messages"));
                Assert.All(transcripts, t => Assert.Equal(transcripts[0], t));
                Assert.Equal(4, JsonDocument.Parse(transcripts[0]).RootElement.GetProperty("total").GetInt32());
            }

            var shards = JsonDocument.Parse(await nodes[1].Http.GetStringAsync("v1/admin/cluster")).RootElement.GetProperty("shards");
            var holders = shards.EnumerateObject().Count(n => n.Value.GetProperty("sessions").GetInt32() > 0);
            Assert.True(holders >= 2, $"sessions should spread over the nodes: {shards}");
            Assert.Equal(sessions, shards.EnumerateObject().Sum(n => n.Value.GetProperty("sessions").GetInt32()));
        }
        finally
        {
            foreach (var node in Enumerable.Reverse(nodes)) await node.DisposeAsync();
            await fake.DisposeAsync();
        }
    }
}
