using System.Net;
using Microsoft.Data.Sqlite;
using Durar.Testing;
using static Durar.Api.Tests.Resilience.ResilienceClient;

namespace Durar.Api.Tests.Resilience;

/// <summary>Key health is journaled: a graceful restart on the same data directory keeps every cooldown.</summary>
public sealed class CooldownPersistenceSpecs
{
    private const string KeyA = "sk-per-key-aaaa";
    private const string KeyB = "sk-per-key-bbbb";

    [Fact]
    public async Task Should_keep_a_cooldown_across_a_restart_and_skip_the_cooling_key()
    {
        var gw = await GatewayHarness.StartAsync(Provider("per1", "m1") + $$"""
            env { PER1_API_KEYS = "{{KeyA}},{{KeyB}}" }
            """ + FastFailover);
        try
        {
            gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited("300") : null;
            Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("per1/m1")).Status);
            var cooling = await gw.WaitForKeyStateAsync("per1", KeyA, "cooling");
            var until = cooling.Until()!.Value;
            Assert.InRange(until, DateTimeOffset.UtcNow + TimeSpan.FromSeconds(280), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(305));

            gw = await gw.RestartAsync();

            var restored = await gw.KeyAsync("per1", KeyA);
            Assert.True(restored.GetProperty("state").GetString() == "cooling", $"after restart: {restored.GetRawText()}");
            Assert.Equal("rate_limit", restored.GetProperty("reason").GetString());
            Assert.InRange(restored.Until()!.Value, until - TimeSpan.FromSeconds(2), until + TimeSpan.FromSeconds(2));

