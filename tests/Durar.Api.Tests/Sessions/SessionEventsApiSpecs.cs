using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Testing;
using static Durar.Api.Tests.Access.TokenGateway;

namespace Durar.Api.Tests.Sessions;

/// <summary>
/// <c>GET /v1/sessions/{key}/events</c> end to end (issue 18), against the fake provider and a real SQLite journal: two
/// watchers, one that reads nothing (cut with <c>event: dropped</c> while the run and the other watcher go on); a resume
/// with <c>Last-Event-ID</c> replaying what was journaled since (and a <c>gap</c> beyond the replay bound); the session
/// namespace of client tokens; and the fallback notice given once on the reply, the stream and the session.
/// </summary>
public sealed class SessionEventsApiSpecs
{
    private const string Config = """
        models {
          providers {
            evoai { baseUrl = "{fake-openai}", apiKey = "sk-ev-openai-0001", api = "openai-completions", models = [{ id = "gpt-ev" }] }
            evant { baseUrl = "{fake-anthropic}", apiKey = "sk-ev-ant-0002", api = "anthropic-messages", models = [{ id = "claude-ev" }] }
          }
        }
        agents { defaults { model { primary = "evoai/gpt-ev" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static async Task<HttpResponseMessage> TurnAsync(GatewayHarness gw, string key, string content)
    {
        var response = await gw.Http.SendAsync(gw.Post($"v1/sessions/{key}/messages", JsonSerializer.Serialize(new { content })));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    private static bool Finished(WatchedEvent e) => e.Name is "run.finished" or "run.failed" or "run.aborted";

    /// <summary>An HTTP client whose sockets take in little at a time: a watcher that does not read fills up quickly.</summary>
    private static HttpClient SmallWindowClient(Uri baseUri) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
            await socket.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
    }) { BaseAddress = baseUri, Timeout = Timeout.InfiniteTimeSpan };

    [Fact]
    public async Task Should_give_a_fast_watcher_every_event_in_order_and_cut_a_slow_one_without_slowing_the_run()
    {
        // A context large enough for the whole history (no compaction call takes one of the queued answers).
        await using var gw = await GatewayHarness.StartAsync(Config.Replace("""{ id = "gpt-ev" }""", """{ id = "gpt-ev", contextWindow = 50000000 }""",
            StringComparison.Ordinal) + "gateway.sessions.events.watcherBuffer = 256");
        const string key = "watch-1";
        (await TurnAsync(gw, key, "hello")).Dispose();

        await using var fast = await SessionEventWatcher.OpenAsync(gw.Http, key);
        using var slowClient = SmallWindowClient(gw.BaseUri);
        await using var slow = await SessionEventWatcher.OpenAsync(slowClient, key); // and then reads nothing until the run is over
        const int turns = 30, pieces = 100;
        var finishedTurns = 0;
        var fastRead = fast.ReadUntilAsync(e => Finished(e) && ++finishedTurns == turns, TimeSpan.FromSeconds(120));

        // Far more than the slow watcher's socket buffers and its queue hold: 30 turns of 100 deltas of 800 characters.
        var piece = new string('x', 799) + " ";
        var text = string.Concat(Enumerable.Repeat(piece, pieces));
        for (var i = 0; i < turns; i++) gw.Fake.Enqueue(new FakeResponse { Text = text, Chunks = pieces });
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < turns; i++)
            using (var turn = await TurnAsync(gw, key, $"long answer {i}"))
            {
                var body = JsonDocument.Parse(await turn.Content.ReadAsStringAsync()).RootElement;
                Assert.Equal(text, body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
            }
        // Not slowed: the turns end while the slow watcher is still stalled (a generous bound for a loaded machine).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), $"the runs took {clock.Elapsed}");

        // The slow watcher: what it had in flight, then the final event, then the end of the stream.
        var cut = await slow.ReadToEndAsync(Patience);
        Assert.Equal("dropped", cut[^1].Name);
        Assert.Equal(("slow_watcher", 256), (cut[^1].Data.GetProperty("reason").GetString(), cut[^1].Data.GetProperty("buffer").GetInt32()));
        Assert.True(cut.Count(e => e.Name == "run.finished") < turns, $"{cut.Count(e => e.Name == "run.finished")} turns reached the slow watcher");

        // The fast watcher: every event, in order, turn after turn.
        var seen = await fastRead;
        Assert.Equal(turns * (pieces + 3), seen.Count); // nothing else, nothing twice
        long? lastId = 0;
        for (var i = 0; i < turns; i++)
        {
            var one = seen.Skip(i * (pieces + 3)).Take(pieces + 3).ToList();
            Assert.Equal(("turn.accepted", $"long answer {i}"), (one[0].Name, one[0].Data.GetProperty("content").GetString()));
            var runId = one[0].Data.GetProperty("runId").GetString();
            Assert.Equal(("run.started", "evoai/gpt-ev", runId), (one[1].Name, one[1].Data.GetProperty("model").GetString(),
                one[1].Data.GetProperty("runIds")[0].GetString()));
            var deltas = one.Skip(2).Take(pieces).ToList();
            Assert.All(deltas, d => Assert.Equal(("delta", null), (d.Name, d.Id))); // live only: no id
            Assert.Equal(text, string.Concat(deltas.Select(d => d.Data.GetProperty("text").GetString())));
            Assert.Equal(("run.finished", runId), (one[^1].Name, one[^1].Data.GetProperty("runIds")[0].GetString()));
            // Journaled facts carry increasing journal ids.
            Assert.True(one[0].Id > lastId && one[^1].Id > one[0].Id, $"turn {i}: {one[0].Id}, {one[^1].Id} after {lastId}");
            lastId = one[^1].Id;
        }
    }

    [Fact]
    public async Task Should_replay_what_was_journaled_after_the_last_event_id_then_go_on_live()
    {
        await using var gw = await GatewayHarness.StartAsync(Config + "gateway.sessions.events.replayMax = 4");
        const string key = "resume-1";
        (await TurnAsync(gw, key, "one")).Dispose();

        List<WatchedEvent> first;
        await using (var watcher = await SessionEventWatcher.OpenAsync(gw.Http, key))
        {
            var reading = watcher.ReadUntilAsync(e => e.Name == "run.finished", Patience);
            (await TurnAsync(gw, key, "two")).Dispose();
            first = await reading;
        }
        var lastId = first.Last(e => e.Id is not null).Id!.Value;

        // While nobody watches: a turn and an override change.
        (await TurnAsync(gw, key, "three")).Dispose();
        using (var patch = await gw.Http.PatchAsync($"v1/sessions/{key}",
                   new StringContent("""{"thinkingLevel":"high"}""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        await using var resumed = await SessionEventWatcher.OpenAsync(gw.Http, key, lastId);
        var replayed = await resumed.ReadUntilAsync(e => e.Name == "overrides.changed" && e.Data.GetProperty("thinkingLevel").GetString() == "high", Patience);
        Assert.Equal(["turn.accepted", "run.finished"], replayed.Take(2).Select(e => e.Name));
        Assert.Equal("three", replayed[0].Data.GetProperty("content").GetString());
        Assert.Equal("Hello from fake: three", replayed[1].Data.GetProperty("content").GetString());
        Assert.All(replayed, e => Assert.True(e.Id > lastId, $"{e.Name} {e.Id} after {lastId}"));
        Assert.Equal(replayed.Select(e => e.Id), replayed.Select(e => e.Id).Order());
        Assert.DoesNotContain(replayed, e => e.Name == "delta"); // live only

