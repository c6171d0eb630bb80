using System.Net;
using System.Text.Json;
using Durar.Api.Tests.Gateway.Fidelity;
using Durar.Api.Tests.Gateway.Wires;
using Durar.Api.Tests.Resilience;
using Durar.Testing;
using OpenAI.Chat;

namespace Durar.Api.Tests.Gateway;

/// <summary>
/// The <c>google-generative-ai</c> wire end to end, for what is Gemini's own (the cases every wire shares are in
/// <see cref="WireConformanceSpecs"/>): the request as Google documents it (URL, <c>x-goog-api-key</c>, systemInstruction,
/// generationConfig, functionDeclarations, toolConfig, thinkingConfig, JSON answers), a function call's thought signature
/// carried back through the tool call id, safety blocks (a blocked prompt is a 400 refusal, a SAFETY finish is
/// content_filter), thoughts tokens as reasoning tokens, and fields Gemini cannot carry refused before any upstream call.
/// </summary>
public sealed class GeminiWireSpecs
{
    private static readonly WireCase Wire = WireCase.GoogleGenerativeAi;

    [Fact]
    public async Task Should_send_the_request_in_gemini_shape()
    {
        await using var gw = await GatewayHarness.StartAsync(Wire.Hocon);

        var reply = await gw.SendAsync(gw.Post("v1/chat/completions", $$$$"""
            {"model":"{{{{Wire.Model}}}}","stream":true,"max_tokens":300,"temperature":0.5,"top_p":0.9,"top_k":40,"stop":["END"],"seed":7,
             "reasoning_effort":"low","presence_penalty":0.25,
             "tools":[{"type":"function","function":{"name":"lookup","description":"Look up","parameters":{"type":"object","properties":{"q":{"type":"string"}},"additionalProperties":false}}}],
             "tool_choice":{"type":"function","function":{"name":"lookup"}},
             "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"find durar"}]}
            """));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var sent = Assert.Single(gw.Fake.Requests);
        Assert.Equal("/v1beta/models/gemini-fake:streamGenerateContent", sent.Path);
        Assert.Equal(WireCase.KeyA, sent.Headers["x-goog-api-key"]);
        Assert.False(sent.Headers.ContainsKey("Authorization"));
        var body = sent.Json.RootElement;
        JsonDiff.AssertEqual("""{"parts":[{"text":"Be brief."}]}""", body.GetProperty("systemInstruction").GetRawText());
        JsonDiff.AssertEqual("""
            [{"role":"user","parts":[{"text":"hi"}]},{"role":"model","parts":[{"text":"hello"}]},{"role":"user","parts":[{"text":"find durar"}]}]
            """, body.GetProperty("contents").GetRawText());
        JsonDiff.AssertEqual("""
            {"maxOutputTokens":300,"temperature":0.5,"topP":0.9,"topK":40,"stopSequences":["END"],"seed":7,"presencePenalty":0.25,
             "thinkingConfig":{"thinkingBudget":2048,"includeThoughts":true}}
            """, body.GetProperty("generationConfig").GetRawText());
        JsonDiff.AssertEqual("""
            [{"functionDeclarations":[{"name":"lookup","description":"Look up","parametersJsonSchema":{"type":"object","properties":{"q":{"type":"string"}},"additionalProperties":false}}]}]
            """, body.GetProperty("tools").GetRawText());
        JsonDiff.AssertEqual("""{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["lookup"]}}""", body.GetProperty("toolConfig").GetRawText());
        Assert.False(body.TryGetProperty("model", out _));
        Assert.False(body.TryGetProperty("stream", out _));
    }

