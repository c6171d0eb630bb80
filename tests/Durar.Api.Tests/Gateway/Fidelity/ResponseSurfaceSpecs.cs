using System.Net;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway.Fidelity;

/// <summary>
/// The whole response surface, from the upstream back to the client: a non-streamed completion comes back as the upstream
/// wrote it with only <c>model</c> renamed; a stream keeps every choice's index, logprobs, fingerprint and usage details,
/// reads DeepSeek's <c>reasoning_content</c> and OpenRouter's <c>reasoning</c> into <c>reasoning_content</c> (never into
/// <c>content</c>), marks every chunk but the usage chunk with <c>"usage": null</c>, and opens a tool-call answer with
/// <c>content: null</c>.
/// </summary>
public sealed class ResponseSurfaceSpecs
{
    private const string Completion = """
        {"id":"chatcmpl-upstream-1","object":"chat.completion","created":1700000000,"model":"gpt-native-2026-01-01",
         "system_fingerprint":"fp_abc123","service_tier":"default",
         "choices":[
          {"index":0,"message":{"role":"assistant","content":"{\"text\":\"Hi\",\"score\":1.0}","refusal":null,
            "annotations":[{"type":"url_citation","url_citation":{"url":"https://example.com","title":"Ex","start_index":0,"end_index":5}}],
            "audio":{"id":"audio_1","data":"UklGRg==","expires_at":1700003600,"transcript":"Hi"},
            "x_message_future":{"a":1.0}},
           "logprobs":{"content":[{"token":"Hi","logprob":-0.0001,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.0001,"bytes":[72,105]},{"token":"Hello","logprob":-9.5,"bytes":null}]}],"refusal":null},
           "finish_reason":"stop"},
          {"index":1,"message":{"role":"assistant","content":null,"refusal":"I can't help with that.","annotations":[]},
           "logprobs":{"content":null,"refusal":[{"token":"I","logprob":-0.5,"bytes":[73],"top_logprobs":[]}]},
           "finish_reason":"stop"}],
         "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,
           "prompt_tokens_details":{"cached_tokens":2,"audio_tokens":0},
           "completion_tokens_details":{"reasoning_tokens":1,"audio_tokens":0,"accepted_prediction_tokens":1,"rejected_prediction_tokens":0}},
         "x_top_future":{"k":[1e3,0.1000]}}
        """;

