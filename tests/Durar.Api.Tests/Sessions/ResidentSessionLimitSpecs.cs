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
/// Issue 13, "Session limits: ... on resident sessions per node": <c>gateway.sessions.maxResident</c> bounds the session
/// actors one node holds. A new session past it passivates the least recently used idle session; when every resident
/// session is busy, the new session's request answers 503 <c>sessions_busy</c> with Retry-After at once (no hang, no
/// recovery, nothing journaled). The real gateway, its shard region and SQLite journal.
/// </summary>
public sealed class ResidentSessionLimitSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static string Config(int maxResident) => $$"""
        models {
          providers {
            resoai { baseUrl = "{fake-openai}", apiKey = "sk-res-openai-0001", api = "openai-completions", models = [{ id = "gpt-res" }] }
          }
        }
        agents { defaults { model { primary = "resoai/gpt-res" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        gateway.sessions.maxResident = {{maxResident}}
        """;

    private static async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> Send(GatewayHarness gw, string key, string content)
    {
        var response = await gw.Http.SendAsync(gw.Post($"v1/sessions/{key}/messages", JsonSerializer.Serialize(new { content })));
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    /// <summary>The session entities this node hosts (read from the sessions shard region).</summary>
    private static async Task<IReadOnlySet<string>> Resident(GatewayHarness gw)
    {
        var region = gw.Services.GetRequiredService<ActorRegistry>().Get<SessionRegionKey>();
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5));
        return state.Shards.SelectMany(s => s.EntityIds).ToHashSet();
    }

    private static Task<IReadOnlySet<string>> ResidentBecomes(GatewayHarness gw, params string[] keys) =>
        Eventually.Until(() => Resident(gw), r => r.SetEquals(keys), $"resident sessions {string.Join(", ", keys)}", Patience,
            TimeSpan.FromMilliseconds(50));

    private static async Task<long> JournalRows(GatewayHarness gw, string key)
    {
        await using var db = new SqliteConnection($"Data Source={Path.Combine(gw.DataDir, "durar.db")}");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT (SELECT count(*) FROM journal WHERE persistence_id = $p) + (SELECT count(*) FROM snapshot WHERE persistence_id = $p)";
        command.Parameters.AddWithValue("$p", SessionActor.PersistenceIdFor(key));
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Should_passivate_the_least_recently_used_idle_session_when_the_node_holds_maxResident()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(2));
        var system = gw.Services.GetRequiredService<ActorSystem>();
        Assert.Equal(HttpStatusCode.OK, (await Send(gw, "lru-a", "one")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(gw, "lru-b", "two")).Status);
        using (var touched = await gw.Http.GetAsync("v1/sessions/lru-a")) // lru-a is now the more recently used
            Assert.Equal(HttpStatusCode.OK, touched.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await Send(gw, "lru-c", "three")).Status);

        await ResidentBecomes(gw, "lru-a", "lru-c");
        Assert.Equal(1, SessionIdleSweeper.Of(system)!.Evicted);
        Assert.Equal(2, SessionIdleSweeper.Resident(system));

        // The passivated session lost nothing: read back, it wakes (and lru-a, now the least recently used, makes room).
        using var back = await gw.Http.GetAsync("v1/sessions/lru-b");
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        Assert.Equal(2, JsonDocument.Parse(await back.Content.ReadAsStringAsync()).RootElement.GetProperty("transcriptLength").GetInt32());
        await ResidentBecomes(gw, "lru-b", "lru-c");
    }

    [Fact]
    public async Task Should_refuse_a_new_session_with_503_sessions_busy_when_every_resident_session_is_busy()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(1));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gw.Fake.Enqueue(new FakeResponse { Text = "slow answer", HeldUntil = release.Task }, FakeResponse.Ok("now there is room"));

        var running = Send(gw, "busy-a", "a long question"); // its run holds the node's only place
        await gw.Fake.WaitForRequestAsync(_ => true, Patience);

        var (status, body, response) = await Send(gw, "busy-b", "let me in");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal(("sessions_busy", "api_error"), (error.GetProperty("code").GetString(), error.GetProperty("type").GetString()));
        Assert.Contains("maxResident", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        // Refused before anything was read or written: nothing of busy-b in the journal, and it does not stay resident.
        Assert.Equal(0, await JournalRows(gw, "busy-b"));
        Assert.Equal(1, SessionIdleSweeper.Of(gw.Services.GetRequiredService<ActorSystem>())!.Refused);
        await ResidentBecomes(gw, "busy-a");

        release.SetResult();
        var (firstStatus, firstBody, _) = await running;
        Assert.Equal(HttpStatusCode.OK, firstStatus);
        Assert.Contains("slow answer", firstBody, StringComparison.Ordinal);

        // busy-a is idle now: the retry passivates it and is served.
        var (retryStatus, retryBody, _) = await Send(gw, "busy-b", "let me in");
        Assert.Equal(HttpStatusCode.OK, retryStatus);
        Assert.Contains("now there is room", retryBody, StringComparison.Ordinal);
        await ResidentBecomes(gw, "busy-b");
    }

    [Fact]
    public async Task Should_refuse_a_read_of_a_stored_session_with_503_sessions_busy_while_every_resident_session_is_busy()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(1));
        Assert.Equal(HttpStatusCode.OK, (await Send(gw, "read-b", "stored")).Status);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gw.Fake.Enqueue(new FakeResponse { Text = "slow", HeldUntil = release.Task });
        var running = Send(gw, "read-a", "hold the node"); // read-b (idle) makes room for read-a, whose run then holds it
        await gw.Fake.WaitForRequestAsync(r => r.Json.RootElement.ToString().Contains("hold the node"), Patience);

        using var read = await gw.Http.GetAsync("v1/sessions/read-b/messages");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, read.StatusCode);
        Assert.Contains("sessions_busy", await read.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotNull(read.Headers.RetryAfter);

        release.SetResult();
        Assert.Equal(HttpStatusCode.OK, (await running).Status);
        using var after = await gw.Http.GetAsync("v1/sessions/read-b/messages");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }
}
