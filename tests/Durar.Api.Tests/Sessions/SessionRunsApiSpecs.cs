using System.Net;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Sessions;

/// <summary>
/// Session runs over HTTP end to end (issue 18), against the fake provider and a real SQLite journal: the run id of a
/// turn (header and body) and its status with <c>?wait=</c>; <c>POST .../abort</c> of a long streaming turn; and a turn
/// sent twice with one <c>Idempotency-Key</c>, concurrently and again after a restart of the gateway on the same data.
/// </summary>
public sealed class SessionRunsApiSpecs
{
    private const string Config = """
        models {
          providers {
            runoai { baseUrl = "{fake-openai}", apiKey = "sk-run-openai-0001", api = "openai-completions", models = [{ id = "gpt-run", cost = { input = 3, output = 15 } }] }
          }
        }
        agents { defaults { model { primary = "runoai/gpt-run" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> Send(GatewayHarness gw, string path,
        string json, string? idempotencyKey = null, string? sessionKey = null)
    {
        var request = gw.Post(path, json);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        if (sessionKey is not null) request.Headers.Add("x-durar-session-key", sessionKey);
        var response = await gw.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonDocument.Parse(text).RootElement.Clone() : default, response);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Get(GatewayHarness gw, string path)
    {
        using var response = await gw.Http.GetAsync(path);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static string Content(JsonElement completion) =>
        completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

    private static string Error(JsonElement body) => body.GetProperty("error").GetProperty("code").GetString()!;

    [Fact]
    public async Task Should_name_each_turn_by_its_run_and_report_the_run_waiting_for_its_end()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(new FakeResponse { Text = "one two three", PromptTokens = 20, CompletionTokens = 3 });
        var (status, body, response) = await Send(gw, "v1/sessions/run-1/messages", """{"content":"count"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var runId = response.Headers.GetValues("x-durar-run-id").Single();
        Assert.Matches("^run_[0-9a-f]{24}$", runId);
        Assert.Equal(runId, body.GetProperty("runId").GetString());
        Assert.Equal("chatcmpl-" + runId, body.GetProperty("id").GetString());

        var (ok, run) = await Get(gw, $"v1/sessions/run-1/runs/{runId}");
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(("done", "runoai/gpt-run", 20, 3), (run.GetProperty("status").GetString(), run.GetProperty("model").GetString(),
            run.GetProperty("usage").GetProperty("input").GetInt32(), run.GetProperty("usage").GetProperty("output").GetInt32()));
        Assert.Equal(JsonValueKind.Null, run.GetProperty("error").ValueKind);

        // A streamed turn: the run id comes with the headers, and a wait returns when the run is done.
        gw.Fake.Enqueue(new FakeResponse { Text = "a b c d e f g h i j", ChunkDelay = TimeSpan.FromMilliseconds(150) });
        using var streamed = await gw.Http.SendAsync(gw.Post("v1/sessions/run-1/messages", """{"content":"slowly","stream":true}"""),
            HttpCompletionOption.ResponseHeadersRead);
        var streamedRun = streamed.Headers.GetValues("x-durar-run-id").Single();
        var (_, running) = await Get(gw, $"v1/sessions/run-1/runs/{streamedRun}");
        Assert.Equal("running", running.GetProperty("status").GetString());
        var (_, waited) = await Get(gw, $"v1/sessions/run-1/runs/{streamedRun}?wait=30s");
        Assert.Equal("done", waited.GetProperty("status").GetString());
        // Stream chunks are named after the run too (their id), the run id itself being in the header.
        var chunks = await streamed.Content.ReadAsStringAsync();
        Assert.Contains($"\"id\":\"chatcmpl-{streamedRun}\"", chunks, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", chunks, StringComparison.Ordinal);

        var (badWait, badWaitBody) = await Get(gw, $"v1/sessions/run-1/runs/{runId}?wait=soon");
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_wait", "wait"),
            (badWait, Error(badWaitBody), badWaitBody.GetProperty("error").GetProperty("param").GetString()));
        var (unknown, unknownBody) = await Get(gw, "v1/sessions/run-1/runs/run_000000000000000000000000");
        Assert.Equal((HttpStatusCode.NotFound, "run_not_found"), (unknown, Error(unknownBody)));
        var (badId, badIdBody) = await Get(gw, "v1/sessions/run-1/runs/no%20such%20run");
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_run_id"), (badId, Error(badIdBody)));
        var (noSession, noSessionBody) = await Get(gw, $"v1/sessions/never-1/runs/{runId}");
        Assert.Equal((HttpStatusCode.NotFound, "session_not_found"), (noSession, Error(noSessionBody)));
    }

    [Fact]
    public async Task Should_abort_a_long_streaming_turn_keep_the_partial_reply_marked_aborted_and_run_the_next_turn()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(new FakeResponse { Text = "the first words and then nothing", StallAfterChunks = 3 });
        using var response = await gw.Http.SendAsync(gw.Post("v1/sessions/abort-1/messages", """{"content":"talk","stream":true}"""),
            HttpCompletionOption.ResponseHeadersRead);
        var runId = response.Headers.GetValues("x-durar-run-id").Single();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var frames = new List<string>();
        while (frames.Count(f => f.Contains("\"content\":\"", StringComparison.Ordinal) && !f.Contains("\"content\":\"\"", StringComparison.Ordinal)) < 3
               && await reader.ReadLineAsync().WaitAsync(Patience) is { } line)
            if (line.StartsWith("data: ", StringComparison.Ordinal)) frames.Add(line);

