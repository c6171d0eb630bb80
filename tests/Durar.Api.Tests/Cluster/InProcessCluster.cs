using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// Several gateways in this process (each its own ActorSystem with its own loopback ports) forming one Akka cluster: the
/// shared set-up of the in-process cluster specs.
/// </summary>
internal static class InProcessCluster
{
    /// <summary>A free loopback TCP port (for a node's remoting).</summary>
    public static int FreePort() => Durability.GatewayProcess.FreePort();

    /// <summary>
    /// Starts <paramref name="count"/> gateways on <paramref name="hocon"/> that join the first one (one data directory, so
    /// one SQLite journal, unless the HOCON says otherwise) and waits until all are up. On failure every started node is
    /// stopped before the exception leaves.
    /// </summary>
    public static async Task<List<GatewayHarness>> StartAsync(FakeProvider fake, string hocon, int count = 3)
    {
        var dataDir = Directory.CreateTempSubdirectory("durar-cluster-").FullName;
        var ports = Enumerable.Range(0, count).Select(_ => FreePort()).ToArray();
        var seed = $"akka.tcp://durar@127.0.0.1:{ports[0]}";
        var nodes = new List<GatewayHarness>();
        try
        {
            foreach (var port in ports)
                nodes.Add(await GatewayHarness.StartAsync(hocon + $$"""

                    gateway { cluster { port = {{port}}, seedNodes = ["{{seed}}"] } }
                    """, fake, dataDir));
            await AwaitMembersUpAsync(nodes[0], count);
            return nodes;
        }
        catch
        {
            foreach (var node in Enumerable.Reverse(nodes)) await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits (at most <paramref name="timeout"/>, default 30 s) until <paramref name="node"/> sees <paramref name="count"/> members up.</summary>
    public static Task<JsonElement> AwaitMembersUpAsync(GatewayHarness node, int count, TimeSpan? timeout = null) =>
        Eventually.Until(async () => JsonDocument.Parse(await node.Http.GetStringAsync("v1/admin/cluster")).RootElement.Clone(),
            cluster => cluster.GetProperty("members").EnumerateArray().Count(m => m.GetProperty("status").GetString() == "up") == count,
            $"{count} members up", timeout ?? TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100), describe: c => c.GetRawText());
}
