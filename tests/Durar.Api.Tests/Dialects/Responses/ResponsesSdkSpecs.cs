#pragma warning disable OPENAI001 // parts of the Responses client are marked experimental
using System.Text.Json;
using Durar.Testing;
using OpenAI.Responses;

namespace Durar.Api.Tests.Dialects.Responses;

/// <summary>
/// <c>POST /v1/responses</c> driven by the official OpenAI .NET SDK's Responses client, over both upstream wires
/// (<c>openai-completions</c> and <c>anthropic-messages</c>) of the fake provider: text, streaming, tool calls, images,
/// reasoning, structured output, usage, key failover and a stream that breaks. Every streamed spec validates the raw
/// events against <see cref="ResponseEventGrammar"/>.
/// </summary>
public sealed class ResponsesSdkSpecs
{
    public const string OpenAiModel = "rspoai/gpt-fake";
    public const string AnthropicModel = "rspant/claude-fake";

    /// <summary>One provider per wire, two keys each.</summary>
    public const string Config = """
        models {
          providers {
            rspoai { baseUrl = "{fake-openai}", api = "openai-completions", models = [{ id = "gpt-fake", input = ["text", "image"] }, { id = "gpt-think", reasoning = true }] }
            rspant { baseUrl = "{fake-anthropic}", api = "anthropic-messages", models = [{ id = "claude-fake", input = ["text", "image"] }] }
          }
        }
        env { RSPOAI_API_KEYS = "sk-oai-a,sk-oai-b", RSPANT_API_KEYS = "sk-ant-a,sk-ant-b" }
        agents { defaults { model { primary = "rspoai/gpt-fake" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    private static bool IsAnthropic(string model) => model == AnthropicModel;

    [Theory]
    [InlineData(OpenAiModel, true)]
    [InlineData(OpenAiModel, false)]
    [InlineData(AnthropicModel, true)]
    [InlineData(AnthropicModel, false)]
    public async Task Should_answer_text_with_usage_and_the_instructions_upstream(string model, bool store)
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Default = new FakeResponse { Text = "Hello there, friend", PromptTokens = 12, CompletionTokens = 4 };
        var sdk = new ResponsesSdk(gw);

        var options = new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("Say hello")])
            { Instructions = "Be brief.", StoredOutputEnabled = store, MaxOutputTokenCount = 50, Temperature = 0.5f };
        var result = await sdk.Client.CreateResponseAsync(options);
        var response = result.Value;

        Assert.StartsWith("resp_", response.Id);
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.Equal("Hello there, friend", response.GetOutputText());
        Assert.Equal(model, response.Model);
        Assert.Equal(12, response.Usage.InputTokenCount);
        Assert.Equal(4, response.Usage.OutputTokenCount);
        Assert.Equal(16, response.Usage.TotalTokenCount);
        var message = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(response.OutputItems));
        Assert.Equal("Hello there, friend", Assert.Single(message.Content).Text);
        Assert.Equal(model, result.GetRawResponse().Headers.TryGetValue("x-durar-model", out var answered) ? answered : null);

        var upstream = Assert.Single(gw.Fake.Requests).Json.RootElement;
        if (IsAnthropic(model))
        {
            Assert.Contains("Be brief.", upstream.GetProperty("system").GetRawText());
            Assert.Equal(50, upstream.GetProperty("max_tokens").GetInt32());
        }
        else
        {
            var messages = upstream.GetProperty("messages");
            Assert.Equal("system", messages[0].GetProperty("role").GetString());
            Assert.Equal("Be brief.", messages[0].GetProperty("content").GetString());
            Assert.Equal("user", messages[1].GetProperty("role").GetString());
            Assert.Equal(0.5, upstream.GetProperty("temperature").GetDouble(), 3);
        }
    }

    [Theory]
    [InlineData(OpenAiModel, true)]
    [InlineData(OpenAiModel, false)]
    [InlineData(AnthropicModel, true)]
    [InlineData(AnthropicModel, false)]
    public async Task Should_stream_text_in_the_event_grammar_with_usage_at_the_end(string model, bool store)
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Default = new FakeResponse { Text = "one two three four", PromptTokens = 7, CompletionTokens = 4 };
        var sdk = new ResponsesSdk(gw);

        var (updates, events) = await sdk.StreamAsync(new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("count")])
            { StoredOutputEnabled = store });

        Assert.Equal("one two three four", string.Concat(updates.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(d => d.Delta)));
        Assert.True(updates.OfType<StreamingResponseOutputTextDeltaUpdate>().Count() > 1, "the text arrives in several deltas");
        Assert.Equal("one two three four", updates.OfType<StreamingResponseOutputTextDoneUpdate>().Single().Text);
        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]);
        Assert.Equal(ResponseStatus.Completed, completed.Response.Status);
        Assert.Equal("one two three four", completed.Response.GetOutputText());
        Assert.Equal(7, completed.Response.Usage.InputTokenCount);
        Assert.Equal(4, completed.Response.Usage.OutputTokenCount);
        Assert.Equal(updates[0].SequenceNumber + updates.Count - 1, updates[^1].SequenceNumber);
        Assert.Contains(events, e => e.Type == "response.content_part.added");
    }

    [Theory]
    [InlineData(OpenAiModel, false)]
    [InlineData(OpenAiModel, true)]
    [InlineData(AnthropicModel, false)]
    [InlineData(AnthropicModel, true)]
    public async Task Should_round_trip_a_tool_call_through_previous_response_id(string model, bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("get_weather", """{"city":"Paris"}""", "call_w1") });
        gw.Fake.Enqueue(FakeResponse.Ok("Sunny in Paris"));
        var sdk = new ResponsesSdk(gw);
        var tool = ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}"""),
            strictModeEnabled: false, functionDescription: "Weather by city");

        var first = new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("Weather in Paris?")]) { Tools = { tool } };
        ResponseResult answer;
        if (stream)
        {
            var (updates, events) = await sdk.StreamAsync(first);
            Assert.Equal("""{"city":"Paris"}""", string.Concat(updates.OfType<StreamingResponseFunctionCallArgumentsDeltaUpdate>().Select(d => d.Delta.ToString())));
            Assert.Contains(events, e => e.Type == "response.function_call_arguments.done");
            answer = updates.OfType<StreamingResponseCompletedUpdate>().Single().Response;
        }
        else answer = (await sdk.Client.CreateResponseAsync(first)).Value;
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(answer.OutputItems));
        var callId = IsAnthropic(model) ? "toolu_w1" : "call_w1"; // the fake's Anthropic wire names ids as Anthropic does
        Assert.Equal(callId, call.CallId);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("""{"city":"Paris"}""", call.FunctionArguments.ToString());

        var second = new CreateResponseOptions(model, [ResponseItem.CreateFunctionCallOutputItem(call.CallId, "18C, sunny")])
            { PreviousResponseId = answer.Id, Tools = { tool } };
        var final = stream
            ? (await sdk.StreamAsync(second)).Updates.OfType<StreamingResponseCompletedUpdate>().Single().Response
            : (await sdk.Client.CreateResponseAsync(second)).Value;
        Assert.Equal("Sunny in Paris", final.GetOutputText());
        Assert.Equal(answer.Id, final.PreviousResponseId);

        var upstream = gw.Fake.Requests[1].Json.RootElement;
        var sent = upstream.GetProperty("messages").GetRawText();
        Assert.Contains("Weather in Paris?", sent);
        Assert.Contains(callId, sent);
        Assert.Contains("18C, sunny", sent);
        if (IsAnthropic(model))
        {
            Assert.Contains("\"tool_use\"", sent);
            Assert.Contains("\"tool_result\"", sent);
            Assert.Equal("get_weather", upstream.GetProperty("tools")[0].GetProperty("name").GetString());
        }
        else
        {
            var messages = upstream.GetProperty("messages");
            Assert.Equal(3, messages.GetArrayLength());
            Assert.Equal("get_weather", messages[1].GetProperty("tool_calls")[0].GetProperty("function").GetProperty("name").GetString());
            Assert.Equal("tool", messages[2].GetProperty("role").GetString());
            Assert.Equal(callId, messages[2].GetProperty("tool_call_id").GetString());
            Assert.Equal("get_weather", upstream.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
        }
    }

    [Theory]
    [InlineData(OpenAiModel)]
    [InlineData(AnthropicModel)]
    public async Task Should_round_trip_a_tool_call_with_the_whole_input_and_a_forced_tool_choice(string model)
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Default = FakeResponse.Ok("It is 18C");
        var sdk = new ResponsesSdk(gw);
        var tool = ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString("""{"type":"object","properties":{}}"""), strictModeEnabled: null);

        var options = new CreateResponseOptions(model,
        [
            ResponseItem.CreateUserMessageItem("Weather?"),
            ResponseItem.CreateFunctionCallItem("call_9", "get_weather", BinaryData.FromString("{}")),
            ResponseItem.CreateFunctionCallOutputItem("call_9", "18C"),
        ]) { StoredOutputEnabled = false, Tools = { tool }, ToolChoice = ResponseToolChoice.CreateFunctionChoice("get_weather"), ParallelToolCallsEnabled = false };
        var answer = (await sdk.Client.CreateResponseAsync(options)).Value;

        Assert.Equal("It is 18C", answer.GetOutputText());
        Assert.False(answer.ParallelToolCallsEnabled);
        var upstream = Assert.Single(gw.Fake.Requests).Json.RootElement;
        if (IsAnthropic(model))
        {
            Assert.Equal("get_weather", upstream.GetProperty("tool_choice").GetProperty("name").GetString());
            Assert.Contains("\"tool_result\"", upstream.GetProperty("messages").GetRawText());
        }
        else
        {
            Assert.Equal("get_weather", upstream.GetProperty("tool_choice").GetProperty("function").GetProperty("name").GetString());
            Assert.False(upstream.GetProperty("parallel_tool_calls").GetBoolean());
            Assert.Equal("call_9", upstream.GetProperty("messages")[2].GetProperty("tool_call_id").GetString());
        }
    }

    [Theory]
    [InlineData(OpenAiModel)]
    [InlineData(AnthropicModel)]
    public async Task Should_send_an_image_input_upstream(string model)
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Default = FakeResponse.Ok("A red dot");
        var sdk = new ResponsesSdk(gw);
        var png = BinaryData.FromBytes(Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="), "image/png");

        var answer = (await sdk.Client.CreateResponseAsync(new CreateResponseOptions(model,
        [
            ResponseItem.CreateUserMessageItem([ResponseContentPart.CreateInputTextPart("What is this?"),
                ResponseContentPart.CreateInputImagePart(png, ResponseImageDetailLevel.Low)]),
        ]))).Value;

        Assert.Equal("A red dot", answer.GetOutputText());
        var sent = Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("messages")[0].GetProperty("content");
        if (IsAnthropic(model))
        {
            var image = sent.EnumerateArray().Single(p => p.GetProperty("type").GetString() == "image");
            Assert.Equal("image/png", image.GetProperty("source").GetProperty("media_type").GetString());
        }
        else
        {
            var image = sent.EnumerateArray().Single(p => p.GetProperty("type").GetString() == "image_url").GetProperty("image_url");
            Assert.StartsWith("data:image/png;base64,iVBOR", image.GetProperty("url").GetString());
            Assert.Equal("low", image.GetProperty("detail").GetString());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Should_answer_anthropic_thinking_as_a_reasoning_summary(bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Default = new FakeResponse { Text = "42", Reasoning = "Six times seven is forty-two" };
        var sdk = new ResponsesSdk(gw);
        var options = new CreateResponseOptions(AnthropicModel, [ResponseItem.CreateUserMessageItem("6*7?")])
            { ReasoningOptions = new ResponseReasoningOptions { ReasoningEffortLevel = ResponseReasoningEffortLevel.High } };

        ResponseResult answer;
        if (stream)
        {
            var (updates, events) = await sdk.StreamAsync(options);
            Assert.Equal("Six times seven is forty-two",
                string.Concat(updates.OfType<StreamingResponseReasoningSummaryTextDeltaUpdate>().Select(d => d.Delta)));
            // The reasoning item closes before the message opens.
            var reasoningDone = events.ToList().FindIndex(e => e.Type == "response.output_item.done");
            var messageAdded = events.ToList().FindLastIndex(e => e.Type == "response.output_item.added");
            Assert.True(reasoningDone < messageAdded);
            answer = updates.OfType<StreamingResponseCompletedUpdate>().Single().Response;
        }
        else answer = (await sdk.Client.CreateResponseAsync(options)).Value;

        Assert.Equal(2, answer.OutputItems.Count);
        var reasoning = Assert.IsType<ReasoningResponseItem>(answer.OutputItems[0]);
        Assert.Equal("Six times seven is forty-two", reasoning.GetSummaryText());
        Assert.Equal("42", answer.GetOutputText());
        Assert.Equal(ResponseReasoningEffortLevel.High, answer.ReasoningOptions.ReasoningEffortLevel);
        var upstream = Assert.Single(gw.Fake.Requests).Json.RootElement;
        Assert.Equal(16384, upstream.GetProperty("thinking").GetProperty("budget_tokens").GetInt32());
    }

    [Fact]
    public async Task Should_answer_openai_reasoning_content_as_a_reasoning_summary_and_send_the_effort()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Default = new FakeResponse
        {
            RawBody = string.Concat(
                Chunk("""{"role":"assistant","reasoning_content":"Think "}"""),
                Chunk("""{"reasoning_content":"hard."}"""),
                Chunk("""{"content":"Done"}"""),
                """data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-fake","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""" + "\n\n",
                """data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-fake","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14,"completion_tokens_details":{"reasoning_tokens":6}}}""" + "\n\n",
                "data: [DONE]\n\n"),
        };
        var sdk = new ResponsesSdk(gw);

        var (updates, _) = await sdk.StreamAsync(new CreateResponseOptions("rspoai/gpt-think", [ResponseItem.CreateUserMessageItem("Think")])
            { ReasoningOptions = new ResponseReasoningOptions { ReasoningEffortLevel = ResponseReasoningEffortLevel.Low } });

        var answer = updates.OfType<StreamingResponseCompletedUpdate>().Single().Response;
        Assert.Equal("Think hard.", Assert.IsType<ReasoningResponseItem>(answer.OutputItems[0]).GetSummaryText());
        Assert.Equal("Done", answer.GetOutputText());
        Assert.Equal(6, answer.Usage.OutputTokenDetails.ReasoningTokenCount);
        Assert.Equal("low", Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("reasoning_effort").GetString());

        static string Chunk(string delta) =>
            $$"""data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-fake","choices":[{"index":0,"delta":{{delta}},"finish_reason":null}]}""" + "\n\n";
    }

    [Theory]
    [InlineData(OpenAiModel)]
    [InlineData(AnthropicModel)]
    public async Task Should_carry_a_json_schema_text_format_upstream(string model)
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        const string json = """{"city":"Paris","temp":18}""";
        gw.Fake.Default = IsAnthropic(model) ? new FakeResponse { ToolCall = new FakeToolCall("weather", json, "toolu_1") } : FakeResponse.Ok(json);
        var sdk = new ResponsesSdk(gw);
        var schema = BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"},"temp":{"type":"number"}},"required":["city","temp"],"additionalProperties":false}""");

        var answer = (await sdk.Client.CreateResponseAsync(new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("Weather as JSON")])
        {
            TextOptions = new ResponseTextOptions { TextFormat = ResponseTextFormat.CreateJsonSchemaFormat("weather", schema, jsonSchemaIsStrict: true) },
        })).Value;

        Assert.Equal(json, answer.GetOutputText());
        Assert.Equal(ResponseTextFormatKind.JsonSchema, answer.TextOptions.TextFormat.Kind);
        var upstream = Assert.Single(gw.Fake.Requests).Json.RootElement;
        if (IsAnthropic(model))
        {
            var carrier = upstream.GetProperty("tools").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "weather");
            Assert.Equal("string", carrier.GetProperty("input_schema").GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
        }
        else
        {
            var format = upstream.GetProperty("response_format");
            Assert.Equal("json_schema", format.GetProperty("type").GetString());
            Assert.Equal("weather", format.GetProperty("json_schema").GetProperty("name").GetString());
            Assert.True(format.GetProperty("json_schema").GetProperty("strict").GetBoolean());
            Assert.Equal("object", format.GetProperty("json_schema").GetProperty("schema").GetProperty("type").GetString());
        }
    }

    [Theory]
    [InlineData(OpenAiModel, false)]
    [InlineData(OpenAiModel, true)]
    [InlineData(AnthropicModel, false)]
    [InlineData(AnthropicModel, true)]
    public async Task Should_fail_over_a_429_to_the_second_key(string model, bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var firstKey = IsAnthropic(model) ? "sk-ant-a" : "sk-oai-a";
        gw.Fake.Script = r => r.ApiKey == firstKey ? FakeResponse.RateLimited("30") : FakeResponse.Ok("from the second key");
        var sdk = new ResponsesSdk(gw);
        var options = new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("hi")]);

        var text = stream
            ? (await sdk.StreamAsync(options)).Updates.OfType<StreamingResponseCompletedUpdate>().Single().Response.GetOutputText()
            : (await sdk.Client.CreateResponseAsync(options)).Value.GetOutputText();

        Assert.Equal("from the second key", text);
        Assert.Equal([firstKey, IsAnthropic(model) ? "sk-ant-b" : "sk-oai-b"], gw.Fake.Requests.Select(r => r.ApiKey));
    }

    [Theory]
    [InlineData(OpenAiModel, false)]
    [InlineData(OpenAiModel, true)]
    [InlineData(AnthropicModel, false)]
    [InlineData(AnthropicModel, true)]
    public async Task Should_end_a_stream_broken_after_output_with_error_then_response_failed(string model, bool store)
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        gw.Fake.Default = new FakeResponse { Text = "alpha beta gamma delta", ErrorEventAfterChunks = 2, ErrorMessage = "upstream broke" };
        var sdk = new ResponsesSdk(gw);

        var (updates, events) = await sdk.StreamAsync(new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("go")])
            { StoredOutputEnabled = store });

        Assert.Equal("alpha beta", string.Concat(updates.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(d => d.Delta)));
        var error = Assert.IsType<StreamingResponseErrorUpdate>(updates[^2]);
        Assert.Contains("upstream broke", error.Message);
        var failed = Assert.IsType<StreamingResponseFailedUpdate>(updates[^1]);
        Assert.Equal(ResponseStatus.Failed, failed.Response.Status);
        Assert.Contains("upstream broke", failed.Response.Error.Message);
        Assert.Equal("response.failed", events[^1].Type);
    }
}
