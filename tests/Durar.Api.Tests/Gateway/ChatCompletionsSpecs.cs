using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Durar.Testing;
using OpenAI.Chat;
using Durar.Actors.Chat;

namespace Durar.Api.Tests.Gateway;

/// <summary>End to end through the real gateway and the fake provider, with the official OpenAI .NET SDK as the client.</summary>
public sealed partial class ChatCompletionsSpecs
{
    [Theory]
    [InlineData("fakeoai/gpt-fake", "openai")]
    [InlineData("fakeant/claude-fake", "anthropic")]
    public async Task Should_answer_a_non_streaming_request_through_the_sdk(string model, string wire)
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "Hi there, friend.", PromptTokens = 11, CompletionTokens = 4 });

        var result = await gw.OpenAiChat(model).CompleteChatAsync([new SystemChatMessage("be brief"), new UserChatMessage("hello")]);

        var completion = result.Value;
        Assert.Equal("Hi there, friend.", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(11, completion.Usage.InputTokenCount);
        Assert.Equal(4, completion.Usage.OutputTokenCount);
        Assert.StartsWith("chatcmpl-", completion.Id);
        Assert.Equal(model, completion.Model);
        Assert.Equal(model, result.GetRawResponse().Headers.TryGetValue("x-durar-model", out var used) ? used : null);

        var upstream = Assert.Single(gw.Fake.Requests);
        Assert.Equal(wire, upstream.Wire);
        Assert.False(upstream.Stream);
        Assert.Equal(model.Split('/')[1], upstream.Model);
        Assert.Equal(wire == "openai" ? "sk-fake-openai-1234" : "sk-ant-fake-5678", upstream.ApiKey);
    }

    [Theory]
    [InlineData("fakeoai/gpt-fake")]
    [InlineData("fakeant/claude-fake")]
    public async Task Should_stream_tokens_through_the_sdk(string model)
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "one two three four", PromptTokens = 3, CompletionTokens = 4 });

        var parts = new List<string>();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in gw.OpenAiChat(model).CompleteChatStreamingAsync([new UserChatMessage("count")],
                           new ChatCompletionOptions()))
        {
            parts.AddRange(update.ContentUpdate.Select(p => p.Text).Where(t => t.Length > 0)); // the role chunk carries ""
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal(["one", " two", " three", " four"], parts);
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage); // the SDK asks for include_usage
        Assert.Equal(3, usage!.InputTokenCount);
        Assert.Equal(4, usage.OutputTokenCount);
        Assert.True(Assert.Single(gw.Fake.Requests).Stream);
    }

    [Fact]
    public async Task Should_frame_sse_exactly_like_openai()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "Hello \"there\"", PromptTokens = 5, CompletionTokens = 2 });

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"fakeoai/gpt-fake","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"""));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("fakeoai/gpt-fake", response.Headers.GetValues("x-durar-model").Single());
        Assert.Equal("1", response.Headers.GetValues("x-durar-attempts").Single());
        var head = HeaderPattern().Match(body);
        Assert.True(head.Success, body);
        var prefix = $$"""data: {"id":"{{head.Groups["id"].Value}}","object":"chat.completion.chunk","created":{{head.Groups["created"].Value}},"model":"fakeoai/gpt-fake",""";
        // With include_usage every chunk before the last carries "usage": null, and every choice "logprobs": null (the opening delta
        // "refusal": null), as OpenAI's do.
        var expected =
            prefix + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n" +
            prefix + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n" +
            prefix + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" \\\"there\\\"\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n" +
            prefix + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n" +
            prefix + "\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n" +
            "data: [DONE]\n\n";
        Assert.Equal(expected, body);
    }

    [Fact]
    public async Task Should_omit_the_usage_chunk_unless_asked_and_still_request_usage_upstream()
    {
        await using var gw = await GatewayHarness.StartAsync();
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"fakeoai/gpt-fake","stream":true,"messages":[{"role":"user","content":"hi"}]}"""));
        var body = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain("\"usage\"", body);
        Assert.EndsWith("\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", body);
        var upstream = Assert.Single(gw.Fake.Requests);
        Assert.True(upstream.Json.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public async Task Should_stream_tool_calls_as_openai_fragments()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("get_weather", """{"city": "Paris"}"""), Chunks = 3 });

        var calls = new Dictionary<int, (string? Id, string? Name, string Args)>();
        ChatFinishReason? finish = null;
        var tool = ChatTool.CreateFunctionTool("get_weather", "weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}"""));
        await foreach (var update in gw.OpenAiChat("fakeant/claude-fake").CompleteChatStreamingAsync([new UserChatMessage("weather?")],
                           new ChatCompletionOptions { Tools = { tool } }))
        {
            foreach (var t in update.ToolCallUpdates)
            {
                var cur = calls.GetValueOrDefault(t.Index, (null, null, ""));
                calls[t.Index] = (cur.Id ?? t.ToolCallId, cur.Name ?? t.FunctionName, cur.Args + t.FunctionArgumentsUpdate?.ToString());
            }
            finish ??= update.FinishReason;
        }

        var call = Assert.Single(calls).Value;
        Assert.Equal("get_weather", call.Name);
        Assert.False(string.IsNullOrEmpty(call.Id));
        Assert.Equal("Paris", JsonDocument.Parse(call.Args).RootElement.GetProperty("city").GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        var sent = Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("tools")[0];
        Assert.Equal("get_weather", sent.GetProperty("name").GetString()); // reshaped for Anthropic
    }

    [Fact]
    public async Task Should_answer_with_the_built_in_echo_model_without_any_provider()
    {
        await using var gw = await GatewayHarness.StartAsync("");
        var result = await gw.OpenAiChat("echo/echo").CompleteChatAsync([new UserChatMessage("ping pong")]);
        Assert.Equal("ping pong", result.Value.Content[0].Text);

        var streamed = new List<string>();
        await foreach (var u in gw.OpenAiChat("durar").CompleteChatStreamingAsync([new UserChatMessage("a b c")]))
            streamed.AddRange(u.ContentUpdate.Select(p => p.Text));
        Assert.Equal("a b c", string.Concat(streamed));
        Assert.Empty(gw.Fake.Requests);
    }

    [Fact]
    public async Task Should_send_no_developer_role_service_tier_or_store_to_proxy_hosts()
    {
        await using var gw = await GatewayHarness.StartAsync();
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"fakeoai/gpt-fake","max_tokens":50,"messages":[{"role":"developer","content":"rules"},{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var sent = Assert.Single(gw.Fake.Requests).Json.RootElement;
        Assert.Equal("system", sent.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.False(sent.TryGetProperty("service_tier", out _));
        Assert.False(sent.TryGetProperty("store", out _));
        Assert.Equal(50, sent.GetProperty("max_tokens").GetInt32());
        Assert.False(sent.TryGetProperty("max_completion_tokens", out _));
    }

    [Fact]
    public async Task Should_forward_validated_request_fields()
    {
        await using var gw = await GatewayHarness.StartAsync();
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions", """
            {"model":"fakeoai/gpt-fake","temperature":0.5,"top_p":0.9,"seed":7,"stop":["END"],"user":"u1",
             "frequency_penalty":0.1,"presence_penalty":-0.2,"max_completion_tokens":20,"tool_choice":"auto",
             "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
             "messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}
            """));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var sent = Assert.Single(gw.Fake.Requests).Json.RootElement;
        Assert.Equal(0.5, sent.GetProperty("temperature").GetDouble());
        Assert.Equal(0.9, sent.GetProperty("top_p").GetDouble());
        Assert.Equal(7, sent.GetProperty("seed").GetInt64());
        Assert.Equal("END", sent.GetProperty("stop")[0].GetString());
        Assert.Equal("u1", sent.GetProperty("user").GetString());
        Assert.Equal(0.1, sent.GetProperty("frequency_penalty").GetDouble());
        Assert.Equal(-0.2, sent.GetProperty("presence_penalty").GetDouble());
        Assert.Equal(20, sent.GetProperty("max_tokens").GetInt32());
        Assert.Equal("auto", sent.GetProperty("tool_choice").GetString());
        Assert.Equal("f", sent.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("hi", sent.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [GeneratedRegex("""^data: \{"id":"(?<id>chatcmpl-[0-9a-f]{32})","object":"chat\.completion\.chunk","created":(?<created>\d+),""")]
    private static partial Regex HeaderPattern();
}
