using System.Net;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Messages;
using Durar.Persistence.Serialization;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;
using Durar.Actors.Chat;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// Three gateways (separate ActorSystems with their own loopback ports) form one Akka cluster: sessions spread over the
/// nodes, and any node's HTTP endpoint reaches any session with one consistent transcript.
/// </summary>
public sealed class ThreeNodeClusterSpecs
{
    private const string ClusterHocon = """
        models { providers { clu { baseUrl = "{fake-openai}", apiKey = "sk-cluster-1", api = "openai-completions", models = [{ id = "m" }] } } }
        agents { defaults { model { primary = "clu/m" } } }
        """;


    /// <summary>Starts three gateways on one seed into <paramref name="nodes"/> and waits (at most 30 s) until all are up.</summary>
    internal static async Task StartClusterAsync(List<GatewayHarness> nodes, FakeProvider fake, string dataDir, string hocon = ClusterHocon)
    {
        var ports = new[] { InProcessCluster.FreePort(), InProcessCluster.FreePort(), InProcessCluster.FreePort() };
        var seed = $"akka.tcp://durar@127.0.0.1:{ports[0]}";
        foreach (var port in ports)
            nodes.Add(await GatewayHarness.StartAsync(hocon + $$"""
                gateway { cluster { port = {{port}}, seedNodes = ["{{seed}}"] } }
                """, fake, dataDir));

        await InProcessCluster.AwaitMembersUpAsync(nodes[0], 3);
    }

    [Fact]
    public async Task Should_spread_sessions_over_three_nodes_and_serve_each_from_any_node()
    {
        var fake = await FakeProvider.StartAsync();
        var dataDir = Directory.CreateTempSubdirectory("durar-cluster-").FullName;
        var nodes = new List<GatewayHarness>();
        try
        {
            await StartClusterAsync(nodes, fake, dataDir);

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

    /// <summary>
    /// A chat/completions turn with <c>tools</c> enters on a node that does not host the session: the request (with its
    /// JsonElement tools) crosses to the session's node, the upstream receives the tools intact, and the streamed tool call
    /// comes back through the session's SourceRef. Akka's default Newtonsoft serializer would have lost the tools.
    /// </summary>
    [Fact]
    public async Task Should_carry_a_session_turn_with_tools_through_a_node_that_does_not_host_the_session()
    {
        const string tools = """
            [{"type":"function","function":{"name":"get_weather","description":"Wetter für \"heute\"","parameters":{"type":"object","properties":{"city":{"type":"string","enum":["Köln","Zürich"]},"days":{"type":"integer","maximum":14.5}},"required":["city"]}}}]
            """;
        const string toolChoice = """{"type":"function","function":{"name":"get_weather"}}""";
        var fake = await FakeProvider.StartAsync();
        var dataDir = Directory.CreateTempSubdirectory("durar-cluster-").FullName;
        var nodes = new List<GatewayHarness>();
        try
        {
            await StartClusterAsync(nodes, fake, dataDir);
            foreach (var node in nodes)
                Assert.IsType<DurarWireSerializer>(node.Services.GetRequiredService<ActorSystem>().Serialization
                    .FindSerializerForType(typeof(SessionCommands.SendMessage)));

            using (var first = await nodes[0].Http.SendAsync(nodes[0].Post("v1/sessions/wire-tools/messages", """{"content":"hello"}""")))
                Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            var host = await HostOfAsync(nodes, "wire-tools");
            var via = nodes.First(n => n != host);

            fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("get_weather", """{"city":"Köln"}"""), Chunks = 3 });
            var request = via.Post("v1/chat/completions",
                $$"""{"model":"clu/m","stream":true,"messages":[{"role":"user","content":"Weather in Köln?"}],"tools":{{tools}},"tool_choice":{{toolChoice}}}""");
            request.Headers.Add("x-durar-session-key", "wire-tools");
            using var response = await via.Http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var upstream = fake.Requests[^1].Json.RootElement;
            Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(tools).RootElement, upstream.GetProperty("tools")), upstream.GetProperty("tools").GetRawText());
            Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(toolChoice).RootElement, upstream.GetProperty("tool_choice")),
                upstream.GetProperty("tool_choice").GetRawText());
            var (name, arguments) = StreamedToolCall(body);
            Assert.Equal("get_weather", name);
            Assert.Equal("""{"city":"Köln"}""", arguments);
            Assert.Contains("\"finish_reason\":\"tool_calls\"", body, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var node in Enumerable.Reverse(nodes)) await node.DisposeAsync();
            await fake.DisposeAsync();
        }
    }

    /// <summary>The node whose local shard region holds the session entity.</summary>
    internal static async Task<GatewayHarness> HostOfAsync(IReadOnlyList<GatewayHarness> nodes, string sessionKey)
    {
        foreach (var node in nodes)
        {
            var region = node.Services.GetRequiredService<IRequiredActor<SessionRegionKey>>().ActorRef;
            var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10));
            if (state.Shards.Any(s => s.EntityIds.Contains(sessionKey))) return node;
        }
        throw new Xunit.Sdk.XunitException($"No node hosts session {sessionKey}.");
    }

    /// <summary>The function name and the concatenated arguments of the first tool call in an SSE body.</summary>
    private static (string? Name, string Arguments) StreamedToolCall(string sse)
    {
        string? name = null;
        var arguments = new StringBuilder();
        foreach (var line in sse.Split('\n'))
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal)) continue;
            using var chunk = JsonDocument.Parse(line["data: ".Length..]);
            if (!chunk.RootElement.TryGetProperty("choices", out var choices) || choices.GetArrayLength() == 0) continue;
            if (!choices[0].TryGetProperty("delta", out var delta) || !delta.TryGetProperty("tool_calls", out var calls)) continue;
            foreach (var call in calls.EnumerateArray())
            {
                if (!call.TryGetProperty("function", out var function)) continue;
                if (function.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String) name ??= n.GetString();
                if (function.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.String) arguments.Append(a.GetString());
            }
        }
        return (name, arguments.ToString());
    }
}
