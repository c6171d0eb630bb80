using System.ClientModel;
using System.Net;
using System.Text;
using Durar.Testing;
using OpenAI.Chat;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// The wire/aws branch's conformance suite, kept beside <see cref="WireConformanceSpecs"/> because its case model (a
/// <see cref="AwsWireCase"/> per wire, with a fake-side <c>Prepare</c> and a key reader for SigV4) differs from the other
/// suites: the same cases over the wires that need that model (<see cref="AwsWireCase.All"/>: OpenAI, Anthropic, GitHub
/// Copilot, Bedrock), driven through <c>/v1/chat/completions</c> with the
/// official OpenAI .NET SDK (raw HTTP where the check is the SSE framing itself): a text stream, a whole answer, a tool call
/// and its result sent back, an image, usage, the wire's rate-limit signal moving the request to the other key, an error
/// event mid-stream and a cut stream (both ending in one error frame, never <c>[DONE]</c>). A wire cannot skip a case.
/// </summary>
public sealed class AwsWireConformanceSpecs
{
    private static async Task<GatewayHarness> StartAsync(AwsWireCase wire)
    {
        var fake = await FakeProvider.StartAsync();
        wire.Prepare?.Invoke(fake);
        return await GatewayHarness.StartAsync(wire.Hocon.Replace("{fake-root}", fake.AnthropicBaseUrl), fake);
    }

    [Theory]
    [MemberData(nameof(AwsWireCase.All), MemberType = typeof(AwsWireCase))]
    public async Task Should_stream_text_in_order_with_a_stop_finish(AwsWireCase wire)
    {
        await using var gw = await StartAsync(wire);
        gw.Fake.Enqueue(new FakeResponse { Text = "one two three four" });

        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in gw.OpenAiChat(wire.Model).CompleteChatStreamingAsync([new UserChatMessage("count")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
        }

        Assert.Equal("one two three four", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.True(Assert.Single(gw.Fake.Requests).Stream);
    }

    [Theory]
    [MemberData(nameof(AwsWireCase.All), MemberType = typeof(AwsWireCase))]
    public async Task Should_answer_a_whole_completion_with_its_usage(AwsWireCase wire)
    {
        await using var gw = await StartAsync(wire);
        gw.Fake.Enqueue(new FakeResponse { Text = "whole answer", PromptTokens = 11, CompletionTokens = 7 });

        var completion = (await gw.OpenAiChat(wire.Model).CompleteChatAsync([new SystemChatMessage("be brief"), new UserChatMessage("hi")])).Value;

        Assert.Equal("whole answer", completion.Content[0].Text);
        Assert.Equal((11, 7), (completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount));
        Assert.False(Assert.Single(gw.Fake.Requests).Stream);
    }

    [Theory]
    [MemberData(nameof(AwsWireCase.All), MemberType = typeof(AwsWireCase))]
    public async Task Should_report_usage_at_the_end_of_a_stream(AwsWireCase wire)
    {
        await using var gw = await StartAsync(wire);
        gw.Fake.Enqueue(new FakeResponse { Text = "a b c", PromptTokens = 13, CompletionTokens = 3 });

        ChatTokenUsage? usage = null;
        // The SDK asks for usage on every stream (stream_options.include_usage).
        await foreach (var update in gw.OpenAiChat(wire.Model).CompleteChatStreamingAsync([new UserChatMessage("x")]))
            usage = update.Usage ?? usage;

        Assert.NotNull(usage);
        Assert.Equal((13, 3), (usage!.InputTokenCount, usage.OutputTokenCount));
    }

    [Theory]
    [MemberData(nameof(AwsWireCase.All), MemberType = typeof(AwsWireCase))]
    public async Task Should_carry_a_tool_call_out_and_its_result_back(AwsWireCase wire)
    {
        await using var gw = await StartAsync(wire);
        gw.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("get_weather", """{"city":"Oslo"}""", "call_conf_1") },
            new FakeResponse { Text = "It is 4 degrees." });
        var tool = ChatTool.CreateFunctionTool("get_weather", "weather by city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool } };
        var chat = gw.OpenAiChat(wire.Model);
        List<ChatMessage> messages = [new UserChatMessage("weather in Oslo?")];

        var first = (await chat.CompleteChatAsync(messages, options)).Value;
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Oslo", System.Text.Json.JsonDocument.Parse(call.FunctionArguments.ToString()).RootElement.GetProperty("city").GetString());
        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, "4 degrees, light rain"));
        var second = (await chat.CompleteChatAsync(messages, options)).Value;