        var (status, aborted, _) = await Send(gw, "v1/sessions/abort-1/abort", "{}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(aborted.GetProperty("aborted").GetBoolean());
        Assert.Equal([runId], aborted.GetProperty("runIds").EnumerateArray().Select(e => e.GetString()));
        await gw.Fake.WaitForClientAbortAsync(Patience); // the upstream saw its call cancelled

        var rest = await reader.ReadToEndAsync().WaitAsync(Patience);
        Assert.Contains("\"code\":\"aborted\"", rest, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", rest, StringComparison.Ordinal);
        var (_, run) = await Get(gw, $"v1/sessions/abort-1/runs/{runId}?wait=10s");
        Assert.Equal(("aborted", "aborted"), (run.GetProperty("status").GetString(), run.GetProperty("error").GetProperty("code").GetString()));
        var (_, page) = await Get(gw, "v1/sessions/abort-1/messages");
        var last = page.GetProperty("messages").EnumerateArray().Last();
        Assert.Equal(("assistant", "the first words", true),
            (last.GetProperty("role").GetString(), last.GetProperty("content").GetString(), last.GetProperty("aborted").GetBoolean()));

        var (next, reply, _) = await Send(gw, "v1/sessions/abort-1/messages", """{"content":"go on"}""");
        Assert.Equal(HttpStatusCode.OK, next);
        Assert.Equal("Hello from fake: go on", Content(reply));

        var (nothing, idle, _) = await Send(gw, "v1/sessions/abort-1/abort", """{"clearQueued":true}""");
        Assert.Equal(HttpStatusCode.OK, nothing);
        Assert.False(idle.GetProperty("aborted").GetBoolean());
        var (bad, badBody, _) = await Send(gw, "v1/sessions/abort-1/abort", """{"clearQueue":true}""");
        Assert.Equal((HttpStatusCode.BadRequest, "unknown_field"), (bad, Error(badBody)));
    }

    [Fact]
    public async Task Should_run_a_turn_once_for_one_idempotency_key_sent_twice_concurrently_and_again_after_a_restart()
    {
        var gw = await GatewayHarness.StartAsync(Config);
        try
        {
            gw.Fake.Enqueue(new FakeResponse { Text = "charged exactly once", ChunkDelay = TimeSpan.FromMilliseconds(100), PromptTokens = 9, CompletionTokens = 3 });
            const string body = """{"content":"charge the card"}""";
            var both = await Task.WhenAll(
                Send(gw, "v1/sessions/idem-1/messages", body, "order-42"),
                Send(gw, "v1/sessions/idem-1/messages", body, "order-42"));

            Assert.All(both, answer => Assert.Equal(HttpStatusCode.OK, answer.Status));
            Assert.Equal(Content(both[0].Body), Content(both[1].Body));
            Assert.Equal("charged exactly once", Content(both[0].Body));
            Assert.Equal(both[0].Body.GetProperty("id").GetString(), both[1].Body.GetProperty("id").GetString());
            Assert.Equal(both[0].Body.GetProperty("usage").GetRawText(), both[1].Body.GetProperty("usage").GetRawText());
            Assert.Equal(1, gw.Fake.RequestCount);
            var (_, view) = await Get(gw, "v1/sessions/idem-1");
            Assert.Equal(2, view.GetProperty("transcriptLength").GetInt32());

            gw = await gw.RestartAsync();
            var (again, answer, _) = await Send(gw, "v1/sessions/idem-1/messages", body, "order-42");
            Assert.Equal(HttpStatusCode.OK, again);
            Assert.Equal(("charged exactly once", both[0].Body.GetProperty("id").GetString()), (Content(answer), answer.GetProperty("id").GetString()));
            Assert.Equal(1, gw.Fake.RequestCount);
            Assert.Equal(2, (await Get(gw, "v1/sessions/idem-1")).Body.GetProperty("transcriptLength").GetInt32());

            // Another key is another turn; chat completions in a session honour the header the same way.
            gw.Fake.Enqueue(FakeResponse.Ok("second"));
            const string chat = """{"model":"durar","messages":[{"role":"user","content":"and again"}]}""";
            var (c1, first, _) = await Send(gw, "v1/chat/completions", chat, "order-43", "idem-1");
            var (c2, second, _) = await Send(gw, "v1/chat/completions", chat, "order-43", "idem-1");
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (c1, c2));
            Assert.Equal(("second", "second"), (Content(first), Content(second)));
            Assert.Equal(2, gw.Fake.RequestCount);

            var (bad, badBody, _) = await Send(gw, "v1/sessions/idem-1/messages", body, new string('k', 256));
            Assert.Equal((HttpStatusCode.BadRequest, "invalid_idempotency_key"), (bad, Error(badBody)));
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }
}
