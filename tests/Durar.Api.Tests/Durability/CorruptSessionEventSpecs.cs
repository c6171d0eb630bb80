using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Durar.Testing;
using Microsoft.Data.Sqlite;

namespace Durar.Api.Tests.Durability;

/// <summary>
/// A session whose SQLite journal holds an event that cannot be read (its payload bytes overwritten): the session recovers
/// as failed, shows why (<c>state: failed</c>, the sequence number, the manifest), answers turns at once with 409
/// <c>session_failed</c> instead of a 503 after a timeout, and can still be deleted and started afresh.
/// </summary>
public sealed class CorruptSessionEventSpecs
{
    [Fact]
    public async Task Should_recover_a_session_with_a_corrupt_event_as_failed_with_its_reason_and_still_delete_it()
    {
        // A generous ask timeout: the first turn (shard allocation, recovery) can be slow on a loaded machine.
        var gw = await GatewayHarness.StartAsync(GatewayHarness.TwoFakeProviders + "\ngateway.askTimeout = 60s\n");
        try
        {
            gw.Fake.Enqueue(FakeResponse.Ok("first answer"), FakeResponse.Ok("second answer"), FakeResponse.Ok("fresh answer"));
            foreach (var text in new[] { "one", "two" })
            {
                using var turn = await gw.Http.SendAsync(gw.Post("v1/sessions/bad-1/messages", $$"""{"content":"{{text}}"}"""));
                Assert.True(turn.StatusCode == HttpStatusCode.OK, await turn.Content.ReadAsStringAsync());
            }
            await using (var db = Open(gw.DataDir))
            {
                await db.OpenAsync();
                await using var corrupt = db.CreateCommand();
                corrupt.CommandText = "UPDATE journal SET message = X'7B22FFFE0013' WHERE persistence_id = 'session-bad-1' AND sequence_number = 2";
                Assert.Equal(1, await corrupt.ExecuteNonQueryAsync());
            }

            gw = await gw.RestartAsync();

            var view = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/sessions/bad-1")).RootElement;
            Assert.Equal("failed", view.GetProperty("state").GetString());
            var failure = view.GetProperty("failure");
            Assert.Equal(2, failure.GetProperty("sequenceNr").GetInt64());
            Assert.Contains("sequence number 2", failure.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Contains("cannot be read", failure.GetProperty("reason").GetString(), StringComparison.Ordinal);

            var clock = Stopwatch.StartNew();
            using var refused = await gw.Http.SendAsync(gw.Post("v1/sessions/bad-1/messages", """{"content":"three"}"""));
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.Conflict, body);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"answered after {clock.Elapsed}, not at once");
            var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
            Assert.Equal("session_failed", error.GetProperty("code").GetString());
            Assert.Contains("sequence number 2", error.GetProperty("message").GetString(), StringComparison.Ordinal);

            using var deleted = await gw.Http.DeleteAsync("v1/sessions/bad-1");
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            await using (var db = Open(gw.DataDir))
            {
                await db.OpenAsync();
                await using var left = db.CreateCommand();
                left.CommandText = "SELECT count(*) FROM journal WHERE persistence_id = 'session-bad-1' AND deleted = 0";
                Assert.Equal(0L, (long)(await left.ExecuteScalarAsync())!);
            }

            // The key starts afresh: a new conversation on it is served.
            using var fresh = await gw.Http.SendAsync(gw.Post("v1/sessions/bad-1/messages", """{"content":"again"}"""));
            Assert.True(fresh.StatusCode == HttpStatusCode.OK, await fresh.Content.ReadAsStringAsync());
            var healed = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/sessions/bad-1")).RootElement;
            Assert.Equal("ok", healed.GetProperty("state").GetString());
            Assert.Equal(2, healed.GetProperty("transcriptLength").GetInt32());
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }

    private static SqliteConnection Open(string dataDir) =>
        new(new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDir, "durar.db"), Pooling = false }.ToString());
}
