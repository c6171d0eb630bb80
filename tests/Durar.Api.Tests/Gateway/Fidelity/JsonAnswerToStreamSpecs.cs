using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Durar.Api.Tests.Resilience;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway.Fidelity;

/// <summary>
/// Some OpenAI-compatible servers ignore <c>stream: true</c> and answer with the whole completion as JSON. That is the answer:
/// the client gets it as a proper SSE stream at once (every choice, reasoning apart, usage), and the key stays healthy.
/// </summary>
public sealed class JsonAnswerToStreamSpecs
{
    private const string Whole = """
        {"id":"chatcmpl-json-1","object":"chat.completion","created":1700000000,"model":"up","system_fingerprint":"fp_json",
         "choices":[
          {"index":0,"message":{"role":"assistant","content":"The answer is 42.","reasoning_content":"Let me think."},"logprobs":null,"finish_reason":"stop"},
          {"index":1,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_j","type":"function","function":{"name":"lookup","arguments":"{\"q\":1}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],
         "usage":{"prompt_tokens":3,"completion_tokens":7,"total_tokens":10,"completion_tokens_details":{"reasoning_tokens":2}}}
        """;

    [Fact]
    public async Task Should_stream_a_whole_json_answer_at_once_and_keep_the_key_healthy()
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        gw.Fake.Enqueue(new FakeResponse { RawBody = Whole, Headers = new Dictionary<string, string> { ["content-type"] = "application/json" } });

        var watch = Stopwatch.StartNew();
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"proxyoai/proxy-reasoner","n":2,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"q"}]}"""));
        var chunks = SseChunks.Chunks(await response.Content.ReadAsStringAsync());
        watch.Stop();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}"); // no wait for a stream that never comes
        Assert.Single(gw.Fake.Requests); // read as the answer, not retried
        var first = SseChunks.Deltas(chunks, 0);
        Assert.Equal("The answer is 42.", string.Concat(first.Select(d => SseChunks.Str(d.Delta, "content"))));
        Assert.Equal("Let me think.", string.Concat(first.Select(d => SseChunks.Str(d.Delta, "reasoning_content"))));
        Assert.Equal("stop", first[^1].Choice.GetProperty("finish_reason").GetString());
        var second = SseChunks.Deltas(chunks, 1);
        var call = second.SelectMany(d => d.Delta.TryGetProperty("tool_calls", out var t) ? t.EnumerateArray() : []).Single();
        Assert.Equal("lookup", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("{\"q\":1}", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("tool_calls", second[^1].Choice.GetProperty("finish_reason").GetString());
        Assert.All(chunks, c => Assert.Equal("fp_json", c.GetProperty("system_fingerprint").GetString()));
        JsonDiff.AssertEqual("""{"prompt_tokens":3,"completion_tokens":7,"total_tokens":10,"completion_tokens_details":{"reasoning_tokens":2}}""",
            chunks[^1].GetProperty("usage").GetRawText());

        var key = await gw.WaitForKeyAsync("proxyoai", "sk-proxy-1", k => k.GetProperty("requests").GetInt64() == 1, "counted one request",
            TimeSpan.FromSeconds(10));
        Assert.Equal("ready", key.GetProperty("state").GetString());
        Assert.Equal(0, key.GetProperty("failures").GetInt64());
        Assert.Equal(0, key.GetProperty("errorCount").GetInt64());
    }
}