        // Then the live stream, numbered after the replay, with nothing repeated.
        var live = resumed.ReadUntilAsync(e => e.Name == "run.finished", Patience);
        (await TurnAsync(gw, key, "four")).Dispose();
        var next = await live;
        Assert.Equal("four", next.First(e => e.Name == "turn.accepted").Data.GetProperty("content").GetString());
        Assert.True(next.First(e => e.Name == "turn.accepted").Id > replayed[^1].Id);
        Assert.Contains(next, e => e.Name == "delta");

        // From the start: more than replayMax events were journaled, so a gap first, then the newest four.
        await using var fromStart = await SessionEventWatcher.OpenAsync(gw.Http, key, 0);
        var gap = await fromStart.NextAsync();
        Assert.Equal("gap", gap!.Name);
        Assert.Equal(1, gap.Data.GetProperty("from").GetInt64());
        var newest = new List<WatchedEvent>();
        for (var i = 0; i < 4; i++) newest.Add((await fromStart.NextAsync())!);
        Assert.Equal(gap.Data.GetProperty("to").GetInt64() + 1, newest[0].Id);
        Assert.Equal("run.finished", newest[^1].Name);
        Assert.Equal("Hello from fake: four", newest[^1].Data.GetProperty("content").GetString());
    }

    [Fact]
    public async Task Should_refuse_a_bad_last_event_id_and_an_unknown_session_without_creating_it()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        (await TurnAsync(gw, "known-1", "hi")).Dispose();
        using var bad = new HttpRequestMessage(HttpMethod.Get, "v1/sessions/known-1/events");
        bad.Headers.Add("Last-Event-ID", "yesterday");
        using var badResponse = await gw.Http.SendAsync(bad);
        var error = JsonDocument.Parse(await badResponse.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(HttpStatusCode.BadRequest, badResponse.StatusCode);
        Assert.Equal(("invalid_last_event_id", "Last-Event-ID"), (error.GetProperty("code").GetString(), error.GetProperty("param").GetString()));

        using var unknown = await gw.Http.GetAsync("v1/sessions/nobody-1/events");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("session_not_found", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var still = await gw.Http.GetAsync("v1/sessions/nobody-1"); // the watch did not create it
        Assert.Equal(HttpStatusCode.NotFound, still.StatusCode);
    }

    [Fact]
    public async Task Should_keep_a_client_token_to_its_own_sessions_and_let_the_operator_watch_any()
    {
        await using var gw = await GatewayHarness.StartAsync(Access.TokenGateway.Config);
        var created = await CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "sessions") });
        var (a, aId) = (created.GetProperty("secret").GetString()!, created.GetProperty("id").GetString()!);
        var b = (await CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "sessions") })).GetProperty("secret").GetString()!;
        var chatOnly = (await CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat") })).GetProperty("secret").GetString()!;
        var (turn, _, _) = await SendAsync(gw, HttpMethod.Post, "v1/sessions/demo/messages", """{"content":"hello"}""", a);
        Assert.Equal(HttpStatusCode.OK, turn);

        await using (var own = await SessionEventWatcher.OpenAsync(gw.Http, "demo", 0, a))
            Assert.Equal("turn.accepted", (await own.NextAsync())!.Name); // replayed from the start
        var (other, otherError, _) = await SendAsync(gw, HttpMethod.Get, "v1/sessions/demo/events", null, b);
        Assert.Equal((HttpStatusCode.NotFound, "session_not_found"), (other, Code(otherError)));
        var (scope, scopeError, _) = await SendAsync(gw, HttpMethod.Get, "v1/sessions/demo/events", null, chatOnly);
        Assert.Equal((HttpStatusCode.Forbidden, "missing_scope"), (scope, Code(scopeError)));

        await using var op = await SessionEventWatcher.OpenAsync(gw.Http, $"ct-{aId}:demo", 0, OperatorToken);
        var replayed = await op.ReadUntilAsync(e => e.Name == "run.finished", Patience);
        Assert.Equal("hello", replayed[0].Data.GetProperty("content").GetString());
    }

    [Fact]
    public async Task Should_say_once_on_the_reply_the_stream_and_the_session_that_another_model_answered()
    {
        var gw = await GatewayHarness.StartAsync(Config + """
            agents { defaults { model { fallbacks = ["evant/claude-ev"] } } }
            """);
        try
        {
            const string key = "fallback-1";
            using (var first = await TurnAsync(gw, key, "hi"))
        {
                Assert.Equal("evoai/gpt-ev", first.Headers.GetValues("x-durar-model").Single());
                Assert.False(first.Headers.Contains("x-durar-fallback-from"));
            }
            await using var watcher = await SessionEventWatcher.OpenAsync(gw.Http, key);

            // The session's model is refused for good (its one key is rejected): the fallback answers.
            gw.Fake.Enqueue(FakeResponse.Error(401, "invalid api key"));
            string reason;
            using (var fallback = await TurnAsync(gw, key, "again"))
        {
                Assert.Equal("evant/claude-ev", fallback.Headers.GetValues("x-durar-model").Single());
                Assert.Equal("evoai/gpt-ev", fallback.Headers.GetValues("x-durar-fallback-from").Single());
                reason = fallback.Headers.GetValues("x-durar-fallback-reason").Single();
                Assert.False(string.IsNullOrEmpty(reason));
            }
            // Once: the next turn answered by the same fallback says nothing more.
            using (var quiet = await TurnAsync(gw, key, "and again"))
        {
                Assert.Equal("evant/claude-ev", quiet.Headers.GetValues("x-durar-model").Single());
                Assert.False(quiet.Headers.Contains("x-durar-fallback-from"));
            }

            var seen = await watcher.ReadUntilAsync(e => e.Name == "run.finished" && e.Data.GetProperty("content").GetString()!.EndsWith("and again", StringComparison.Ordinal),
                Patience);
            var notice = Assert.Single(seen, e => e.Name == "fallback");
            Assert.NotNull(notice.Id); // journaled
            Assert.Equal(("evoai/gpt-ev", "evant/claude-ev", reason), (notice.Data.GetProperty("selectedModel").GetString(),
                notice.Data.GetProperty("activeModel").GetString(), notice.Data.GetProperty("reason").GetString()));

            var view = JsonDocument.Parse(await gw.Http.GetStringAsync($"v1/sessions/{key}")).RootElement.GetProperty("fallback");
            Assert.Equal(("evoai/gpt-ev", "evant/claude-ev", reason), (view.GetProperty("selectedModel").GetString(),
                view.GetProperty("activeModel").GetString(), view.GetProperty("reason").GetString()));

            // Recorded in the journal: the notice survives a restart of the gateway.
            await watcher.DisposeAsync();
            gw = await gw.RestartAsync();
            var after = JsonDocument.Parse(await gw.Http.GetStringAsync($"v1/sessions/{key}")).RootElement.GetProperty("fallback");
            Assert.Equal("evant/claude-ev", after.GetProperty("activeModel").GetString());
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }
}
