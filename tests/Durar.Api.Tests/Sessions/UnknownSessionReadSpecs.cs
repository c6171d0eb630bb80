using System.Net;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Durar.Actors.Sessions;
using Durar.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Api.Tests.Sessions;

/// <summary>
/// Issue 13, "Session limits: ... a GET of an unknown session must not create and recover an actor": every read of a key
/// that was never written answers 404 <c>session_not_found</c>, starts no session entity and writes nothing to the journal.
/// </summary>
public sealed class UnknownSessionReadSpecs
{
    private const string Config = """
        models {
          providers {
            unkoai { baseUrl = "{fake-openai}", apiKey = "sk-unk-openai-0001", api = "openai-completions", models = [{ id = "gpt-unk" }] }
          }
        }
        agents { defaults { model { primary = "unkoai/gpt-unk" } } }
        """;

    [Fact]
    public async Task Should_answer_404_to_every_GET_of_an_unknown_session_without_creating_and_recovering_an_actor()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(FakeResponse.Ok("hello"));
        using (var known = await gw.Http.SendAsync(gw.Post("v1/sessions/known-1/messages", """{"content":"hi"}""")))
            Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        var system = gw.Services.GetRequiredService<ActorSystem>();
        var residentBefore = SessionIdleSweeper.Resident(system);

        foreach (var path in new[]
                 {
                     "v1/sessions/ghost-1", "v1/sessions/ghost-1/messages", "v1/sessions/ghost-1/messages?offset=0&limit=5",
                     "v1/sessions/ghost-1/runs/run_0123456789", "v1/sessions/ghost-1/runs/run_0123456789?wait=1s", "v1/sessions/ghost-1/events",
                 })
        {
            using var response = await gw.Http.GetAsync(path);
            Assert.True(HttpStatusCode.NotFound == response.StatusCode, $"GET {path}: {(int)response.StatusCode}");
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Equal("session_not_found", error.GetProperty("code").GetString());
        }

        // No entity was started (the shard region and the node's resident count), nothing was journaled.
        var region = gw.Services.GetRequiredService<ActorRegistry>().Get<SessionRegionKey>();
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5));
        var entities = state.Shards.SelectMany(s => s.EntityIds).ToHashSet();
        Assert.Contains("known-1", entities);
        Assert.DoesNotContain("ghost-1", entities);
        Assert.Equal(residentBefore, SessionIdleSweeper.Resident(system));
        await using var db = new SqliteConnection($"Data Source={Path.Combine(gw.DataDir, "durar.db")}");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT (SELECT count(*) FROM journal WHERE persistence_id = 'session-ghost-1') + (SELECT count(*) FROM snapshot WHERE persistence_id = 'session-ghost-1')";
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
        command.CommandText = "SELECT count(*) FROM journal WHERE persistence_id = 'session-known-1'";
        Assert.True((long)(await command.ExecuteScalarAsync())! > 0); // the journal is where the check looks
    }
}
