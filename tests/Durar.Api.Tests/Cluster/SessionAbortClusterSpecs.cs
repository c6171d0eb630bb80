using System.Net;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Durar.Actors.Sessions;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// A session's run aborted through a node that does not host the session (issue 18): the abort goes to the session's shard
/// wherever it runs, the upstream call the hosting node made is cancelled, the partial reply is journaled marked aborted,
/// and the session's next turn runs.
/// </summary>
public sealed class SessionAbortClusterSpecs
{
    private const string Hocon = """
        models { providers { clu { baseUrl = "{fake-openai}", apiKey = "sk-cluster-abort-1", api = "openai-completions", models = [{ id = "m" }] } } }
        agents { defaults { model { primary = "clu/m" } } }
        """;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_abort_a_streaming_turn_from_a_node_that_does_not_host_the_session()
    {
        await using var fake = await FakeProvider.StartAsync();
        var nodes = await InProcessCluster.StartAsync(fake, Hocon);
        try
        {
            const string key = "cluster-abort-1";
            fake.Enqueue(new FakeResponse { Text = "words before the stall and after", StallAfterChunks = 2 });
            using var response = await nodes[0].Http.SendAsync(nodes[0].Post($"v1/sessions/{key}/messages", """{"content":"talk","stream":true}"""),
                HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var runId = response.Headers.GetValues("x-durar-run-id").Single();
            var host = await HostOfAsync(nodes, key);
            var other = nodes.First(n => !ReferenceEquals(n, host));

            using var abort = await other.Http.SendAsync(other.Post($"v1/sessions/{key}/abort", $$"""{"runId":"{{runId}}"}"""));
            var aborted = JsonDocument.Parse(await abort.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(HttpStatusCode.OK, abort.StatusCode);
            Assert.True(aborted.GetProperty("aborted").GetBoolean());
            await fake.WaitForClientAbortAsync(Patience); // the hosting node's upstream call was cancelled

            var sse = await response.Content.ReadAsStringAsync().WaitAsync(Patience);
            Assert.Contains("\"code\":\"aborted\"", sse, StringComparison.Ordinal);
            var run = JsonDocument.Parse(await other.Http.GetStringAsync($"v1/sessions/{key}/runs/{runId}?wait=20s")).RootElement;
            Assert.Equal("aborted", run.GetProperty("status").GetString());
            var last = JsonDocument.Parse(await nodes[2].Http.GetStringAsync($"v1/sessions/{key}/messages")).RootElement
                .GetProperty("messages").EnumerateArray().Last();
            Assert.Equal(("assistant", true), (last.GetProperty("role").GetString(), last.GetProperty("aborted").GetBoolean()));
            Assert.False(string.IsNullOrEmpty(last.GetProperty("content").GetString()));

            using var next = await nodes[1].Http.SendAsync(nodes[1].Post($"v1/sessions/{key}/messages", """{"content":"next"}"""));
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
            Assert.Contains("Hello from fake: next", await next.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            foreach (var node in Enumerable.Reverse(nodes)) await node.DisposeAsync();
        }
    }

    /// <summary>The node whose local shard region holds the session entity.</summary>
    private static async Task<GatewayHarness> HostOfAsync(IReadOnlyList<GatewayHarness> nodes, string sessionKey)
    {
        foreach (var node in nodes)
        {
            var region = node.Services.GetRequiredService<IRequiredActor<SessionRegionKey>>().ActorRef;
            var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10));
            if (state.Shards.Any(s => s.EntityIds.Contains(sessionKey))) return node;
        }
        throw new Xunit.Sdk.XunitException($"No node hosts session {sessionKey}.");
    }
}
