#pragma warning disable OPENAI001 // parts of the Responses client are marked experimental
using System.Net;
using System.Text.Json;
using Durar.Api.Tests.Dialects.Responses;
using Durar.Api.Tests.Durability;
using Durar.Testing;
using OpenAI.Responses;
using Xunit.Abstractions;

namespace Durar.Api.Tests.Cluster;

/// <summary>
/// Stored responses survive the ways a node can go: <c>previous_response_id</c> continues a conversation through the nodes
/// of a three-node cluster that do not host its session (the id names the session; no node-local index), and through a
/// gateway process that was SIGKILLed and started again on the same data directory (the session's journal is the state).
/// Driven by the official OpenAI SDK's Responses client.
/// </summary>
public sealed class ResponsesClusterSpecs(ITestOutputHelper output)
{
    private const string Hocon = """
        models { providers { clu { baseUrl = "{fake-openai}", apiKey = "sk-cluster-1", api = "openai-completions", models = [{ id = "m" }] } } }
        agents { defaults { model { primary = "clu/m" } } }
        """;

    /// <summary>The session a gateway-started conversation's response id names (<c>resp_&lt;hex&gt;_&lt;seq&gt;</c> → <c>resp-&lt;hex&gt;</c>).</summary>
    private static string SessionOf(string responseId) => "resp-" + responseId[5..responseId.LastIndexOf('_')];

    private static JsonElement UpstreamMessages(FakeProvider fake) => fake.Requests[^1].Json.RootElement.GetProperty("messages");

