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

/// <summary>The sessions API end to end: persistent session entities in front of the fake provider.</summary>
public sealed class SessionsApiSpecs
{
    private const string Config = """
        models {
          providers {
            sesoai { baseUrl = "{fake-openai}", apiKey = "sk-ses-openai-0001", api = "openai-completions", models = [{ id = "gpt-ses", reasoning = true, cost = { input = 3, output = 15 } }] }
            sesant { baseUrl = "{fake-anthropic}", apiKey = "sk-ses-ant-0002", api = "anthropic-messages", models = [{ id = "claude-ses", reasoning = true }] }
          }
        }
        agents { defaults { model { primary = "sesoai/gpt-ses" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> Send(GatewayHarness gw, string key, string json)
    {
        var response = await gw.Http.SendAsync(gw.Post($"v1/sessions/{key}/messages", json));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith("{") ? JsonDocument.Parse(text).RootElement.Clone() : default, response);
    }

    private static async Task<JsonElement> Get(GatewayHarness gw, string path) =>
        JsonDocument.Parse(await gw.Http.GetStringAsync(path)).RootElement.Clone();

    private static string Content(JsonElement completion) =>
        completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

    [Fact]
    public async Task Should_answer_turns_and_send_the_transcript_as_history()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(FakeResponse.Ok("Nice to meet you, Ada."), FakeResponse.Ok("Your name is Ada."));

        var (s1, b1, r1) = await Send(gw, "chat-1", """{"content":"My name is Ada."}""");
        Assert.Equal(HttpStatusCode.OK, s1);
        Assert.Equal("Nice to meet you, Ada.", Content(b1));
        Assert.Equal("sesoai/gpt-ses", r1.Headers.GetValues("x-durar-model").Single());

        var (s2, b2, _) = await Send(gw, "chat-1", """{"content":"What is my name?"}""");
        Assert.Equal(HttpStatusCode.OK, s2);
        Assert.Equal("Your name is Ada.", Content(b2));

        var second = gw.Fake.Requests[1].Json.RootElement.GetProperty("messages");
        Assert.Equal(["user", "assistant", "user"], second.EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("Nice to meet you, Ada.", second[1].GetProperty("content").GetString());

        var view = await Get(gw, "v1/sessions/chat-1");
        Assert.Equal(4, view.GetProperty("transcriptLength").GetInt32());
        Assert.Equal("sesoai/gpt-ses", view.GetProperty("lastModel").GetString());
        Assert.True(view.GetProperty("usage").GetProperty("output").GetInt64() > 0);

        var page = await Get(gw, "v1/sessions/chat-1/messages?offset=1&limit=2");
        Assert.Equal(4, page.GetProperty("total").GetInt32());
        Assert.Equal(["assistant", "user"], page.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("sesoai/gpt-ses", page.GetProperty("messages")[0].GetProperty("model").GetString());
    }

    [Fact]
    public async Task Should_stream_a_turn_with_the_chat_completion_framing()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(new FakeResponse { Text = "one two three" });
        using var response = await gw.Http.SendAsync(gw.Post("v1/sessions/stream-1/messages", """{"content":"count","stream":true}"""));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}", body);
        Assert.Contains("\"delta\":{\"content\":\" three\"}", body);
        Assert.Contains("\"finish_reason\":\"stop\"", body);
        Assert.EndsWith("data: [DONE]\n\n", body);
        var page = await Get(gw, "v1/sessions/stream-1/messages");
        Assert.Equal("one two three", page.GetProperty("messages")[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Should_apply_directive_only_messages_and_carry_them_upstream()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var (status, ack, _) = await Send(gw, "dir-1", """{"content":"/think high /usage tokens"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Thinking level set to high.\nUsage display set to tokens.", Content(ack));
        Assert.Empty(gw.Fake.Requests); // a directive-only message never reaches a provider

        var view = await Get(gw, "v1/sessions/dir-1");
        Assert.Equal("high", view.GetProperty("overrides").GetProperty("thinkingLevel").GetString());
        Assert.Equal("tokens", view.GetProperty("overrides").GetProperty("responseUsage").GetString());
        Assert.Equal(0, view.GetProperty("transcriptLength").GetInt32());

        gw.Fake.Enqueue(new FakeResponse { Text = "Deep thought.", PromptTokens = 1200, CompletionTokens = 34 });
        var (_, reply, _) = await Send(gw, "dir-1", """{"content":"Think about it."}""");
        Assert.Equal("Deep thought.\n\nUsage: 1,200 in · 34 out · 1,234 total", Content(reply));
        Assert.Equal("high", Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("reasoning_effort").GetString());
        // The transcript keeps the model's words, not the usage line.
        Assert.Equal("Deep thought.", (await Get(gw, "v1/sessions/dir-1/messages")).GetProperty("messages")[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Should_apply_an_inline_directive_to_that_message_only()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(FakeResponse.Ok("a"), FakeResponse.Ok("b"));
        await Send(gw, "inline-1", """{"content":"/think low explain briefly"}""");
        await Send(gw, "inline-1", """{"content":"and again"}""");
        Assert.Equal("low", gw.Fake.Requests[0].Json.RootElement.GetProperty("reasoning_effort").GetString());
        Assert.Equal("explain briefly", gw.Fake.Requests[0].Json.RootElement.GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Equal("medium", gw.Fake.Requests[1].Json.RootElement.GetProperty("reasoning_effort").GetString()); // the default for reasoning models
        var view = await Get(gw, "v1/sessions/inline-1");
        Assert.Equal(JsonValueKind.Null, view.GetProperty("overrides").GetProperty("thinkingLevel").ValueKind);
    }

    [Fact]
    public async Task Should_reject_unknown_levels_and_disallowed_models_with_the_reference_text()
    {
        await using var gw = await GatewayHarness.StartAsync(Config + """
            agents { defaults { modelPolicy { allow = ["sesoai/*"] } } }
            """);
        var (s1, e1, _) = await Send(gw, "err-1", """{"content":"/think loud"}""");
        Assert.Equal(HttpStatusCode.BadRequest, s1);
        Assert.StartsWith("Unrecognized thinking level \"loud\".", e1.GetProperty("error").GetProperty("message").GetString());
        var (s2, e2, _) = await Send(gw, "err-1", """{"content":"/model sesant/claude-ses"}""");
        Assert.Equal(HttpStatusCode.Forbidden, s2);
        Assert.Equal("Model override \"sesant/claude-ses\" is not allowed by agents.defaults.modelPolicy.allow.",
            e2.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Should_follow_a_user_model_override_strictly()
    {
        await using var gw = await GatewayHarness.StartAsync(Config + """
            agents { defaults { model { fallbacks = ["sesoai/gpt-ses"] } } }
            """);
        using var patch = await gw.Http.PatchAsync("v1/sessions/ovr-1", new StringContent("""{"model":"sesant/claude-ses","fastMode":"on"}""",
            System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        gw.Fake.Enqueue(FakeResponse.Error(400, "anthropic rejected this request"));
        var (status, error, _) = await Send(gw, "ovr-1", """{"content":"hello"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("anthropic rejected this request", error.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("anthropic", Assert.Single(gw.Fake.Requests).Wire); // strict: no fallback to the configured OpenAI chain

        var (ok, _, response) = await Send(gw, "ovr-1", """{"content":"hello again"}""");
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal("sesant/claude-ses", response.Headers.GetValues("x-durar-model").Single());
    }

    [Fact]
    public async Task Should_keep_the_reply_when_the_client_goes_away()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(new FakeResponse { Text = "a b c d e f g h", ChunkDelay = TimeSpan.FromMilliseconds(100) });
        using (var cts = new CancellationTokenSource())
        {
            var response = await gw.Http.SendAsync(gw.Post("v1/sessions/gone-1/messages", """{"content":"go","stream":true}"""),
                HttpCompletionOption.ResponseHeadersRead, cts.Token);
            var stream = await response.Content.ReadAsStreamAsync(cts.Token);
            Assert.True(await stream.ReadAsync(new byte[64], cts.Token) > 0);
            cts.Cancel();
            response.Dispose();
        }
        var page = await Eventually.Until(() => Get(gw, "v1/sessions/gone-1/messages"), p => p.GetProperty("total").GetInt32() == 2,
            "the reply of the abandoned stream in the transcript", TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100));
        Assert.Equal("a b c d e f g h", page.GetProperty("messages")[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Should_run_chat_completions_inside_a_session_with_the_header()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(FakeResponse.Ok("first"), FakeResponse.Ok("second"));
        for (var i = 0; i < 2; i++)
        {
            var request = gw.Post("v1/chat/completions", """{"model":"durar","messages":[{"role":"system","content":"be kind"},{"role":"user","content":"hi"}]}""");
            request.Headers.Add("x-durar-session-key", "hdr-1");
            using var response = await gw.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var second = gw.Fake.Requests[1].Json.RootElement.GetProperty("messages");
        Assert.Equal(["system", "user", "assistant", "user"], second.EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal(4, (await Get(gw, "v1/sessions/hdr-1")).GetProperty("transcriptLength").GetInt32());

        var bad = gw.Post("v1/chat/completions", """{"model":"durar","messages":[{"role":"user","content":"hi"}]}""");
        bad.Headers.Add("x-durar-session-key", "bad key!");
        using var rejected = await gw.Http.SendAsync(bad);
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("-leading-dash")]
    [InlineData("slash%2Fin")]
    public async Task Should_reject_invalid_session_keys(string key)
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var (status, error, _) = await Send(gw, key, """{"content":"x"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_session_key", error.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Should_answer_queued_followups_in_order_with_each_reply_in_the_history()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(new FakeResponse { Text = "reply one", Latency = TimeSpan.FromMilliseconds(500) }, FakeResponse.Ok("reply two"));
        var first = Send(gw, "queue-1", """{"content":"one"}""");
        await gw.Fake.WaitForRequestAsync(_ => true, TimeSpan.FromSeconds(10));
        var second = Send(gw, "queue-1", """{"content":"two"}""");
        Assert.Equal("reply one", Content((await first).Body));
        Assert.Equal("reply two", Content((await second).Body));
        var history = gw.Fake.Requests[1].Json.RootElement.GetProperty("messages");
        Assert.Equal(["one", "reply one", "two"], history.EnumerateArray().Select(m => m.GetProperty("content").GetString()));
    }

    [Fact]
    public async Task Should_interrupt_the_active_run_for_an_interrupt_message()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        // Held until the interrupt cancels the call (the turn is read whole, so its run asks for a whole answer, not a stream).
        gw.Fake.Enqueue(new FakeResponse { Text = "slow answer", HeldUntil = new TaskCompletionSource().Task }, FakeResponse.Ok("fresh answer"));
        var first = Send(gw, "int-1", """{"content":"long task"}""");
        await gw.Fake.WaitForRequestAsync(_ => true, TimeSpan.FromSeconds(10));
        var (status, body, _) = await Send(gw, "int-1", """{"content":"never mind","queueMode":"interrupt"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("fresh answer", Content(body));
        var (firstStatus, firstBody, _) = await first;
        Assert.Equal(HttpStatusCode.Conflict, firstStatus);
        Assert.Equal("interrupted", firstBody.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Should_keep_transcript_overrides_and_usage_across_a_restart_and_reset_and_delete()
    {
        var gw = await GatewayHarness.StartAsync(Config);
        try
        {
            gw.Fake.Enqueue(new FakeResponse { Text = "remembered", PromptTokens = 10, CompletionTokens = 5 });
            await Send(gw, "dur-1", """{"content":"/fast on"}""");
            await Send(gw, "dur-1", """{"content":"remember this"}""");
            var before = await Get(gw, "v1/sessions/dur-1");

            gw = await gw.RestartAsync();
            var after = await Get(gw, "v1/sessions/dur-1");
            Assert.Equal(before.GetProperty("transcriptLength").GetInt32(), after.GetProperty("transcriptLength").GetInt32());
            Assert.Equal("on", after.GetProperty("overrides").GetProperty("fastMode").GetString());
            Assert.Equal(10, after.GetProperty("usage").GetProperty("input").GetInt64());
            Assert.Equal(before.GetProperty("authProfile").GetProperty("id").GetString(), after.GetProperty("authProfile").GetProperty("id").GetString());

            using var reset = await gw.Http.PostAsync("v1/sessions/dur-1/reset", null);
            var afterReset = JsonDocument.Parse(await reset.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(0, afterReset.GetProperty("transcriptLength").GetInt32());
            Assert.Equal("on", afterReset.GetProperty("overrides").GetProperty("fastMode").GetString());

            using var deleted = await gw.Http.DeleteAsync("v1/sessions/dur-1");
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            using var gone = await gw.Http.GetAsync("v1/sessions/dur-1");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }

    /// <summary>The session entities this node hosts (read from the sessions shard region).</summary>
    private static async Task<IReadOnlySet<string>> ResidentSessions(GatewayHarness gw)
    {
        var region = gw.Services.GetRequiredService<ActorRegistry>().Get<SessionRegionKey>();
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5));
        return state.Shards.SelectMany(s => s.EntityIds).ToHashSet();
    }

    [Fact]
    public async Task Should_answer_404_to_a_read_of_an_unknown_session_without_starting_one()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(FakeResponse.Ok("hello"));
        await Send(gw, "known-1", """{"content":"hi"}""");

        foreach (var path in new[] { "v1/sessions/never-1", "v1/sessions/never-1/messages" })
        {
            using var response = await gw.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Equal("session_not_found", error.GetProperty("code").GetString());
        }
        Assert.Equal(2, (await Get(gw, "v1/sessions/known-1")).GetProperty("transcriptLength").GetInt32());
        var resident = await ResidentSessions(gw);
        Assert.Contains("known-1", resident);
        Assert.DoesNotContain("never-1", resident);
    }

    [Fact]
    public async Task Should_answer_a_delete_after_it_is_done_and_leave_nothing_of_the_session_in_the_journal()
    {
        // A snapshot every 2 events: the session has events and snapshots to delete.
        await using var gw = await GatewayHarness.StartAsync(Config + "\ngateway.sessions.snapshotEvery = 2\n");
        gw.Fake.Enqueue(FakeResponse.Ok("secret answer one"), FakeResponse.Ok("secret answer two"));
        await Send(gw, "del-1", """{"content":"secret question one"}""");
        await Send(gw, "del-1", """{"content":"secret question two"}""");
        await using var db = new SqliteConnection($"Data Source={Path.Combine(gw.DataDir, "durar.db")}");
        await db.OpenAsync();
        // Snapshots are written after the event they follow: wait until there is one.
        await Eventually.Until(() => CountAsync(db, "SELECT count(*) FROM snapshot WHERE persistence_id = 'session-del-1'"), n => n > 0,
            "a snapshot of session del-1", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));

        using var deleted = await gw.Http.DeleteAsync("v1/sessions/del-1");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);

        // Read at once, no waiting: the answer came after the delete.
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM snapshot WHERE persistence_id = 'session-del-1'"));
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM journal WHERE persistence_id = 'session-del-1' AND deleted = 0"));
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM journal WHERE persistence_id = 'session-del-1' AND CAST(message AS TEXT) LIKE '%secret%'"));
    }

    private static async Task<long> CountAsync(SqliteConnection db, string sql)
    {
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private const string ShortIdle = "\ngateway.sessions.idleTimeout = 1s\n";

    [Fact]
    public async Task Should_passivate_an_idle_session_and_recover_every_message_once_and_in_order()
    {
        await using var gw = await GatewayHarness.StartAsync(Config + ShortIdle);
        gw.Fake.Enqueue(FakeResponse.Ok("reply one"), FakeResponse.Ok("reply two"), FakeResponse.Ok("reply three"));
        await Send(gw, "pas-1", """{"content":"one"}""");
        await Send(gw, "pas-1", """{"content":"two"}""");
        Assert.Contains("pas-1", await ResidentSessions(gw));

        // Passivation comes after about 1 s idle; the timeout only bounds a hang.
        await Eventually.Until(() => ResidentSessions(gw), resident => !resident.Contains("pas-1"), "session pas-1 passivated",
            TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100), describe: resident => string.Join(", ", resident));

        // The next message wakes the session up from the journal: the history it sends holds every message once, in order.
        var (status, body, _) = await Send(gw, "pas-1", """{"content":"three"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("reply three", Content(body));
        var history = gw.Fake.Requests[2].Json.RootElement.GetProperty("messages");
        Assert.Equal(["one", "reply one", "two", "reply two", "three"], history.EnumerateArray().Select(m => m.GetProperty("content").GetString()));
        var page = await Get(gw, "v1/sessions/pas-1/messages");
        Assert.Equal(["one", "reply one", "two", "reply two", "three", "reply three"],
            page.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()));
    }

    [Fact]
    public async Task Should_not_passivate_a_session_during_a_run_longer_than_the_idle_timeout()
    {
        await using var gw = await GatewayHarness.StartAsync(Config + ShortIdle);
        // About 3 s of streaming, during which the session itself receives no message: three idle timeouts.
        gw.Fake.Enqueue(new FakeResponse { Text = "a b c d e f", ChunkDelay = TimeSpan.FromMilliseconds(500) });
        var (status, body, _) = await Send(gw, "long-1", """{"content":"take your time"}""");

        // A session passivated mid-run would have ended the reply with a 503 (session_stopped).
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("a b c d e f", Content(body));
        var page = await Get(gw, "v1/sessions/long-1/messages");
        Assert.Equal(2, page.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Should_keep_a_key_with_escaped_characters_through_sharding()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(FakeResponse.Ok("hello"));
        const string key = "team:a.b_c-d@example";
        var (status, _, _) = await Send(gw, key, """{"content":"hi"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(key, await ResidentSessions(gw));
        var view = await Get(gw, $"v1/sessions/{key}");
        Assert.Equal(key, view.GetProperty("key").GetString());
        Assert.Equal(2, view.GetProperty("transcriptLength").GetInt32());
    }
}
