using System.Net;
using System.Text.Json;
using Akka.Actor;
using Akka.Persistence;
using Durar.Actors.Sessions;
using Durar.Actors.Sessions.Context;
using Durar.Actors.Sessions.Messages;
using Durar.Api.Tests.Dialects.Responses;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Api.Tests.Sessions;

/// <summary>
/// Issue 13, "Session limits: a bound on transcript size kept in memory and in snapshots": a session keeps resident and
/// snapshots only its window (<c>gateway.sessions.transcript.keepResident</c>: what the next turn sends, and the newest
/// entries); everything older stays in the journal, and every reader of the transcript (the sessions API, stored
/// responses) still gets all of it, in order, across a restart of the gateway on the same SQLite file.
/// </summary>
public sealed class SessionTranscriptBoundSpecs
{
    /// <summary>Ten entries and 1,000 tokens resident; a snapshot every four events.</summary>
    private const string Window = """

        gateway.sessions { snapshotEvery = 4, transcript.keepResident { entries = 10, tokens = 1000 } }
        """;

    private const string Config = """
        models {
          providers {
            winoai { baseUrl = "{fake-openai}", apiKey = "sk-win-openai-0001", api = "openai-completions", models = [{ id = "gpt-win" }] }
          }
        }
        agents { defaults { model { primary = "winoai/gpt-win" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """ + Window;

    /// <summary>About 100 tokens a message: ten turns fill the 1,000 resident tokens.</summary>
    private static string Said(int turn) => $"turn {turn}: " + new string('x', 400);