    [Fact]
    public async Task Should_continue_a_stored_conversation_through_the_nodes_that_do_not_host_its_session()
    {
        var fake = await FakeProvider.StartAsync();
        var dataDir = Directory.CreateTempSubdirectory("durar-resp-cluster-").FullName;
        var nodes = new List<GatewayHarness>();
        try
        {
            await ThreeNodeClusterSpecs.StartClusterAsync(nodes, fake, dataDir, Hocon);
            fake.Enqueue(FakeResponse.Ok("Nice to meet you, Ada"));
            var first = (await new ResponsesSdk(nodes[0]).Client.CreateResponseAsync("clu/m", "My name is Ada")).Value;
            var host = await ThreeNodeClusterSpecs.HostOfAsync(nodes, SessionOf(first.Id));
            var others = nodes.Where(n => n != host).ToList();
            Assert.Equal(2, others.Count);

            fake.Enqueue(FakeResponse.Ok("Your name is Ada"));
            var second = (await new ResponsesSdk(others[0]).Client.CreateResponseAsync("clu/m", "What is my name?", first.Id)).Value;
            Assert.Equal("Your name is Ada", second.GetOutputText());
            Assert.Equal(first.Id, second.PreviousResponseId);
            var messages = UpstreamMessages(fake);
            Assert.Equal(3, messages.GetArrayLength());
            Assert.Contains("My name is Ada", messages[0].GetRawText());
            Assert.Contains("Nice to meet you, Ada", messages[1].GetRawText());

            // The third turn streams through the other node that does not host the session.
            fake.Enqueue(new FakeResponse { Text = "A, D, A", Chunks = 3 });
            var sdk = new ResponsesSdk(others[1]);
            var (updates, events) = await sdk.StreamAsync(new CreateResponseOptions("clu/m", [ResponseItem.CreateUserMessageItem("Spell it")])
                { PreviousResponseId = second.Id });
            Assert.Equal("response.completed", events[^1].Type);
            var third = updates.OfType<StreamingResponseCompletedUpdate>().Single().Response;
            Assert.Equal("A, D, A", third.GetOutputText());
            Assert.Equal(5, UpstreamMessages(fake).GetArrayLength());
            Assert.Contains("Your name is Ada", UpstreamMessages(fake)[3].GetRawText());

            // Every node reads every response of it back, and lists its input.
            foreach (var node in nodes)
                Assert.Equal("Your name is Ada", (await new ResponsesSdk(node).Client.GetResponseAsync(second.Id)).Value.GetOutputText());
            var items = JsonDocument.Parse(await others[0].Http.GetStringAsync($"v1/responses/{third.Id}/input_items")).RootElement;
            Assert.Equal("Spell it", items.GetProperty("data")[0].GetProperty("content")[0].GetProperty("text").GetString());

            // A turn of a named session (x-durar-session-key) continues on another node by its response id alone.
            fake.Enqueue(FakeResponse.Ok("noted"));
            var named = nodes[0].Post("v1/responses", """{"model":"clu/m","input":"remember 7"}""");
            named.Headers.Add("x-durar-session-key", "resp-cluster-named");
            using var namedResponse = await nodes[0].Http.SendAsync(named);
            Assert.Equal(HttpStatusCode.OK, namedResponse.StatusCode);
            var namedId = JsonDocument.Parse(await namedResponse.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            var namedHost = await ThreeNodeClusterSpecs.HostOfAsync(nodes, "resp-cluster-named");
            var via = nodes.First(n => n != namedHost);
            fake.Enqueue(FakeResponse.Ok("it was 7"));
            var recalled = (await new ResponsesSdk(via).Client.CreateResponseAsync("clu/m", "what number?", namedId)).Value;
            Assert.Equal("it was 7", recalled.GetOutputText());
            Assert.Contains("remember 7", UpstreamMessages(fake)[0].GetRawText());
            var transcript = JsonDocument.Parse(await via.Http.GetStringAsync("v1/sessions/resp-cluster-named/messages")).RootElement;
            Assert.Equal(4, transcript.GetProperty("total").GetInt32());
        }
        finally
        {
            foreach (var node in Enumerable.Reverse(nodes)) await node.DisposeAsync();
            await fake.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_continue_a_stored_conversation_after_a_sigkill_and_restart_of_the_gateway_process()
    {
        var log = new GatewayLog();
        var root = Directory.CreateTempSubdirectory("durar-resp-kill-").FullName;
        var dataDir = Path.Combine(root, "data");
        var configPath = Path.Combine(root, "durar.conf");
        GatewayProcess? gateway = null;
        await using var fake = await FakeProvider.StartAsync();
        try
        {
            await File.WriteAllTextAsync(configPath, Hocon.Replace("{fake-openai}", fake.OpenAiBaseUrl, StringComparison.Ordinal));
            gateway = await GatewayProcess.StartAsync("gw1", configPath, dataDir, root, log, TimeSpan.FromSeconds(60));
            fake.Enqueue(FakeResponse.Ok("Nice to meet you, Ada"));
            var first = (await new ResponsesSdk(gateway.BaseUri).Client.CreateResponseAsync("clu/m", "My name is Ada")).Value;

            await gateway.KillAsync();
            await gateway.DisposeAsync();
            gateway = await GatewayProcess.StartAsync("gw2", configPath, dataDir, root, log, TimeSpan.FromSeconds(60));

            var client = new ResponsesSdk(gateway.BaseUri).Client;
            Assert.Equal("Nice to meet you, Ada", (await client.GetResponseAsync(first.Id)).Value.GetOutputText());
            fake.Enqueue(FakeResponse.Ok("Your name is Ada"));
            var second = (await client.CreateResponseAsync("clu/m", "What is my name?", first.Id)).Value;
            Assert.Equal("Your name is Ada", second.GetOutputText());
            Assert.Equal(first.Id, second.PreviousResponseId);
            var messages = UpstreamMessages(fake);
            Assert.Equal(3, messages.GetArrayLength());
            Assert.Contains("My name is Ada", messages[0].GetRawText());
            Assert.Contains("Nice to meet you, Ada", messages[1].GetRawText());
            Assert.Contains("What is my name?", messages[2].GetRawText());
        }
        finally
        {
            if (gateway is not null) await gateway.DisposeAsync();
            foreach (var line in log.Lines.TakeLast(200)) output.WriteLine(line);
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // a file still held by the killed process: the temp directory is cleaned up later
            }
        }
    }
}