    [Fact]
    public async Task Should_ask_for_a_json_answer_with_the_schema_as_written()
    {
        await using var gw = await GatewayHarness.StartAsync(Wire.Hocon);
        gw.Fake.Enqueue(new FakeResponse { Text = """{"city":"Rome"}""" });
        const string schema = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""";
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("place", BinaryData.FromString(schema), jsonSchemaIsStrict: true),
        };

        var completion = (await gw.OpenAiChat(Wire.Model).CompleteChatAsync([new UserChatMessage("a city?")], options)).Value;

        Assert.Equal("""{"city":"Rome"}""", completion.Content[0].Text);
        var config = Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("generationConfig");
        Assert.Equal("application/json", config.GetProperty("responseMimeType").GetString());
        JsonDiff.AssertEqual(schema, config.GetProperty("responseJsonSchema").GetRawText());
    }

    [Fact]
    public async Task Should_send_a_function_calls_thought_signature_back_with_it()
    {
        await using var gw = await GatewayHarness.StartAsync(Wire.Hocon);
        gw.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("get_weather", """{"city":"Oslo"}"""), ReasoningSignature = "c2lnbmF0dXJlLTE=" },
            new FakeResponse { Text = "Cold." });
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("get_weather", "The weather in a city") } };
        var chat = gw.OpenAiChat(Wire.Model);
        List<ChatMessage> messages = [new UserChatMessage("weather in Oslo?")];

        var first = (await chat.CompleteChatAsync(messages, options)).Value;
        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(first.ToolCalls[0].Id, """{"celsius":-3}"""));
        await chat.CompleteChatAsync(messages, options);

        var contents = gw.Fake.Requests[1].Json.RootElement.GetProperty("contents");
        var call = contents[1].GetProperty("parts")[0];
        Assert.Equal("model", contents[1].GetProperty("role").GetString());
        Assert.Equal("get_weather", call.GetProperty("functionCall").GetProperty("name").GetString());
        Assert.Equal("c2lnbmF0dXJlLTE=", call.GetProperty("thoughtSignature").GetString());
        var response = contents[2].GetProperty("parts")[0].GetProperty("functionResponse");
        Assert.Equal("get_weather", response.GetProperty("name").GetString());
        JsonDiff.AssertEqual("""{"celsius":-3}""", response.GetProperty("response").GetRawText());
    }

    [Fact]
    public async Task Should_answer_a_blocked_prompt_with_a_400_refusal_and_try_no_other_key()
    {
        await using var gw = await GatewayHarness.StartAsync(Wire.Hocon);
        gw.Fake.Default = new FakeResponse { RawBody = """
            {"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH","blocked":true}]},
             "usageMetadata":{"promptTokenCount":8,"totalTokenCount":8},"modelVersion":"gemini-fake"}
            """ };

        var reply = await gw.ChatAsync(Wire.Model);

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("content_policy_violation", reply.Error.GetProperty("code").GetString());
        Assert.Contains("SAFETY", reply.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(1, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_end_a_stream_stopped_for_safety_with_finish_reason_content_filter()
    {
        await using var gw = await GatewayHarness.StartAsync(Wire.Hocon);
        gw.Fake.Enqueue(new FakeResponse { Text = "Here is how", FinishReason = "content_filter" });

        ChatFinishReason? finish = null;
        await foreach (var update in gw.OpenAiChat(Wire.Model).CompleteChatStreamingAsync([new UserChatMessage("something risky")]))
            finish ??= update.FinishReason;

        Assert.Equal(ChatFinishReason.ContentFilter, finish);
    }

    [Fact]
    public async Task Should_report_thoughts_as_reasoning_tokens_and_reasoning_content()
    {
        await using var gw = await GatewayHarness.StartAsync(Wire.Hocon);
        gw.Fake.Enqueue(new FakeResponse { Text = "4", Reasoning = "two plus two is four", PromptTokens = 6, CompletionTokens = 1 });

        var reply = await gw.SendAsync(gw.Post("v1/chat/completions",
            $$"""{"model":"{{Wire.Model}}","reasoning_effort":"high","messages":[{"role":"user","content":"2+2?"}]}"""));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        using var doc = JsonDocument.Parse(reply.Body);
        var message = doc.RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("4", message.GetProperty("content").GetString());
        Assert.Equal("two plus two is four", message.GetProperty("reasoning_content").GetString());
        var usage = doc.RootElement.GetProperty("usage");
        Assert.Equal((6, 1 + 5, 5), (usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32(),
            usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32()));
        Assert.Equal(16384, Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("generationConfig").GetProperty("thinkingConfig")
            .GetProperty("thinkingBudget").GetInt32());
    }

    [Theory]
    [InlineData("\"logit_bias\":{\"50256\":-100}", "logit_bias")]
    [InlineData("\"n\":2", "n")]
    [InlineData("\"parallel_tool_calls\":false", "parallel_tool_calls")]
    [InlineData("\"web_search_options\":{}", "web_search_options")]
    [InlineData("\"no_such_field\":1", "no_such_field")]
    public async Task Should_refuse_a_field_gemini_cannot_carry_with_a_400_naming_it(string field, string param)
    {
        await using var gw = await GatewayHarness.StartAsync(Wire.Hocon);

        var reply = await gw.SendAsync(gw.Post("v1/chat/completions",
            $$"""{"model":"{{Wire.Model}}",{{field}},"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("unsupported_parameter", reply.Error.GetProperty("code").GetString());
        Assert.Equal(param, reply.Error.GetProperty("param").GetString());
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_refuse_an_image_by_url_naming_the_part()
    {
        await using var gw = await GatewayHarness.StartAsync(Wire.Hocon);

        var reply = await gw.SendAsync(gw.Post("v1/chat/completions", $$$"""
            {"model":"{{{Wire.Model}}}","messages":[{"role":"user","content":[{"type":"text","text":"what?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}
            """));

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("messages[0].content[1].image_url", reply.Error.GetProperty("param").GetString());
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_name_the_fields_it_left_out_in_x_durar_dropped()
    {
        await using var gw = await GatewayHarness.StartAsync(Wire.Hocon);

        var reply = await gw.SendAsync(gw.Post("v1/chat/completions",
            $$"""{"model":"{{Wire.Model}}","user":"u-1","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("user", reply.Header("x-durar-dropped"));
    }
}
