using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using Durar.Actors;
using Durar.Api.Tests.AuthProfiles;
using Durar.Api.Tests.Resilience;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// The auth-profile store in a three-node cluster: one store (a cluster singleton) writing one journal on a shared
/// PostgreSQL, three different data directories (so three different Data Protection key rings, none of which is used: the
/// nodes share <c>gateway.secrets.key</c>), and each node in front of its own fake provider, which records the key each
/// request carried. A profile created through one node is served through every node, a deletion through another node stops
/// it everywhere, when the node that hosts the store leaves the survivors keep serving and editing the profiles, and a node
/// that joins afterwards serves them from its first request.
/// </summary>
public sealed class AuthProfilesClusterSpecs(ITestOutputHelper output)
{
    private const string EnvKey = "sk-cluster-env-0000";

    /// <summary>How long a change may take to reach another node's providers (measured below; milliseconds in practice).</summary>
    private static readonly TimeSpan PropagationBound = TimeSpan.FromSeconds(5);


    /// <summary>A gateway with its own fake and data directory, joining through <paramref name="seeds"/>.</summary>
    private static Task<GatewayHarness> StartNodeAsync(int port, IEnumerable<int> seeds, string connectionString, string secretsKey) =>
        GatewayHarness.StartAsync(Provider("clu", "m", apiKey: EnvKey) + FastFailover + $$"""
            agents { defaults { model { primary = "clu/m" } } }
            gateway {
              cluster { port = {{port}}, seedNodes = [{{string.Join(", ", seeds.Select(p => $"\"akka.tcp://durar@127.0.0.1:{p}\""))}}] }
              persistence { provider = "postgresql", connectionString = "{{connectionString}}" }
              secrets { key = "{{secretsKey}}" }
            }
            """);

    /// <summary>One chat through <paramref name="node"/>: the key its fake provider received.</summary>
    private static async Task<string?> KeyUsedAsync(GatewayHarness node)
    {
        var reply = await node.ChatAsync("clu/m");
        Assert.True(reply.Status == HttpStatusCode.OK, $"{node.BaseUri}: {(int)reply.Status} {reply.Body}");
        return node.Fake.Requests[^1].ApiKey;
    }

    /// <summary>Chats through <paramref name="node"/> until its upstream receives <paramref name="key"/>; returns how long that took.</summary>
    private static async Task<TimeSpan> WaitUntilServedAsync(GatewayHarness node, string key)
    {
        var watch = Stopwatch.StartNew();
        await Eventually.Until(() => KeyUsedAsync(node), used => used == key, $"{node.BaseUri} serving with …{key[^4..]}", PropagationBound,
            TimeSpan.FromMilliseconds(20), describe: used => $"…{used?[^4..]}");
        return watch.Elapsed;
    }

    /// <summary>The node whose singleton manager runs the store right now.</summary>
    private static async Task<GatewayHarness> StoreHostAsync(IEnumerable<GatewayHarness> nodes)
    {
        foreach (var node in nodes)
        {
            var system = node.Services.GetRequiredService<ActorSystem>();
            try
            {
                await system.ActorSelection($"/user/{ActorNames.AuthProfiles}/singleton").ResolveOne(TimeSpan.FromSeconds(2));
                return node;
            }
            catch (ActorNotFoundException)
            {
            }
        }
        throw new Xunit.Sdk.XunitException("No node runs the auth-profile store.");
    }

