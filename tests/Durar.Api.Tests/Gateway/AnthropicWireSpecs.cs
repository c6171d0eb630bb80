using System.ClientModel;
using System.Net;
using System.Text.Json;
using Durar.Testing;
using OpenAI.Chat;

namespace Durar.Api.Tests.Gateway;

/// <summary>
/// The <c>anthropic-messages</c> wire end to end: a client of the OpenAI dialect (the official OpenAI .NET SDK, or raw HTTP
/// where the SDK cannot say it) through the real gateway to the fake provider's Anthropic wire. Structured output comes back
/// parsed into a typed object, streamed and not; reasoning reaches the client as <c>reasoning_content</c>; cache usage as
/// OpenAI's usage details; and every field Anthropic cannot carry is a 400 naming it, with nothing sent upstream.
/// </summary>
public sealed class AnthropicWireSpecs
{
    private const string Model = "fakeant/claude-fake";
    private const string Schema = """{"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"number"}},"required":["city","celsius"],"additionalProperties":false}""";
    private const string Answer = """{"city":"Paris","celsius":21.5}""";
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private sealed record Weather(string City, double Celsius);

    [Fact]
    public async Task Should_return_structured_output_parsed_into_a_typed_object_through_the_sdk()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("weather", Answer) });

        var result = await gw.OpenAiChat(Model).CompleteChatAsync([new UserChatMessage("weather in Paris?")], Structured());

        var weather = JsonSerializer.Deserialize<Weather>(result.Value.Content[0].Text, Web)!;
        Assert.Equal(new Weather("Paris", 21.5), weather);
        Assert.Equal(ChatFinishReason.Stop, result.Value.FinishReason);
        Assert.Empty(result.Value.ToolCalls);
        var upstream = Assert.Single(gw.Fake.Requests).Json.RootElement;
        Assert.Equal("""{"type":"tool","name":"weather"}""", upstream.GetProperty("tool_choice").GetRawText());
        Assert.True(upstream.GetProperty("tools")[0].GetProperty("strict").GetBoolean());
    }

    [Fact]
    public async Task Should_stream_structured_output_as_text_through_the_sdk()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("weather", Answer), Chunks = 5 });

        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        var toolUpdates = 0;
        await foreach (var update in gw.OpenAiChat(Model).CompleteChatStreamingAsync([new UserChatMessage("weather in Paris?")], Structured()))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            toolUpdates += update.ToolCallUpdates.Count;
            finish ??= update.FinishReason;
        }

        Assert.Equal(new Weather("Paris", 21.5), JsonSerializer.Deserialize<Weather>(text.ToString(), Web));
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(0, toolUpdates);
    }

    [Fact]
    public async Task Should_stream_thinking_as_reasoning_content_never_mixed_into_content()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "It is 4.", Reasoning = "Two and two make four.", ReasoningSignature = "sig" });

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            $$"""{"model":"{{Model}}","stream":true,"reasoning_effort":"low","messages":[{"role":"user","content":"2+2?"}]}"""));
        var deltas = await DeltasAsync(response);

        Assert.Equal("Two and two make four.", string.Concat(deltas.Select(d => Str(d, "reasoning_content"))));
        Assert.Equal("It is 4.", string.Concat(deltas.Select(d => Str(d, "content"))));
        Assert.DoesNotContain(deltas, d => Str(d, "content") is { } c && c.Contains("four", StringComparison.Ordinal));
        Assert.Equal(2048, Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("thinking").GetProperty("budget_tokens").GetInt32());
    }

    [Fact]
    public async Task Should_answer_thinking_as_reasoning_content_and_cache_usage_as_usage_details()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse
        {
            Text = "It is 4.", Reasoning = "Two and two.", PromptTokens = 10, CompletionTokens = 6, CacheReadTokens = 300, CacheWriteTokens = 50,
        });

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            $$"""{"model":"{{Model}}","reasoning_effort":"medium","messages":[{"role":"user","content":"2+2?"}]}"""));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var message = body.RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("It is 4.", message.GetProperty("content").GetString());
        Assert.Equal("Two and two.", message.GetProperty("reasoning_content").GetString());
        var usage = body.RootElement.GetProperty("usage");
        Assert.Equal((360, 6, 366), (usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32(),
            usage.GetProperty("total_tokens").GetInt32()));
        Assert.Equal("""{"cached_tokens":300,"cache_creation_tokens":50}""", usage.GetProperty("prompt_tokens_details").GetRawText());
    }

    [Fact]
    public async Task Should_refuse_what_anthropic_cannot_carry_through_the_sdk_naming_the_field()
    {
        await using var gw = await GatewayHarness.StartAsync();

        var e = await Assert.ThrowsAsync<ClientResultException>(() =>
            gw.OpenAiChat(Model).CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { IncludeLogProbabilities = true }));

        Assert.Equal(400, e.Status);
        using var body = JsonDocument.Parse(e.GetRawResponse()!.Content.ToString());
        var error = body.RootElement.GetProperty("error");
        Assert.Equal(("logprobs", "unsupported_parameter", "invalid_request_error"),
            (error.GetProperty("param").GetString(), error.GetProperty("code").GetString(), error.GetProperty("type").GetString()));
        Assert.Contains(Model, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Theory]
    [InlineData("\"n\":2", "n")]
    [InlineData("\"logprobs\":true", "logprobs")]
    [InlineData("\"logprobs\":false,\"top_logprobs\":2", "top_logprobs")]
    [InlineData("\"logit_bias\":{\"1234\":-100}", "logit_bias")]
    [InlineData("\"prediction\":{\"type\":\"content\",\"content\":\"draft\"}", "prediction")]
    [InlineData("\"modalities\":[\"text\",\"audio\"]", "modalities")]
    [InlineData("\"audio\":{\"voice\":\"alloy\",\"format\":\"mp3\"}", "audio")]
    [InlineData("\"seed\":7", "seed")]
    [InlineData("\"frequency_penalty\":0.4", "frequency_penalty")]
    [InlineData("\"web_search_options\":{}", "web_search_options")]
    [InlineData("\"some_future_field\":true", "some_future_field")]
    public async Task Should_answer_400_naming_a_field_anthropic_has_no_counterpart_for(string field, string param)
    {
        await using var gw = await GatewayHarness.StartAsync();

        var error = await RefusedAsync(gw, $$"""{"model":"{{Model}}",{{field}},"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains($"`{param}`", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Theory]
    [InlineData("""{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}}""", "messages[0].content[1]")]
    [InlineData("""{"type":"file","file":{"file_id":"file-123"}}""", "messages[0].content[1].file.file_id")]
    public async Task Should_answer_400_naming_a_content_part_anthropic_cannot_read(string part, string param)
    {
        await using var gw = await GatewayHarness.StartAsync();

        var error = await RefusedAsync(gw,
            """{"model":"MODEL","messages":[{"role":"user","content":[{"type":"text","text":"listen"},PART]}]}""".Replace("MODEL", Model).Replace("PART", part));

        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_send_a_pdf_file_part_as_a_document_block()
    {
        await using var gw = await GatewayHarness.StartAsync();

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions", $$$"""
            {"model":"{{{Model}}}","messages":[{"role":"user","content":[
              {"type":"file","file":{"filename":"q3.pdf","file_data":"data:application/pdf;base64,JVBERi0xLjcK"}},
              {"type":"text","text":"summarise"}]}]}
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var content = Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("messages")[0].GetProperty("content");
        Assert.Equal("""{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjcK"},"title":"q3.pdf"}""",
            content[0].GetRawText());
    }

    [Fact]
    public async Task Should_fall_back_to_a_model_that_can_carry_the_request_instead_of_refusing()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(FakeResponse.Ok("two choices worth"));

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            $$"""{"model":"{{Model}}","fallbacks":["fakeoai/gpt-fake"],"n":2,"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fakeoai/gpt-fake", response.Headers.GetValues("x-durar-model").Single());
        Assert.Equal("2", response.Headers.GetValues("x-durar-attempts").Single());
        Assert.Equal(2, Assert.Single(gw.Fake.Requests, r => r.Wire == "openai").Json.RootElement.GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task Should_name_the_ignored_cache_hint_and_a_service_tier_for_another_host_in_x_durar_dropped()
    {
        await using var gw = await GatewayHarness.StartAsync();

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            $$"""{"model":"{{Model}}","prompt_cache_key":"tenant-1","service_tier":"priority","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("prompt_cache_key,service_tier", response.Headers.GetValues("x-durar-dropped").Single());
        var upstream = Assert.Single(gw.Fake.Requests).Json.RootElement;
        Assert.False(upstream.TryGetProperty("service_tier", out _)); // the fake is not api.anthropic.com
        Assert.False(upstream.TryGetProperty("prompt_cache_key", out _));
    }

    [Fact]
    public async Task Should_keep_the_client_reasoning_effort_inside_a_session()
    {
        await using var gw = await GatewayHarness.StartAsync();
        var request = gw.Post("v1/chat/completions",
            $$"""{"model":"{{Model}}","reasoning_effort":"minimal","messages":[{"role":"user","content":"think a little"}]}""");
        request.Headers.Add("x-durar-session-key", "anthropic-effort");

        using var response = await gw.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The session's own level is off for this model: the thinking is the client's reasoning_effort.
        Assert.Equal(1024, Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("thinking").GetProperty("budget_tokens").GetInt32());
    }

    private static ChatCompletionOptions Structured() => new()
    {
        ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("weather", BinaryData.FromString(Schema), jsonSchemaIsStrict: true),
    };

    private static async Task<JsonElement> RefusedAsync(GatewayHarness gw, string json)
    {
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions", json));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error").Clone();
        Assert.Equal(("unsupported_parameter", "invalid_request_error"), (error.GetProperty("code").GetString(), error.GetProperty("type").GetString()));
        Assert.Contains(Model, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        return error;
    }

    /// <summary>The <c>choices[0].delta</c> objects of an SSE answer, in order.</summary>
    private static async Task<List<JsonElement>> DeltasAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var deltas = new List<JsonElement>();
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal)) continue;
            using var chunk = JsonDocument.Parse(line["data: ".Length..]);
            if (chunk.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                && choices[0].TryGetProperty("delta", out var delta))
                deltas.Add(delta.Clone());
        }
        return deltas;
    }

    private static string? Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