            // Round-robin after a restart starts from scratch (A first): only the restored cooldown sends both to B.
            var count = gw.Fake.RequestCount;
            for (var i = 0; i < 2; i++)
                Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("per1/m1")).Status);
            Assert.Equal([KeyB, KeyB], gw.Fake.Requests.Skip(count).Select(r => r.ApiKey));
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_answer_429_without_calling_upstream_after_a_restart_while_the_only_key_cools()
    {
        var gw = await GatewayHarness.StartAsync(Provider("per2", "m1", apiKey: KeyA) + FastFailover);
        try
        {
            gw.Fake.Script = _ => FakeResponse.RateLimited("300");
            Assert.Equal(HttpStatusCode.TooManyRequests, (await gw.ChatAsync("per2/m1")).Status);
            var until = (await gw.WaitForKeyStateAsync("per2", KeyA, "cooling")).Until()!.Value;

            gw = await gw.RestartAsync();

            var count = gw.Fake.RequestCount;
            var reply = await gw.ChatAsync("per2/m1");
            Assert.Equal(HttpStatusCode.TooManyRequests, reply.Status);
            Assert.Equal("rate_limit_error", reply.Error.GetProperty("type").GetString());
            Assert.Equal(count, gw.Fake.RequestCount);
            // Retry-After = when the key recovers (about 5 min away), not a default.
            var retryAfter = reply.Response.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(DateTimeOffset.UtcNow + retryAfter!.Value, until - TimeSpan.FromSeconds(5), until + TimeSpan.FromSeconds(5));
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_keep_key_state_inside_the_data_directory()
    {
        // Key ids are hashes of the secret, so a fresh secret per run keeps earlier runs out of this one.
        var secret = "sk-per3-" + Guid.NewGuid().ToString("N");
        var config = Provider("per3", "m1", apiKey: secret) + FastFailover;
        await using (var first = await GatewayHarness.StartAsync(config))
        {
            var id = (await first.KeyAsync("per3", secret)).GetProperty("id").GetString()!;
            first.Fake.Script = _ => FakeResponse.RateLimited();
            // 100 journaled health changes (a reset, then a rate limit and a reset per round, ending on a rate limit), so the key
            // actor also writes a snapshot (every 100 events) that carries failure counts.
            Assert.Equal(HttpStatusCode.OK, (await first.ResetKeyAsync(id)).Status);
            for (var i = 0; i < 50; i++)
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, (await first.ChatAsync("per3/m1")).Status);
                if (i < 49) Assert.Equal(HttpStatusCode.OK, (await first.ResetKeyAsync(id)).Status);
            }
            await first.WaitForKeyStateAsync("per3", secret, "cooling");
        }

        // Another gateway on another (fresh) data directory knows nothing of that key's history. The provider answers the admin
        // API only once every key actor has recovered from the journal, so this is the recovered state, not a placeholder.
        await using var second = await GatewayHarness.StartAsync(config);
        var recovered = await second.KeyAsync("per3", secret);
        Assert.True(recovered.GetProperty("state").GetString() == "ready", $"recovered: {recovered.GetRawText()}");
        Assert.Equal(0, recovered.GetProperty("errorCount").GetInt32());
        Assert.Equal(0, recovered.GetProperty("failures").GetInt32());
        Assert.Empty(recovered.GetProperty("failureCounts").EnumerateObject());

        second.Fake.Script = null;
        var reply = await second.ChatAsync("per3/m1");
        Assert.True(reply.Status == HttpStatusCode.OK, $"{(int)reply.Status} after {reply.Elapsed}: {reply.Body}");
        Assert.True(reply.Elapsed < TimeSpan.FromSeconds(3), $"took {reply.Elapsed}");
        // A success never cools a key or adds an error, so this holds whether or not the outcome has reached the key actor yet.
        var key = await second.KeyAsync("per3", secret);
        Assert.Equal("ready", key.GetProperty("state").GetString());
        Assert.Equal(0, key.GetProperty("errorCount").GetInt32());
    }

    [Fact]
    public async Task Should_keep_every_key_serving_after_a_journal_write_failed()
    {
        await using var gw = await GatewayHarness.StartAsync(Provider("per4", "m1") + $$"""
            env { PER4_API_KEYS = "{{KeyA}},{{KeyB}}" }
            """ + FastFailover);
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("per4/m1")).Status);
        var idA = (await gw.KeyAsync("per4", KeyA)).GetProperty("id").GetString()!;

        // The journal goes away for a moment (a locked SQLite file, a PostgreSQL failover): key A's 429 cannot be written.
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(gw.DataDir, "durar.db")}"))
        using (var errors = ErrorLog.Start(gw))
        {
            await db.OpenAsync();
            await ExecAsync(db, "ALTER TABLE journal RENAME TO journal_away");
            gw.Fake.Script = r => r.ApiKey == KeyA ? FakeResponse.RateLimited() : null;
            var count = gw.Fake.RequestCount;
            for (var i = 0; i < 2; i++) // round-robin: one of the two goes to A first
                Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("per4/m1")).Status);
            Assert.Contains(KeyA, gw.Fake.Requests.Skip(count).Select(r => r.ApiKey));
            // The journal comes back only once key A's actor has seen its write fail (Akka.Persistence logs it, then stops the actor).
            await errors.WaitForAsync($"key A's journal write failing ({idA})", "Failed to persist", idA);
            await ExecAsync(db, "ALTER TABLE journal_away RENAME TO journal");
        }
        gw.Fake.Script = null;

        // The journal is back. Whichever key the provider picks, requests are served promptly...
        for (var i = 0; i < 4; i++)
        {
            var reply = await gw.ChatAsync("per4/m1");
            Assert.True(reply.Status == HttpStatusCode.OK && reply.Elapsed < TimeSpan.FromSeconds(3),
                $"request {i}: {(int)reply.Status} after {reply.Elapsed}: {reply.Body}");
        }
        // ...and key A's actor still answers the operator.
        var reset = await gw.ResetKeyAsync(idA);
        Assert.True(reset.Status == HttpStatusCode.OK, $"reset: {(int)reset.Status} after {reset.Elapsed}: {reset.Body}");
    }

    private static async Task ExecAsync(SqliteConnection db, string sql)
    {
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
