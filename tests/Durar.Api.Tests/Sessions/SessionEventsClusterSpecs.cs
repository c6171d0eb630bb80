using System.Net;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Durar.Actors.Sessions;
using Durar.Api.Tests.Cluster;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Api.Tests.Sessions;

/// <summary>
/// A session's event stream watched from every node of a cluster (issue 18): the node that does not host the session gets
/// the same events, ids and order as the one that does (each watcher's stream crosses nodes as a SourceRef), and a resume
/// through the other node replays the same journaled ids.
/// </summary>
public sealed class SessionEventsClusterSpecs
{
    private const string Hocon = """
        models { providers { clu { baseUrl = "{fake-openai}", apiKey = "sk-cluster-events-1", api = "openai-completions", models = [{ id = "m" }] } } }
        agents { defaults { model { primary = "clu/m" } } }
        """;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_stream_a_sessions_events_to_watchers_on_every_node()
    {
        await using var fake = await FakeProvider.StartAsync();
        var nodes = await InProcessCluster.StartAsync(fake, Hocon, count: 2);
        try
        {
            const string key = "cluster-events-1";
            using (var first = await nodes[0].Http.SendAsync(nodes[0].Post($"v1/sessions/{key}/messages", """{"content":"hello"}""")))
                Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            var host = await HostOfAsync(nodes, key);
            var other = nodes.First(n => !ReferenceEquals(n, host));

            await using var remote = await SessionEventWatcher.OpenAsync(other.Http, key);
            await using var local = await SessionEventWatcher.OpenAsync(host.Http, key);
            var remoteRead = remote.ReadUntilAsync(e => e.Name == "run.finished", Patience);
            var localRead = local.ReadUntilAsync(e => e.Name == "run.finished", Patience);
            fake.Enqueue(new FakeResponse { Text = "one two three four five", ChunkDelay = TimeSpan.FromMilliseconds(20) });
            using (var turn = await other.Http.SendAsync(other.Post($"v1/sessions/{key}/messages", """{"content":"count"}""")))
                Assert.Equal(HttpStatusCode.OK, turn.StatusCode);

            var fromRemote = await remoteRead;
            var fromLocal = await localRead;
            Assert.Equal(["turn.accepted", "run.started", "delta", "delta", "delta", "delta", "delta", "run.finished"], fromRemote.Select(e => e.Name));
            Assert.Equal(fromLocal.Select(e => (e.Id, e.Name, e.Data.GetRawText())), fromRemote.Select(e => (e.Id, e.Name, e.Data.GetRawText())));
            Assert.Equal("one two three four five", string.Concat(fromRemote.Where(e => e.Name == "delta").Select(e => e.Data.GetProperty("text").GetString())));

            // A resume through the node that does not host the session replays the same journaled ids.
            var before = fromRemote[0].Id!.Value - 1;
            await using var resumed = await SessionEventWatcher.OpenAsync(other.Http, key, before);
            var replayed = await resumed.ReadUntilAsync(e => e.Name == "run.finished", Patience);
            Assert.Equal(fromRemote.Where(e => e.Id is not null).Select(e => (e.Id, e.Name, e.Data.GetRawText())),
                replayed.Select(e => (e.Id, e.Name, e.Data.GetRawText())));
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
