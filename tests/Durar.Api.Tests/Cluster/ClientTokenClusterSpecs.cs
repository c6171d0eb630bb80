using System.Net;
using System.Text.Json.Nodes;
using Durar.Testing;
using static Durar.Api.Tests.Access.TokenGateway;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// A client token is one actor for the whole cluster: its rpm admits exactly that many requests across two nodes, and a
/// token created through one node works and is revoked through the other.
/// </summary>
public sealed class ClientTokenClusterSpecs
{
    [Fact]
    public async Task Should_admit_exactly_the_tokens_rpm_across_two_nodes()
    {
        var fake = await FakeProvider.StartAsync();
        // No operator token (the cluster helper polls the admin routes without one): an open loopback gateway still checks
        // every client token it is shown.
        var nodes = await InProcessCluster.StartAsync(fake, Config.Replace($"auth {{ token = \"{OperatorToken}\" }}", ""), count: 2);
        try
        {
            var created = await CreateAsync(nodes[0], new JsonObject { ["rpm"] = 3 });
            var (id, secret) = (created.GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!);

            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 6; i++) statuses.Add((await ChatAsync(nodes[i % 2], secret)).Status);

            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests,
                HttpStatusCode.TooManyRequests], statuses);
            Assert.Equal(3, fake.Requests.Count);
            var (revoked, _, _) = await SendAsync(nodes[1], HttpMethod.Delete, $"v1/admin/tokens/{id}", null, OperatorToken);
            Assert.Equal(HttpStatusCode.OK, revoked);
            Assert.Equal("token_revoked", Code((await ChatAsync(nodes[0], secret)).Body));
        }
        finally
        {
            foreach (var node in Enumerable.Reverse(nodes)) await node.DisposeAsync();
            await fake.DisposeAsync();
        }
    }
}