    [Fact]
    public async Task Should_return_the_upstream_completion_as_it_came_with_only_the_model_renamed()
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        gw.Fake.Enqueue(new FakeResponse { RawBody = Completion });

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"nativeoai/gpt-native","n":2,"logprobs":true,"top_logprobs":2,"messages":[{"role":"user","content":"hi"}]}"""));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expected = JsonDiff.Edit(Completion);
        expected["model"] = "nativeoai/gpt-native";
        JsonDiff.AssertEqual(expected.ToJsonString(), body);
        Assert.Contains("\"k\":[1e3,0.1000]", body);
    }

    /// <summary>Two choices interleaved, DeepSeek's and OpenRouter's reasoning fields, logprobs, an unknown delta field, usage.</summary>
    private const string TwoChoiceStream = """
        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","system_fingerprint":"fp_1","service_tier":"default","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null},{"index":1,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","system_fingerprint":"fp_1","service_tier":"default","choices":[{"index":0,"delta":{"reasoning_content":"Think A"},"finish_reason":null}],"usage":null}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","system_fingerprint":"fp_1","service_tier":"default","choices":[{"index":1,"delta":{"reasoning":"Think B"},"finish_reason":null}],"usage":null}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","system_fingerprint":"fp_1","service_tier":"default","choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":{"content":[{"token":"Hel","logprob":-0.1,"bytes":[72,101,108],"top_logprobs":[]}],"refusal":null},"finish_reason":null}],"usage":null}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","system_fingerprint":"fp_1","service_tier":"default","choices":[{"index":1,"delta":{"content":"Bon"},"logprobs":{"content":[{"token":"Bon","logprob":-0.2,"bytes":[66,111,110],"top_logprobs":[]}],"refusal":null},"finish_reason":null}],"usage":null}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","system_fingerprint":"fp_1","service_tier":"default","choices":[{"index":0,"delta":{"content":"lo","x_delta_future":{"v":1.0}},"finish_reason":null}],"usage":null}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","system_fingerprint":"fp_1","service_tier":"default","choices":[{"index":1,"delta":{"content":"jour"},"finish_reason":null}],"usage":null}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","system_fingerprint":"fp_1","service_tier":"default","choices":[{"index":0,"delta":{},"finish_reason":"stop"},{"index":1,"delta":{},"finish_reason":"length"}],"usage":null}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","system_fingerprint":"fp_1","service_tier":"default","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":1},"completion_tokens_details":{"reasoning_tokens":2,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}

        data: [DONE]


        """;

    [Fact]
    public async Task Should_stream_every_choice_with_its_index_reasoning_apart_logprobs_and_usage_details()
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        gw.Fake.Enqueue(new FakeResponse { RawBody = TwoChoiceStream });

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"proxyoai/proxy-reasoner","n":2,"logprobs":true,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"""));
        var chunks = SseChunks.Chunks(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.All(chunks, c =>
        {
            Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString());
            Assert.Equal("proxyoai/proxy-reasoner", c.GetProperty("model").GetString());
            Assert.Equal("fp_1", c.GetProperty("system_fingerprint").GetString());
            Assert.Equal("default", c.GetProperty("service_tier").GetString());
            // Every choice of every chunk carries logprobs (null when there are none), as OpenAI's chunks do.
            Assert.All(c.GetProperty("choices").EnumerateArray(), choice => Assert.True(choice.TryGetProperty("logprobs", out _), choice.GetRawText()));
        });
        // Every chunk before the last carries "usage": null; the last one carries the upstream's own usage object.
        Assert.All(chunks[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
        JsonDiff.AssertEqual(
            """{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":1},"completion_tokens_details":{"reasoning_tokens":2,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}""",
            chunks[^1].GetProperty("usage").GetRawText());
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());

        foreach (var (index, text, reasoning, finish) in new[] { (0, "Hello", "Think A", "stop"), (1, "Bonjour", "Think B", "length") })
        {
            var deltas = SseChunks.Deltas(chunks, index);
            Assert.Equal(text, string.Concat(deltas.Select(d => SseChunks.Str(d.Delta, "content"))));
            Assert.Equal(reasoning, string.Concat(deltas.Select(d => SseChunks.Str(d.Delta, "reasoning_content"))));
            Assert.DoesNotContain(deltas, d => d.Delta.TryGetProperty("reasoning", out _)); // one name for reasoning: reasoning_content
            Assert.Equal("assistant", SseChunks.Str(deltas[0].Delta, "role"));
            Assert.Equal([finish], deltas.Select(d => d.Choice).Where(c => c.GetProperty("finish_reason").ValueKind == JsonValueKind.String)
                .Select(c => c.GetProperty("finish_reason").GetString()!));
            var logprobs = Assert.Single(deltas, d => d.Choice.TryGetProperty("logprobs", out var lp) && lp.ValueKind == JsonValueKind.Object);
            Assert.Equal(index == 0 ? "Hel" : "Bon", logprobs.Choice.GetProperty("logprobs").GetProperty("content")[0].GetProperty("token").GetString());
        }
        var future = Assert.Single(SseChunks.Deltas(chunks, 0), d => d.Delta.TryGetProperty("x_delta_future", out _));
        Assert.Equal("{\"v\":1.0}", future.Delta.GetProperty("x_delta_future").GetRawText());
    }

    private const string ToolCallStream = """
        data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}

        data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}]}

        data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}]}

        data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]}

        data: {"id":"c2","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

        data: [DONE]


        """;

    [Fact]
    public async Task Should_open_a_streamed_tool_call_answer_with_null_content_and_keep_every_call()
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        gw.Fake.Enqueue(new FakeResponse { RawBody = ToolCallStream });

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"proxyoai/proxy-model","stream":true,"messages":[{"role":"user","content":"weather and time?"}],"tools":[{"type":"function","function":{"name":"get_weather"}},{"type":"function","function":{"name":"get_time"}}]}"""));
        var chunks = SseChunks.Chunks(await response.Content.ReadAsStringAsync());

        var deltas = SseChunks.Deltas(chunks, 0);
        Assert.Equal("assistant", SseChunks.Str(deltas[0].Delta, "role"));
        Assert.Equal(JsonValueKind.Null, deltas[0].Delta.GetProperty("content").ValueKind);
        Assert.Equal(JsonValueKind.Null, deltas[0].Delta.GetProperty("refusal").ValueKind); // as OpenAI's opening delta
        Assert.All(deltas, d => Assert.Equal(JsonValueKind.Null, d.Choice.GetProperty("logprobs").ValueKind));
        Assert.DoesNotContain(deltas, d => d.Delta.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String);
        var calls = deltas.Where(d => d.Delta.TryGetProperty("tool_calls", out _)).SelectMany(d => d.Delta.GetProperty("tool_calls").EnumerateArray())
            .GroupBy(t => t.GetProperty("index").GetInt32())
            .ToDictionary(g => g.Key, g => (Id: g.Select(t => SseChunks.Str(t, "id")).First(id => id is not null),
                Name: g.Select(t => SseChunks.Str(t.GetProperty("function"), "name")).First(n => n is not null),
                Args: string.Concat(g.Select(t => SseChunks.Str(t.GetProperty("function"), "arguments")))));
        Assert.Equal(("call_a", "get_weather", "{\"city\":\"Paris\"}"), calls[0]);
        Assert.Equal(("call_b", "get_time", "{}"), calls[1]);
        Assert.Equal("tool_calls", deltas[^1].Choice.GetProperty("finish_reason").GetString());
        Assert.DoesNotContain(chunks, c => c.TryGetProperty("usage", out _)); // not asked for
    }
}

/// <summary>Reads an SSE body of chat-completion chunks (the gateway's answer) for assertions.</summary>
internal static class SseChunks
{
    /// <summary>Every <c>data:</c> chunk but <c>[DONE]</c>, parsed; the body must end with <c>data: [DONE]</c>.</summary>
    public static JsonElement[] Chunks(string body)
    {
        Assert.EndsWith("data: [DONE]\n\n", body);
        return body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(frame => frame.StartsWith("data: ", StringComparison.Ordinal) ? frame[6..] : throw new Xunit.Sdk.XunitException("not a data frame: " + frame))
            .Where(data => data != "[DONE]")
            .Select(data => JsonDocument.Parse(data).RootElement.Clone())
            .ToArray();
    }

    /// <summary>The choice objects (and their deltas) of choice <paramref name="index"/>, in order.</summary>
    public static List<(JsonElement Choice, JsonElement Delta)> Deltas(IEnumerable<JsonElement> chunks, int index) =>
        chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Where(c => c.GetProperty("index").GetInt32() == index)
            .Select(c => (c, c.GetProperty("delta")))
            .ToList();

    public static string? Str(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