    private static async Task SendAsync(GatewayHarness gw, string key, string content)
    {
        using var response = await gw.Http.SendAsync(gw.Post($"v1/sessions/{key}/messages", JsonSerializer.Serialize(new { content })));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>The session's latest snapshot, read from the snapshot store.</summary>
    private static async Task<SessionSnapshot> SnapshotAsync(GatewayHarness gw, string key)
    {
        var system = gw.Services.GetRequiredService<ActorSystem>();
        var loaded = await Akka.Persistence.Persistence.Instance.Apply(system).SnapshotStoreFor(null)
            .Ask<LoadSnapshotResult>(new LoadSnapshot(SessionActor.PersistenceIdFor(key), SnapshotSelectionCriteria.Latest, long.MaxValue),
                TimeSpan.FromSeconds(5));
        return Assert.IsType<SessionSnapshot>(loaded.Snapshot?.Snapshot);
    }

    /// <summary>Every transcript entry through the sessions API, a page of <paramref name="pageSize"/> at a time.</summary>
    private static async Task<List<(long Seq, string Role, string Content)>> TranscriptAsync(GatewayHarness gw, string key, int pageSize)
    {
        var all = new List<(long, string, string)>();
        for (var offset = 0; ; offset += pageSize)
        {
            var page = JsonDocument.Parse(await gw.Http.GetStringAsync($"v1/sessions/{key}/messages?offset={offset}&limit={pageSize}")).RootElement;
            foreach (var m in page.GetProperty("messages").EnumerateArray())
                all.Add((m.GetProperty("seq").GetInt64(), m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!));
            if (offset + pageSize >= page.GetProperty("total").GetInt32()) return all;
        }
    }

    [Fact]
    public async Task Should_keep_resident_and_snapshot_at_most_the_window_and_return_every_message_in_order_after_a_restart()
    {
        const int turns = 60;
        var gw = await GatewayHarness.StartAsync(Config);
        try
        {
            gw.Fake.Default = FakeResponse.Ok("ok");
            for (var i = 1; i <= turns; i++) await SendAsync(gw, "long-1", Said(i));

            // 120 entries written; the snapshot holds the window: the ten newest entries, or the newest 1,000 tokens when more.
            // (Snapshots are taken every fourth event, so the latest may miss the last reply; a save is asynchronous, so the
            // last turn's answer can come back before the snapshot that covers it is written: wait for it.)
            var snapshot = await Eventually.Until(() => SnapshotAsync(gw, "long-1"), s => s.State.NextSeq - 1 >= 2 * turns - 1,
                "the snapshot covering the last user message", describe: s => $"NextSeq {s.State.NextSeq}");
            Assert.InRange(snapshot.State.Transcript.Count, 10, 24);
            Assert.InRange(snapshot.State.Archive!.Trimmed, 2 * turns - 1 - 24, 2 * turns);
            Assert.Equal(snapshot.State.NextSeq - 1, snapshot.State.Archive.Trimmed + snapshot.State.Transcript.Count);

            var expected = Enumerable.Range(1, turns).SelectMany(i => new[] { ((long)(2 * i - 1), "user", Said(i)), (2 * i, "assistant", "ok") }).ToList();
            Assert.Equal(expected, await TranscriptAsync(gw, "long-1", 500));
            Assert.Equal(expected, await TranscriptAsync(gw, "long-1", 7)); // pages across the trimmed and resident entries

            gw = await gw.RestartAsync();
            gw.Fake.Default = FakeResponse.Ok("ok");

            // Recovered from the bounded snapshot: the whole transcript still reads, and the session goes on.
            var view = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/sessions/long-1")).RootElement;
            Assert.Equal(2 * turns, view.GetProperty("transcriptLength").GetInt32());
            Assert.Equal(expected, await TranscriptAsync(gw, "long-1", 500));
            Assert.Equal(expected, await TranscriptAsync(gw, "long-1", 13));
            await SendAsync(gw, "long-1", Said(turns + 1));
            var all = await TranscriptAsync(gw, "long-1", 500);
            Assert.Equal([.. expected, (2 * turns + 1, "user", Said(turns + 1)), (2 * turns + 2, "assistant", "ok")], all);
            // The turn after the restart sent the resident window's conversation: the newest turns, in order, ending with the new message.
            var sent = gw.Fake.Requests[^1].Json.RootElement.GetProperty("messages").EnumerateArray()
                .Select(m => m.GetProperty("content").GetString()).ToList();
            Assert.Equal(Said(turns + 1), sent[^1]);
            Assert.True(sent.Count < all.Count - 1);
            Assert.Equal(all.Take(all.Count - 1).Skip(all.Count - 1 - sent.Count).Select(e => e.Content), sent);
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_return_only_the_transcript_since_a_reset_when_older_entries_were_trimmed()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Default = FakeResponse.Ok("ok");
        for (var i = 1; i <= 30; i++) await SendAsync(gw, "reset-1", Said(i));
        using (var reset = await gw.Http.PostAsync("v1/sessions/reset-1/reset", null)) Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        for (var i = 31; i <= 60; i++) await SendAsync(gw, "reset-1", Said(i));

        var all = await TranscriptAsync(gw, "reset-1", 9);

        Assert.Equal(Enumerable.Range(31, 30).SelectMany(i => new[] { Said(i), "ok" }), all.Select(e => e.Content));
        Assert.Equal(61, all[0].Seq); // seqs go on across the reset
        Assert.True((await SnapshotAsync(gw, "reset-1")).State.Archive!.Trimmed > 0);
    }

    [Fact]
    public async Task Should_read_back_an_early_stored_response_whose_turn_left_the_window()
    {
        var gw = await GatewayHarness.StartAsync(ResponsesSdkSpecs.Config + Window);
        try
        {
            gw.Fake.Enqueue(FakeResponse.Ok("the early answer"));
            var post = gw.Post("v1/responses", $$"""{"model":"{{ResponsesSdkSpecs.OpenAiModel}}","input":"early question"}""");
            post.Headers.Add("x-durar-session-key", "rs-window");
            string id;
            using (var response = await gw.Http.SendAsync(post))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            }
            gw.Fake.Default = FakeResponse.Ok("ok");
            for (var i = 1; i <= 30; i++) await SendAsync(gw, "rs-window", Said(i));
            Assert.DoesNotContain((await SnapshotAsync(gw, "rs-window")).State.Transcript, e => e.Content == "early question");

            for (var pass = 0; pass < 2; pass++)
            {
                var read = JsonDocument.Parse(await gw.Http.GetStringAsync($"v1/responses/{id}")).RootElement;
                Assert.Equal("completed", read.GetProperty("status").GetString());
                Assert.Contains("the early answer", read.GetProperty("output").GetRawText(), StringComparison.Ordinal);
                var items = JsonDocument.Parse(await gw.Http.GetStringAsync($"v1/responses/{id}/input_items")).RootElement;
                Assert.Contains("early question", items.GetProperty("data")[0].GetRawText(), StringComparison.Ordinal);
                // Continuing it is refused as not the latest (it exists), not as unknown.
                using var continued = await gw.Http.SendAsync(gw.Post("v1/responses",
                    $$"""{"model":"{{ResponsesSdkSpecs.OpenAiModel}}","input":"more","previous_response_id":"{{id}}"}"""));
                Assert.Equal(HttpStatusCode.BadRequest, continued.StatusCode);
                if (pass == 0) gw = await gw.RestartAsync();
            }
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }

    /// <summary>The compaction specs' upstream (<see cref="SessionCompactionSpecs"/>): 1,024 tokens of context, 128 for the answer.</summary>
    private const string CompactingConfig = """
        models {
          providers {
            ctxoai { baseUrl = "{fake-openai}", apiKey = "sk-ctx-openai-0001", api = "openai-completions",
              models = [{ id = "gpt-4o-mini", contextTokens = 1024, maxTokens = 128 }] }
          }
        }
        agents { defaults { model { primary = "ctxoai/gpt-4o-mini" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        gateway.sessions { snapshotEvery = 2, transcript.keepResident { entries = 10, tokens = 1000 } }
        """;

    private const int Budget = 1024 - 128;

    private static int InputTokens(RecordedRequest r) =>
        TokenCounter.PerRequest + r.Json.RootElement.GetProperty("messages").EnumerateArray()
            .Sum(m => TokenCounter.PerMessage + TokenCounter.O200kBase.Count(m.GetProperty("content").GetString()));

    private static bool IsSummaryRequest(RecordedRequest r) =>
        r.Json.RootElement.GetProperty("messages")[0].GetProperty("content").GetString() == Compactor.Instruction;

    private static string Tide(int turn) => $"Turn {turn}: the tide table for harbour {turn} reads high water at {turn % 12 + 1} o'clock.";

    private static string Answer(int turn) => $"Noted, turn {turn}.";

    private static Func<RecordedRequest, FakeResponse?> Upstream => r =>
    {
        var tokens = InputTokens(r);
        if (tokens > Budget)
            return FakeResponse.Error(400, $"This model's maximum context length is {Budget} tokens. However, your messages resulted in {tokens} tokens.",
                "invalid_request_error", "context_length_exceeded");
        if (IsSummaryRequest(r)) return FakeResponse.Ok("The user read out harbour tide tables; every turn was acknowledged.");
        var last = r.Json.RootElement.GetProperty("messages").EnumerateArray().Last().GetProperty("content").GetString()!;
        return FakeResponse.Ok(Answer(int.Parse(last["Turn ".Length..last.IndexOf(':')])));
    };

    [Fact]
    public async Task Should_send_the_same_prompt_from_the_window_as_from_the_whole_transcript_after_a_compaction_and_a_restart()
    {
        var gw = await GatewayHarness.StartAsync(CompactingConfig);
        try
        {
            gw.Fake.Script = Upstream;
            var turn = 0;
            // Until the session compacted more than once and the window trimmed: then stop on a turn with room for two more messages.
            while (true)
            {
                turn++;
                Assert.True(turn <= 150, "the session never compacted and trimmed");
                await SendAsync(gw, "tides", Tide(turn));
                var last = gw.Fake.Requests[^1];
                if (gw.Fake.Requests.Count(IsSummaryRequest) >= 2 && !IsSummaryRequest(last) && InputTokens(last) < Budget - 80
                    && (await SnapshotAsync(gw, "tides")).State.Archive!.Trimmed > 0)
                    break;
            }
            var sentBefore = gw.Fake.Requests[^1].Json.RootElement.GetProperty("messages").EnumerateArray()
                .Select(m => m.GetProperty("content").GetString()).ToList();
            var snapshot = await SnapshotAsync(gw, "tides");
            Assert.NotNull(snapshot.State.Summary);
            Assert.True(snapshot.State.Transcript.Count < 2 * turn);

            gw = await gw.RestartAsync();
            gw.Fake.Reset();
            gw.Fake.Script = Upstream;
            turn++;
            await SendAsync(gw, "tides", Tide(turn));

            var sentAfter = gw.Fake.Requests.Single().Json.RootElement.GetProperty("messages").EnumerateArray()
                .Select(m => m.GetProperty("content").GetString()).ToList();
            // The same summary and the same kept turns as before the restart, then the previous answer and the new message.
            Assert.Equal([.. sentBefore, Answer(turn - 1), Tide(turn)], sentAfter);
            Assert.Equal(2 * turn, (await TranscriptAsync(gw, "tides", 500)).Count);
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }
}
