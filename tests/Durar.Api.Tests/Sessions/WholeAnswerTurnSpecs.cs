using System.Net;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Sessions;

/// <summary>
/// A session turn whose client reads one answer (<c>stream</c> off) asks its upstream for a whole answer, as a stateless
/// request with <c>stream</c> off does (issue 17: a non-streaming turn no longer parses and fans out a stream of chunks
/// nobody reads one by one). The client's answer and the transcript are what a streamed run gives; a streamed turn, and
/// any turn while a watcher reads the session's events live, still streams.
/// </summary>
public sealed class WholeAnswerTurnSpecs
{
    private const string Config = """
        models {
          providers {
            whoai { baseUrl = "{fake-openai}", apiKey = "sk-whole-openai-0001", api = "openai-completions", models = [{ id = "gpt-whole", contextWindow = 1000000 }] }
            whoant { baseUrl = "{fake-anthropic}", apiKey = "sk-whole-ant-0002", api = "anthropic-messages", models = [{ id = "claude-whole", reasoning = true, contextWindow = 1000000 }] }
          }
        }
        agents { defaults { model { primary = "whoai/gpt-whole" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(GatewayHarness gw, string key, string json)
    {
        using var response = await gw.Http.SendAsync(gw.Post($"v1/sessions/{key}/messages", json));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static JsonElement Message(string completion) =>
        JsonDocument.Parse(completion).RootElement.GetProperty("choices")[0].GetProperty("message").Clone();

    /// <summary>The text of an SSE chat completion stream: its chunks' first-choice content, joined.</summary>
    private static string StreamedText(string sse) => string.Concat(sse.Split('\n')
        .Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
        .Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement.GetProperty("choices"))
        .Where(c => c.GetArrayLength() > 0 && c[0].GetProperty("delta").TryGetProperty("content", out var t) && t.ValueKind == JsonValueKind.String)
        .Select(c => c[0].GetProperty("delta").GetProperty("content").GetString()));

    [Fact]
    public async Task Should_ask_for_a_whole_answer_when_the_turn_is_read_whole_and_for_a_stream_when_it_is_streamed()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(new FakeResponse { Text = "one whole answer", Chunks = 3, PromptTokens = 7, CompletionTokens = 3 },
            new FakeResponse { Text = "a streamed answer", Chunks = 3, PromptTokens = 5 });

        var (status, body) = await SendAsync(gw, "whole-1", """{"content":"first"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("one whole answer", Message(body).GetProperty("content").GetString());
        Assert.Equal(7, JsonDocument.Parse(body).RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.False(gw.Fake.Requests[0].Stream);

        var (streamed, events) = await SendAsync(gw, "whole-1", """{"content":"second","stream":true}""");
        Assert.Equal(HttpStatusCode.OK, streamed);
        Assert.True(gw.Fake.Requests[1].Stream);
        Assert.Equal("a streamed answer", StreamedText(events));
        Assert.EndsWith("data: [DONE]\n\n", events);

        // The whole answer is in the transcript like a streamed one: the second turn sent it back as history.
        var history = gw.Fake.Requests[1].Json.RootElement.GetProperty("messages");
        Assert.Equal(["first", "one whole answer", "second"], history.EnumerateArray().Select(m => m.GetProperty("content").GetString()));
        var session = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/sessions/whole-1")).RootElement;
        Assert.Equal(7 + 5, session.GetProperty("usage").GetProperty("input").GetInt64()); // the whole answer's usage counted
    }

    [Fact]
    public async Task Should_keep_a_whole_answers_tool_call_and_signed_reasoning_in_the_transcript()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(
            new FakeResponse { ToolCall = new FakeToolCall("get_weather", """{"city":"Oslo"}""", "call_7") },
            new FakeResponse { Text = "It is cold.", Reasoning = "think about Oslo", ReasoningSignature = "sig-whole" },
            FakeResponse.Ok("noted"));

        var (s1, b1) = await SendAsync(gw, "whole-2", """{"content":"weather?"}""");
        Assert.Equal(HttpStatusCode.OK, s1);
        var call = Message(b1).GetProperty("tool_calls")[0];
        Assert.Equal("call_7", call.GetProperty("id").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("tool_calls", JsonDocument.Parse(b1).RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());

        var (s2, b2) = await SendAsync(gw, "whole-2", """{"content":"and now?","model":"whoant/claude-whole"}""");
        Assert.Equal(HttpStatusCode.OK, s2);
        Assert.Equal("It is cold.", Message(b2).GetProperty("content").GetString());
        Assert.False(gw.Fake.Requests[1].Stream);
        var (s3, _) = await SendAsync(gw, "whole-2", """{"content":"thanks","model":"whoant/claude-whole"}""");
        Assert.Equal(HttpStatusCode.OK, s3);

        // The third request carries the first answer's tool call and the second's thinking with its signature.
        var sent = gw.Fake.Requests[2].Json.RootElement.GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("role").GetString() == "assistant").ToList();
        Assert.Contains(sent, m => m.GetProperty("content").EnumerateArray()
            .Any(b => b.GetProperty("type").GetString() == "tool_use" && b.GetProperty("id").GetString() == "call_7"));
        var thinking = sent.SelectMany(m => m.GetProperty("content").EnumerateArray()).Single(b => b.GetProperty("type").GetString() == "thinking");
        Assert.Equal("think about Oslo", thinking.GetProperty("thinking").GetString());
        Assert.Equal("sig-whole", thinking.GetProperty("signature").GetString());
    }

