using System.Net;
using System.Text.Json;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// <c>gateway.cluster.discovery</c>: without seed nodes, the nodes find each other through Akka.Discovery (here the config
/// method listing the three remoting endpoints) and form one cluster, whichever order they start in.
/// </summary>
public sealed class ClusterDiscoverySpecs
{

    [Fact]
    public async Task Should_form_one_cluster_from_discovered_endpoints_without_seed_nodes()
    {
        var fake = await FakeProvider.StartAsync();
        var dataDir = Directory.CreateTempSubdirectory("durar-discovery-").FullName;
        var ports = new[] { InProcessCluster.FreePort(), InProcessCluster.FreePort(), InProcessCluster.FreePort() };
        var endpoints = string.Join(", ", ports.Select(p => $"\"127.0.0.1:{p}\""));
        var nodes = new List<GatewayHarness>();
        try
        {
            // Started last-listed first: the node that forms the cluster is the first in sorted order, whenever it starts.
            foreach (var port in ports.Reverse())
                nodes.Add(await GatewayHarness.StartAsync($$"""
                    gateway { cluster { port = {{port}}, discovery { method = config, serviceName = "durar-test", endpoints = [{{endpoints}}] } } }
                    """, fake, dataDir));

            var cluster = await InProcessCluster.AwaitMembersUpAsync(nodes[^1], 3, TimeSpan.FromSeconds(40));
            var members = cluster.GetProperty("members").EnumerateArray().ToList();
            Assert.Equal(3, members.Count(m => m.GetProperty("status").GetString() == "up"));
            Assert.Equal(ports.Order().Select(p => p.ToString()),
                members.Select(m => m.GetProperty("address").GetString()!.Split(':')[^1]).Order());
        }
        finally
        {
            foreach (var node in Enumerable.Reverse(nodes)) await node.DisposeAsync();
            await fake.DisposeAsync();
        }
    }

    /// <summary>
    /// Akka Cluster Bootstrap's rule: a node that finds only itself does not form a new cluster (it would be a second one
    /// the moment the others appear); with <c>requiredContactPoints = 1</c> a lone node may.
    /// </summary>
    [Theory]
    [InlineData(2, false)]
    [InlineData(1, true)]
    public async Task Should_form_a_cluster_alone_only_when_one_contact_point_is_enough(int required, bool forms)
    {
        var port = InProcessCluster.FreePort();
        await using var node = await GatewayHarness.StartAsync($$"""
            gateway { cluster { port = {{port}}, discovery { method = config, serviceName = "durar-alone", endpoints = ["127.0.0.1:{{port}}"],
              retryInterval = 200ms, requiredContactPoints = {{required}} } } }
            """);

        if (forms)
        {
            await InProcessCluster.AwaitMembersUpAsync(node, 1, TimeSpan.FromSeconds(30));
            return;
        }
        // Ten lookups later (every 200 ms) the node has still not formed a cluster of its own.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var cluster = JsonDocument.Parse(await node.Http.GetStringAsync("v1/admin/cluster")).RootElement;
        Assert.DoesNotContain(cluster.GetProperty("members").EnumerateArray(), m => m.GetProperty("status").GetString() == "up");
    }

    [Theory]
    [InlineData("""gateway.cluster.discovery { method = config, endpoints = [] }""", "gateway.cluster.discovery.endpoints")]
    [InlineData("""gateway.cluster.discovery { method = config, endpoints = ["127.0.0.1"] }""", "gateway.cluster.discovery.endpoints[0]")]
    [InlineData("""gateway.cluster.discovery { method = config, endpoints = ["127.0.0.1:70000"] }""", "gateway.cluster.discovery.endpoints[0]")]
    [InlineData("""gateway.cluster.discovery { method = akka-dns, serviceName = "" }""", "gateway.cluster.discovery.serviceName")]
    public void Should_name_the_key_of_a_bad_discovery_setting(string hocon, string path)
    {
        var e = Assert.Throws<DurarConfigException>(() => new ServiceCollection().AddDurarCore(DurarSettingsLoader.FromText(hocon)));
        Assert.Equal(path, e.Path);
    }
}
