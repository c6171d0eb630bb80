using System.Net;
using System.Text.Json;
using Durar.Testing;
using Xunit.Abstractions;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// Remoting under TLS (<c>gateway.cluster.tls</c>, forced on for loopback): two gateways sharing one self-signed cluster
/// certificate form a cluster and serve session turns across it, while a node speaking plain TCP, or presenting another
/// certificate, never joins.
/// </summary>
public sealed class ClusterTlsSpecs(ITestOutputHelper output)
{
    private const string Password = "cluster-pfx-password";

    private const string Hocon = """
        models { providers { clu { baseUrl = "{fake-openai}", apiKey = "sk-cluster-tls-1", api = "openai-completions", models = [{ id = "m" }] } } }
        agents { defaults { model { primary = "clu/m" } } }
        gateway.askTimeout = 60s
        """;

    private static string Tls(string path, string enabled = "on") => $$"""

        gateway.cluster.tls { enabled = {{enabled}}, certificate = "{{path.Replace("\\", "/")}}", password = "{{Password}}" }
        """;

    private static string Node(int port, int seedPort) => $$"""

        gateway { cluster { port = {{port}}, seedNodes = ["akka.tcp://durar@127.0.0.1:{{seedPort}}"] } }
        """;

    [Fact]
    public async Task Should_form_a_tls_cluster_that_serves_requests_and_keep_out_a_node_without_its_tls()
    {
        var fake = await FakeProvider.StartAsync();
        var dataDir = Directory.CreateTempSubdirectory("durar-cluster-tls-").FullName;
        var (pfx, _) = SelfSignedCertificate.WritePfx(Password);
        var (otherPfx, _) = SelfSignedCertificate.WritePfx(Password, "CN=someone-else");
        var ports = new[] { InProcessCluster.FreePort(), InProcessCluster.FreePort(), InProcessCluster.FreePort(), InProcessCluster.FreePort() };
        var nodes = new List<GatewayHarness>();
        try
        {
            nodes.Add(await GatewayHarness.StartAsync(Hocon + Tls(pfx) + Node(ports[0], ports[0]), fake, dataDir));
            nodes.Add(await GatewayHarness.StartAsync(Hocon + Tls(pfx) + Node(ports[1], ports[0]), fake, dataDir));
            var cluster = await InProcessCluster.AwaitMembersUpAsync(nodes[0], 2, TimeSpan.FromSeconds(60));
            Assert.All(cluster.GetProperty("members").EnumerateArray(),
                m => Assert.StartsWith("akka.ssl.tcp://", m.GetProperty("address").GetString(), StringComparison.Ordinal));

            // Session turns through the second node land on both nodes' shards: requests cross the encrypted remoting.
            for (var s = 0; s < 8; s++)
            {
                using var response = await nodes[1].Http.SendAsync(nodes[1].Post($"v1/sessions/tls-{s}/messages", $$"""{"content":"hello {{s}}"}"""));
                Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            }
            var shards = JsonDocument.Parse(await nodes[0].Http.GetStringAsync("v1/admin/cluster")).RootElement.GetProperty("shards");
            Assert.True(shards.EnumerateObject().Count(n => n.Value.GetProperty("sessions").GetInt32() > 0) == 2,
                $"sessions should be hosted on both nodes: {shards}");

            // A node without TLS, and a TLS node with another certificate (pinned validation), cannot join. Refused, such a
            // node may even stop while it starts (its actor system ends, and the host with it): either way it must stay outside.
            var outsiders = new List<GatewayHarness>();
            foreach (var (what, hocon) in new[] { ("plain TCP", Tls(pfx, "off") + Node(ports[2], ports[0])), ("another certificate", Tls(otherPfx) + Node(ports[3], ports[0])) })
            {
                try
                {
                    outsiders.Add(await GatewayHarness.StartAsync(Hocon + hocon, fake, dataDir));
                }
                catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
                {
                    output.WriteLine($"the node with {what} stopped while starting: {e.Message}");
                }
            }
            nodes.AddRange(outsiders);
            // Seed-node joins retry every few seconds (Akka's seed-node-timeout, 5 s): over 15 s the cluster stays at 2.
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (DateTime.UtcNow < until)
            {
                var members = JsonDocument.Parse(await nodes[0].Http.GetStringAsync("v1/admin/cluster")).RootElement.GetProperty("members");
                Assert.True(members.GetArrayLength() == 2, members.GetRawText());
                await Task.Delay(500);
            }
            // An outsider that did start sees no member up (not even itself: it only ever asked the seed to let it in), or
            // answers 503 (not ready: no cluster member).
            foreach (var outsider in outsiders)
            {
                using var own = await outsider.Http.GetAsync("v1/admin/cluster");
                var text = await own.Content.ReadAsStringAsync();
                if (own.StatusCode == HttpStatusCode.ServiceUnavailable) continue;
                Assert.True(own.StatusCode == HttpStatusCode.OK, $"{own.StatusCode}: {text}");
                Assert.DoesNotContain(JsonDocument.Parse(text).RootElement.GetProperty("members").EnumerateArray(),
                    m => m.GetProperty("status").GetString() == "up");
            }
        }
        finally
        {
            foreach (var node in Enumerable.Reverse(nodes)) await node.DisposeAsync();
            await fake.DisposeAsync();
        }
    }
}