    [Fact]
    public async Task Should_stream_a_turn_read_whole_while_a_watcher_reads_the_session_live()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(gw, "whole-3", """{"content":"hello"}""")).Status);
        Assert.False(gw.Fake.Requests[0].Stream);

        await using var watcher = await SessionEventWatcher.OpenAsync(gw.Http, "whole-3");
        var watched = watcher.ReadUntilAsync(e => e.Name == "run.finished", Patience);
        gw.Fake.Enqueue(new FakeResponse { Text = "three separate pieces", Chunks = 3 });
        var (status, body) = await SendAsync(gw, "whole-3", """{"content":"watched"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("three separate pieces", Message(body).GetProperty("content").GetString());

        Assert.True(gw.Fake.Requests[1].Stream);
        var deltas = (await watched).Where(e => e.Name == "delta").ToList();
        Assert.True(deltas.Count >= 3, $"the watcher saw {deltas.Count} deltas of a three-chunk answer");
    }

    [Fact]
    public async Task Should_end_an_interrupted_whole_answer_run_as_interrupted_with_no_partial_text()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(new FakeResponse { Text = "never sent", HeldUntil = new TaskCompletionSource().Task }, FakeResponse.Ok("fresh answer"));
        var first = SendAsync(gw, "whole-4", """{"content":"long task"}""");
        var upstream = await gw.Fake.WaitForRequestAsync(_ => true, Patience);
        Assert.False(upstream.Stream);

        var (status, body) = await SendAsync(gw, "whole-4", """{"content":"never mind","queueMode":"interrupt"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("fresh answer", Message(body).GetProperty("content").GetString());
        var (firstStatus, firstBody) = await first;
        Assert.Equal(HttpStatusCode.Conflict, firstStatus);
        Assert.Equal("interrupted", JsonDocument.Parse(firstBody).RootElement.GetProperty("error").GetProperty("code").GetString());

        // The interrupted run kept nothing of an answer it never got: the next request's history has no reply to "long task".
        var history = gw.Fake.Requests[1].Json.RootElement.GetProperty("messages").EnumerateArray()
            .Select(m => m.GetProperty("content").ValueKind == JsonValueKind.String ? m.GetProperty("content").GetString() : null).ToList();
        Assert.DoesNotContain("never sent", history);
        Assert.Equal("never mind", history[^1]);
    }
}