    /// <summary>Upserts through <paramref name="node"/>, retrying (bounded) while the store is between nodes (503).</summary>
    private static Task<GatewayReply> UpsertAsync(GatewayHarness node, JsonObject profile) =>
        Eventually.Until(() => node.PostProfileAsync(profile), reply => reply.Status != HttpStatusCode.ServiceUnavailable,
            $"{node.BaseUri} accepting the profile (not 503)", TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100),
            describe: reply => $"{(int)reply.Status} {reply.Body}");

    private static JsonObject TokenProfile(string token, string? email = null)
    {
        var profile = new JsonObject { ["provider"] = "clu", ["type"] = "token", ["token"] = token };
        if (email is not null) profile["email"] = email;
        return profile;
    }

    [Fact]
    public async Task Should_serve_a_profile_created_on_one_node_from_every_node_and_keep_serving_and_editing_when_the_store_node_leaves()
    {
        const string first = "tok-cluster-first-1111";
        const string second = "tok-cluster-second-2222";
        const string edited = "tok-cluster-edited-3333";
        var secretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var postgres = await PostgresServer.StartOrUseAsync();
        await using var database = await postgres.CreateDatabaseAsync();
        var ports = new[] { InProcessCluster.FreePort(), InProcessCluster.FreePort(), InProcessCluster.FreePort() };
        var nodes = new List<GatewayHarness>();
        var running = new List<GatewayHarness>();
        try
        {
            foreach (var port in ports)
            {
                nodes.Add(await StartNodeAsync(port, [ports[0]], database.ConnectionString, secretsKey));
                running.Add(nodes[^1]);
            }
            await InProcessCluster.AwaitMembersUpAsync(nodes[0], 3);

            // Before any profile: every node serves the configured key (a token profile ranks before an api key).
            foreach (var node in nodes) Assert.Equal(EnvKey, await KeyUsedAsync(node));

            // Created through node 1: served through node 1 at once, through nodes 2 and 3 within milliseconds.
            var created = await nodes[0].PostProfileAsync(TokenProfile(first));
            Assert.Equal(HttpStatusCode.Created, created.Status);
            Assert.Equal(first, await KeyUsedAsync(nodes[0]));
            foreach (var node in nodes.Skip(1))
                output.WriteLine($"profile created through node 1 served through {node.BaseUri} after {(await WaitUntilServedAsync(node, first)).TotalMilliseconds:F0} ms");
            var (listed, raw) = await nodes[2].ProfilesAsync();
            Assert.DoesNotContain(first, raw, StringComparison.Ordinal);
            var view = Assert.Single(listed.GetProperty("profiles").EnumerateArray());
            Assert.Equal(("clu:default", "…1111", true), (view.GetProperty("id").GetString(), view.GetProperty("token").GetString(),
                view.GetProperty("eligible").GetBoolean()));

            // Deleted through node 3: node 3 stops at once, the others within milliseconds.
            var deleted = await nodes[2].SendAsync(new HttpRequestMessage(HttpMethod.Delete, "v1/admin/auth-profiles/clu:default"));
            Assert.Equal(HttpStatusCode.OK, deleted.Status);
            Assert.Equal(EnvKey, await KeyUsedAsync(nodes[2]));
            foreach (var node in nodes.Take(2))
                output.WriteLine($"deletion through node 3 reached {node.BaseUri} after {(await WaitUntilServedAsync(node, EnvKey)).TotalMilliseconds:F0} ms");
            Assert.Empty((await nodes[0].ProfilesAsync()).Body.GetProperty("profiles").EnumerateArray());

            // Another profile through node 2, served everywhere.
            Assert.Equal(HttpStatusCode.Created, (await nodes[1].PostProfileAsync(TokenProfile(second, "ops@example.com"))).Status);
            foreach (var node in nodes) await WaitUntilServedAsync(node, second);

            // Every secret went through the shared key: no node started a Data Protection key ring.
            Assert.All(nodes, n => Assert.False(Directory.Exists(Path.Combine(n.DataDir, "keys")), $"{n.DataDir} has a key ring"));

            // The node that runs the store leaves; its data directory goes with it.
            var host = await StoreHostAsync(nodes);
            var survivors = nodes.Where(n => n != host).ToList();
            var stopWatch = Stopwatch.StartNew();
            running.Remove(host);
            await host.DisposeAsync();
            output.WriteLine($"store host {host.BaseUri} stopped in {stopWatch.ElapsedMilliseconds} ms");

            // Still served at once by the survivors' providers.
            foreach (var node in survivors) Assert.Equal(second, await KeyUsedAsync(node));

            // Editable through a survivor: the store now runs on a node whose data directory never held a key ring, and
            // decrypts the profile written by the node that left (the shared key), so the replacement keeps its history.
            var moveWatch = Stopwatch.StartNew();
            var replaced = await UpsertAsync(survivors[0], TokenProfile(edited, "ops@example.com"));
            output.WriteLine($"first edit after the store node left answered in {moveWatch.ElapsedMilliseconds} ms: {(int)replaced.Status}");
            Assert.Equal(HttpStatusCode.OK, replaced.Status);
            using (var body = JsonDocument.Parse(replaced.Body))
                Assert.Equal(("…3333", true), (body.RootElement.GetProperty("token").GetString(), body.RootElement.GetProperty("eligible").GetBoolean()));
            Assert.Equal(edited, await KeyUsedAsync(survivors[0]));
            output.WriteLine($"edit through {survivors[0].BaseUri} reached {survivors[1].BaseUri} after " +
                             $"{(await WaitUntilServedAsync(survivors[1], edited)).TotalMilliseconds:F0} ms");
            var (after, afterRaw) = await survivors[1].ProfilesAsync();
            Assert.DoesNotContain(edited, afterRaw, StringComparison.Ordinal);
            var moved = Assert.Single(after.GetProperty("profiles").EnumerateArray());
            Assert.Equal(("clu:ops@example.com", "…3333", true), (moved.GetProperty("id").GetString(), moved.GetProperty("token").GetString(),
                moved.GetProperty("eligible").GetBoolean()));
            Assert.NotEqual(moved.GetProperty("createdAt").GetString(), moved.GetProperty("updatedAt").GetString());

            // A node that joins now (seeded by every original node, one of them gone) gets the current set before it serves.
            var late = await StartNodeAsync(InProcessCluster.FreePort(), ports, database.ConnectionString, secretsKey);
            running.Add(late);
            await InProcessCluster.AwaitMembersUpAsync(late, 3);
            Assert.Equal(edited, await KeyUsedAsync(late));

            // The stored order, set through a survivor, applies on every node.
            var envKeyId = Durar.Actors.Providers.ApiKeyCredential.For("clu", EnvKey, "config").Id;
            Assert.Equal(HttpStatusCode.OK, (await survivors[1].PutOrderAsync("clu", $$"""{"order":["{{envKeyId}}"]}""")).Status);
            Assert.Equal(EnvKey, await KeyUsedAsync(survivors[1]));
            await WaitUntilServedAsync(survivors[0], EnvKey);
            await WaitUntilServedAsync(late, EnvKey);

        }
        finally
        {
            foreach (var node in Enumerable.Reverse(running)) await node.DisposeAsync();
        }
    }
}
