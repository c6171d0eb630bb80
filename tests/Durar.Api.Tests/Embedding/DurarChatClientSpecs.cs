using System.Text.Json;
using ChatCompletion = Durar.Actors.Chat.ChatCompletion;
using ChatEvent = Durar.Actors.Chat.ChatEvent;
using Durar.Actors.Hosting;
using Durar.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Api.Tests.Embedding;

/// <summary>
/// Durar embedded as a Microsoft.Extensions.AI IChatClient: same chain, keys and failover, no HTTP hop, and answers that keep
/// what the upstream said (reasoning, tool calls, refusal, usage details, the raw completion).
/// </summary>
public sealed class DurarChatClientSpecs
{
    [Fact]
    public async Task Should_answer_through_the_chat_client_with_usage_and_the_answering_model()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "Hello from the client.", PromptTokens = 7, CompletionTokens = 4 });
        var client = gw.Services.GetRequiredService<IChatClient>();

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.System, "brief"), new ChatMessage(ChatRole.User, "hi")],
            new ChatOptions { ModelId = "fakeant/claude-fake", Temperature = 0.3f });

        Assert.Equal("Hello from the client.", response.Text);
        Assert.Equal("fakeant/claude-fake", response.ModelId);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(7, response.Usage!.InputTokenCount);
        Assert.Equal(1, response.AdditionalProperties![DurarChatClient.AttemptsProperty]);
        Assert.StartsWith("chatcmpl-", response.ResponseId);
        Assert.IsType<ChatCompletion>(response.RawRepresentation); // the Anthropic wire has no OpenAI-shaped body to give
        var sent = Assert.Single(gw.Fake.Requests);
        Assert.Equal("anthropic", sent.Wire);
        Assert.Equal("brief", sent.Json.RootElement.GetProperty("system").GetString());
        Assert.Equal("0.3", sent.Json.RootElement.GetProperty("temperature").GetRawText());
    }

    [Fact]
    public async Task Should_return_reasoning_tool_calls_usage_details_and_the_raw_completion()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { RawBody = """
            {"id":"chatcmpl-raw1","object":"chat.completion","created":1700000000,"model":"gpt-fake-2025-01","system_fingerprint":"fp_x",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Checking.","reasoning_content":"Look it up.",
               "tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                             {"id":"call_2","type":"function","function":{"name":"get_time","arguments":"not json"}}]},
               "logprobs":null,"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":8,"audio_tokens":0},
               "completion_tokens_details":{"reasoning_tokens":4,"audio_tokens":0,"accepted_prediction_tokens":2,"rejected_prediction_tokens":1}}}
            """ });
        var client = gw.Services.GetRequiredService<IChatClient>();

        var response = await client.GetResponseAsync("weather?", new ChatOptions { ModelId = "fakeoai/gpt-fake" });

        var message = Assert.Single(response.Messages);
        Assert.Equal(["TextReasoningContent", "TextContent", "FunctionCallContent", "FunctionCallContent"], message.Contents.Select(c => c.GetType().Name));
        Assert.Equal("Look it up.", ((TextReasoningContent)message.Contents[0]).Text);
        Assert.Equal("Checking.", response.Text);
        var calls = message.Contents.OfType<FunctionCallContent>().ToList();
        Assert.Equal(("call_1", "get_weather", "Paris"), (calls[0].CallId, calls[0].Name, calls[0].Arguments!["city"]!.ToString()));
        Assert.NotNull(calls[1].Exception); // arguments that are not JSON: the parse error, as Microsoft.Extensions.AI reports it
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Equal(("chatcmpl-raw1", DateTimeOffset.FromUnixTimeSeconds(1700000000)), (response.ResponseId, response.CreatedAt));
        Assert.Equal("fakeoai/gpt-fake", response.ModelId);
        Assert.Equal("gpt-fake-2025-01", response.AdditionalProperties![DurarChatClient.UpstreamModelProperty]);
        var usage = response.Usage!;
        Assert.Equal((12, 30, 42, 8, 4), (usage.InputTokenCount, usage.OutputTokenCount, usage.TotalTokenCount, usage.CachedInputTokenCount, usage.ReasoningTokenCount));
        Assert.Equal(2, usage.AdditionalCounts!["completion_tokens_details.accepted_prediction_tokens"]);
        var raw = Assert.IsType<JsonElement>(response.RawRepresentation);
        Assert.Equal("fp_x", raw.GetProperty("system_fingerprint").GetString());
    }

    [Fact]
    public async Task Should_return_a_refusal_as_the_openai_adapter_does()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { RawBody = """
            {"id":"chatcmpl-r","object":"chat.completion","created":1700000000,"model":"gpt-fake",
             "choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}
            """ });
        var client = gw.Services.GetRequiredService<IChatClient>();

        var response = await client.GetResponseAsync("x", new ChatOptions { ModelId = "fakeoai/gpt-fake" });

        var refusal = Assert.IsType<ErrorContent>(Assert.Single(Assert.Single(response.Messages).Contents));
        Assert.Equal(("I can't help with that.", "Refusal"), (refusal.Message, refusal.ErrorCode));
        Assert.Equal("", response.Text);
    }

    [Fact]
    public async Task Should_stream_reasoning_text_and_whole_tool_calls_with_usage_details()
    {
        await using var gw = await GatewayHarness.StartAsync();
        const string head = """{"id":"chatcmpl-s","object":"chat.completion.chunk","created":1700000000,"model":"gpt-fake","system_fingerprint":"fp_s","choices":""";
        string Chunk(string choices) => $"data: {head}{choices}}}\n\n";
        gw.Fake.Enqueue(new FakeResponse { RawBody = string.Concat(
            Chunk("""[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":"Think"},"finish_reason":null}]"""),
            Chunk("""[{"index":0,"delta":{"reasoning_content":"ing."},"finish_reason":null}]"""),
            Chunk("""[{"index":0,"delta":{"content":"Calling."},"finish_reason":null}]"""),
            Chunk("""[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\""}}]},"finish_reason":null}]"""),
            Chunk("""[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]"""),
            Chunk("""[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":\"Paris\"}"}}]},"finish_reason":null}]"""),
            Chunk("""[{"index":0,"delta":{},"finish_reason":"tool_calls"}]"""),
            Chunk("""[],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":{"reasoning_tokens":4}}"""),
            "data: [DONE]\n\n") });
        var client = gw.Services.GetRequiredService<IChatClient>();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync("weather?", new ChatOptions { ModelId = "fakeoai/gpt-fake" })) updates.Add(u);

        Assert.All(updates.SkipLast(1), u => Assert.IsAssignableFrom<ChatEvent>(u.RawRepresentation));
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
        var withCalls = Assert.Single(updates, u => u.Contents.OfType<FunctionCallContent>().Any());
        Assert.Same(updates[^1], withCalls); // complete, once, at the end
        var response = updates.ToChatResponse();
        Assert.Equal("Calling.", response.Text);
        Assert.Equal("Thinking.", Assert.Single(response.Messages[0].Contents.OfType<TextReasoningContent>()).Text);
        var calls = response.Messages[0].Contents.OfType<FunctionCallContent>().ToList();
        Assert.Equal([("call_1", "get_weather"), ("call_2", "get_time")], calls.Select(c => (c.CallId, c.Name)));
        Assert.Equal("Paris", calls[0].Arguments!["city"]!.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        Assert.Equal((12, 30, 8, 4), (response.Usage!.InputTokenCount, response.Usage.OutputTokenCount, response.Usage.CachedInputTokenCount, response.Usage.ReasoningTokenCount));
        var sent = Assert.Single(gw.Fake.Requests);
        Assert.True(sent.Json.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public async Task Should_stream_updates_and_fail_over_like_the_gateway()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Script = r => r.Wire == "openai" ? FakeResponse.Error(402, "insufficient credits") : new FakeResponse { Text = "from b" };
        var client = gw.Services.GetRequiredService<IChatClient>();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "x")],
                           new ChatOptions { ModelId = "fakeoai/gpt-fake", AdditionalProperties = new() { ["fallbacks"] = new[] { "fakeant/claude-fake" } } }))
            updates.Add(u);

        Assert.Equal("from b", string.Concat(updates.Select(u => u.Text)));
        Assert.All(updates, u => Assert.Equal("fakeant/claude-fake", u.ModelId));
        Assert.Contains(updates, u => u.FinishReason == ChatFinishReason.Stop);
        Assert.Equal(2, updates[0].AdditionalProperties![DurarChatClient.AttemptsProperty]);
        Assert.DoesNotContain(gw.Fake.Requests, r => r.Body.Contains("fallbacks"));
    }

    [Fact]
    public async Task Should_throw_a_run_exception_naming_the_providers_error_when_nothing_answers()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Default = new FakeResponse
        {
            Status = 400,
            RawBody = """{"error":{"message":"maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded","param":"messages"}}""",
        };
        var client = gw.Services.GetRequiredService<IChatClient>();

        var e = await Assert.ThrowsAsync<DurarRunException>(() =>
            client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], new ChatOptions { ModelId = "fakeoai/gpt-fake" }));
        Assert.Equal((400, "invalid_request_error", "context_length_exceeded", "messages"), (e.Failure.HttpStatus, e.Failure.Type, e.Failure.Code, e.Failure.Param));
        Assert.StartsWith("Context overflow", e.Message);
        Assert.Contains("[fakeoai/gpt-fake answered 400 context_length_exceeded: maximum context length is 8192 tokens]", e.Message);
        Assert.Single(e.Failure.Attempts);
    }

    [Fact]
    public async Task Should_throw_a_run_exception_when_the_stream_fails_after_output()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "one two three", ErrorEventAfterChunks = 1, ErrorMessage = "The engine stalled." });
        var client = gw.Services.GetRequiredService<IChatClient>();

        var text = "";
        var e = await Assert.ThrowsAsync<DurarRunException>(async () =>
        {
            await foreach (var u in client.GetStreamingResponseAsync("x", new ChatOptions { ModelId = "fakeoai/gpt-fake" })) text += u.Text;
        });
        Assert.Equal("one", text);
        Assert.Equal((502, "upstream_stream_error"), (e.Failure.HttpStatus, e.Failure.Code));
        Assert.Contains("The engine stalled.", e.Message);
        Assert.Contains("fakeoai/gpt-fake", e.Message);
    }

    [Fact]
    public async Task Should_continue_a_cut_stream_when_the_call_asks_and_say_so_in_the_last_update()
    {
        const string answer = "Continuation keeps the answer whole: every word stays, and the next key picks up where the first stopped.";
        const string hocon = """
            models { providers { contoai { baseUrl = "{fake-openai}", api = "openai-completions", models = [{ id = "m1" }] } } }
            env { CONTOAI_API_KEYS = "sk-cont-aaaa-1111,sk-cont-bbbb-2222" }
            agents { defaults { model { primary = "contoai/m1" } } }
            gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s, continueStreams = false } }
            """;
        await using var gw = await GatewayHarness.StartAsync(hocon);
        // The continuation (OpenAI wire): the partial answer as an assistant message, then the continue prompt.
        static string? Partial(RecordedRequest r)
        {
            var messages = r.Json.RootElement.GetProperty("messages");
            var n = messages.GetArrayLength();
            return n >= 3 && messages[n - 1].GetProperty("content").GetString() == Durar.Actors.Routing.StreamContinuation.ContinuePrompt
                ? messages[n - 2].GetProperty("content").GetString()
                : null;
        }
        gw.Fake.Script = r => Partial(r) is { } partial ? FakeResponse.Ok(answer[partial.Length..]) : new FakeResponse { Text = answer, CutAfterChunks = 4 };
        var client = gw.Services.GetRequiredService<IChatClient>();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync("write it",
                           new ChatOptions { ModelId = "contoai/m1", AdditionalProperties = new() { [DurarChatClient.ContinueOption] = true } }))
            updates.Add(u);
        var off = await Assert.ThrowsAsync<DurarRunException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync("write it", new ChatOptions { ModelId = "contoai/m1" })) { }
        });

        Assert.Equal(answer, string.Concat(updates.Select(u => u.Text)));
        var point = Assert.Single((Durar.Actors.Chat.ContinuationPoint[])updates[^1].AdditionalProperties![DurarChatClient.ContinuedProperty]!);
        Assert.Equal(("contoai/m1", "contoai/m1"), (point.Model, point.ContinuedWith));
        Assert.Equal(point.AtChars, Partial(gw.Fake.Requests[1])!.Length);
        Assert.DoesNotContain(gw.Fake.Requests, r => r.Body.Contains("durar.continue"));
        Assert.Equal("upstream_stream_error", off.Failure.Code); // without the option, the node's setting (off) holds
        Assert.Equal(3, gw.Fake.Requests.Count);
    }
}