        Assert.Equal("It is 4 degrees.", second.Content[0].Text);
        var sent = gw.Fake.Requests[1].Body;
        Assert.Contains("4 degrees, light rain", sent);
        Assert.Contains(call.Id, sent);
        Assert.Contains("get_weather", gw.Fake.Requests[0].Body);
    }

    [Theory]
    [MemberData(nameof(AwsWireCase.All), MemberType = typeof(AwsWireCase))]
    public async Task Should_send_an_image_part_upstream(AwsWireCase wire)
    {
        await using var gw = await StartAsync(wire);
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4 };

        var completion = (await gw.OpenAiChat(wire.Model).CompleteChatAsync([new UserChatMessage(
            ChatMessageContentPart.CreateTextPart("what is this?"), ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(png), "image/png"))])).Value;

        Assert.StartsWith("Hello from fake: what is this?", completion.Content[0].Text);
        Assert.Equal(Convert.ToBase64String(png), wire.ImageBase64(Assert.Single(gw.Fake.Requests)));
    }

    [Theory]
    [MemberData(nameof(AwsWireCase.All), MemberType = typeof(AwsWireCase))]
    public async Task Should_move_to_the_other_key_on_the_wire_rate_limit_signal(AwsWireCase wire)
    {
        await using var gw = await StartAsync(wire);
        gw.Fake.Enqueue(FakeResponse.RateLimited("30"), FakeResponse.Ok("from the second key"));

        var completion = (await gw.OpenAiChat(wire.Model).CompleteChatAsync([new UserChatMessage("hi")])).Value;

        Assert.Equal("from the second key", completion.Content[0].Text);
        var requests = gw.Fake.Requests;
        Assert.Equal(2, requests.Count);
        Assert.NotEqual(wire.KeyOf(requests[0]), wire.KeyOf(requests[1]));
    }

    [Theory]
    [MemberData(nameof(AwsWireCase.All), MemberType = typeof(AwsWireCase))]
    public async Task Should_end_a_stream_broken_by_an_error_event_with_one_error_frame(AwsWireCase wire)
    {
        await using var gw = await StartAsync(wire);
        gw.Fake.Default = new FakeResponse { Text = "alpha beta gamma delta", ErrorEventAfterChunks = 2 };

        var body = await StreamRawAsync(gw, wire);

        Assert.Contains("alpha", body);
        Assert.DoesNotContain("[DONE]", body);
        Assert.Contains("data: {\"error\":", LastFrame(body));
    }

    [Theory]
    [MemberData(nameof(AwsWireCase.All), MemberType = typeof(AwsWireCase))]
    public async Task Should_end_a_cut_stream_with_an_error_frame_never_clean(AwsWireCase wire)
    {
        await using var gw = await StartAsync(wire);
        gw.Fake.Default = new FakeResponse { Text = "alpha beta gamma delta", CutAfterChunks = 2 };

        var body = await StreamRawAsync(gw, wire);

        Assert.Contains("alpha", body);
        Assert.DoesNotContain("[DONE]", body);
        Assert.Contains("data: {\"error\":", LastFrame(body));
    }

    private static async Task<string> StreamRawAsync(GatewayHarness gw, AwsWireCase wire)
    {
        using var response = await gw.Http.SendAsync(gw.Post("/v1/chat/completions",
            $$"""{"model":"{{wire.Model}}","stream":true,"messages":[{"role":"user","content":"go"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private static string LastFrame(string body) =>
        body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
}
