using System.Net;
using System.Text;
using System.Text.Json;
using Durar.Api.Tests.Resilience;
using Durar.Testing;
using OpenAI.Chat;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// The wire/google branch's conformance suite, kept beside <see cref="WireConformanceSpecs"/> and
/// <see cref="AwsWireConformanceSpecs"/> because its case model (<see cref="GoogleWireCase"/>: per-wire readers of the tool
/// result and image in the upstream body) differs: the same cases over the wires in <see cref="GoogleWireCase.All"/>
/// (Gemini, Anthropic, Vertex Gemini, Vertex Claude, Gemini CLI), driven through <c>/v1/chat/completions</c> with the
/// official OpenAI .NET SDK (raw HTTP where the SDK has no words for it): a text stream, a whole answer, a tool call round
/// trip, an image, reasoning, usage with cached tokens, a 429 in the wire's own rate-limit signal moving to the next key and
/// cooling the first for as long as the upstream asked, an error event mid-stream, and a cut stream. A wire that joins the
/// list cannot skip a case.
/// </summary>
public sealed class GoogleWireConformanceSpecs
{
    public static TheoryData<GoogleWireCase> Wires => GoogleWireCase.All;

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_stream_text_the_sdk_assembles(GoogleWireCase wire)
    {
        await using var gw = await GatewayHarness.StartAsync(wire.Hocon);
        gw.Fake.Enqueue(new FakeResponse { Text = "The quick brown fox jumps." });

        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in gw.OpenAiChat(wire.Model).CompleteChatStreamingAsync([new UserChatMessage("tell me about foxes")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
        }

        Assert.Equal("The quick brown fox jumps.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        var sent = Assert.Single(gw.Fake.Requests);
        Assert.True(sent.Stream);
        Assert.Equal(GoogleWireCase.KeyA, sent.ApiKey);
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_answer_a_whole_completion_the_sdk_reads(GoogleWireCase wire)
    {
        await using var gw = await GatewayHarness.StartAsync(wire.Hocon);
        gw.Fake.Enqueue(new FakeResponse { Text = "Forty-two." });

        var completion = (await gw.OpenAiChat(wire.Model).CompleteChatAsync([new UserChatMessage("the answer?")])).Value;

        Assert.Equal("Forty-two.", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.False(Assert.Single(gw.Fake.Requests).Stream);
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_round_trip_a_tool_call(GoogleWireCase wire)
    {
        await using var gw = await GatewayHarness.StartAsync(wire.Hocon);
        gw.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("get_weather", """{"city":"Oslo"}"""), ReasoningSignature = "c2lnLTE=" },
            new FakeResponse { Text = "It is 3 degrees in Oslo." });
        var tool = ChatTool.CreateFunctionTool("get_weather", "The weather in a city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool } };
        var chat = gw.OpenAiChat(wire.Model);
        List<ChatMessage> messages = [new UserChatMessage("weather in Oslo?")];

        var first = (await chat.CompleteChatAsync(messages, options)).Value;
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Oslo", JsonDocument.Parse(call.FunctionArguments.ToString()).RootElement.GetProperty("city").GetString());
        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, "3 degrees, clear"));
        var second = (await chat.CompleteChatAsync(messages, options)).Value;

        Assert.Equal("It is 3 degrees in Oslo.", second.Content[0].Text);
        Assert.Equal("3 degrees, clear", wire.ToolResult(gw.Fake.Requests[1].Json.RootElement));
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_stream_a_tool_call_the_sdk_assembles(GoogleWireCase wire)
    {
        await using var gw = await GatewayHarness.StartAsync(wire.Hocon);
        gw.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("get_weather", """{"city":"Oslo"}"""), Chunks = 3 });
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("get_weather", "The weather in a city") } };

        string? name = null, id = null;
        var args = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in gw.OpenAiChat(wire.Model).CompleteChatStreamingAsync([new UserChatMessage("weather in Oslo?")], options))
        {
            foreach (var t in update.ToolCallUpdates)
            {
                name ??= t.FunctionName;
                id ??= t.ToolCallId;
                args.Append(t.FunctionArgumentsUpdate?.ToString());
            }
            finish ??= update.FinishReason;
        }

        Assert.Equal("get_weather", name);
        Assert.False(string.IsNullOrEmpty(id));
        Assert.Equal("Oslo", JsonDocument.Parse(args.ToString()).RootElement.GetProperty("city").GetString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_carry_an_image_part(GoogleWireCase wire)
    {
        await using var gw = await GatewayHarness.StartAsync(wire.Hocon);
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4];

        var completion = (await gw.OpenAiChat(wire.Model).CompleteChatAsync([
            new UserChatMessage(ChatMessageContentPart.CreateTextPart("what is this?"),
                ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(png), "image/png")),
        ])).Value;

        Assert.Equal("Hello from fake: what is this?", completion.Content[0].Text);
        Assert.Equal(Convert.ToBase64String(png), wire.ImageData(Assert.Single(gw.Fake.Requests).Json.RootElement));
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_stream_reasoning_as_reasoning_content_apart_from_the_answer(GoogleWireCase wire)
    {
        await using var gw = await GatewayHarness.StartAsync(wire.Hocon);
        gw.Fake.Enqueue(new FakeResponse { Text = "It is 4.", Reasoning = "Two and two make four." });

        var reply = await gw.SendAsync(gw.Post("v1/chat/completions",
            $$"""{"model":"{{wire.Model}}","stream":true,"reasoning_effort":"low","messages":[{"role":"user","content":"2+2?"}]}"""));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var deltas = Deltas(reply);
        Assert.Equal("Two and two make four.", string.Concat(deltas.Select(d => Str(d, "reasoning_content"))));
        Assert.Equal("It is 4.", string.Concat(deltas.Select(d => Str(d, "content"))));
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_report_usage_with_cached_tokens_the_sdk_reads(GoogleWireCase wire)
    {
        await using var gw = await GatewayHarness.StartAsync(wire.Hocon);
        gw.Fake.Enqueue(new FakeResponse { Text = "ok", PromptTokens = 10, CacheReadTokens = 4, CompletionTokens = 5 });

        var usage = (await gw.OpenAiChat(wire.Model).CompleteChatAsync([new UserChatMessage("hi")])).Value.Usage;

        Assert.Equal((14, 4, 5), (usage.InputTokenCount, usage.InputTokenDetails.CachedTokenCount, usage.OutputTokenCount));
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_move_to_the_next_key_on_a_429_and_cool_the_first_as_long_as_the_upstream_asked(GoogleWireCase wire)
    {
        await using var gw = await GatewayHarness.StartAsync(wire.Hocon);
        // 45 s: longer than the first step of the cooldown schedule (30 s), so only the upstream's own signal explains it.
        gw.Fake.Script = r => r.ApiKey == GoogleWireCase.KeyA ? FakeResponse.RateLimited("45") : null;
        var before = DateTimeOffset.UtcNow;

        var reply = await gw.ChatAsync(wire.Model);

        Assert.True(reply.Status == HttpStatusCode.OK, $"{(int)reply.Status}: {reply.Body}");
        Assert.Equal([GoogleWireCase.KeyA, GoogleWireCase.KeyB], gw.Fake.Requests.Select(r => r.ApiKey));
        var a = await gw.WaitForKeyStateAsync(wire.ProviderId, GoogleWireCase.KeyA, "cooling");
        Assert.Equal("rate_limit", a.GetProperty("reason").GetString());
        Assert.InRange(a.Until()!.Value, before + TimeSpan.FromSeconds(40), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(50));
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_end_the_stream_with_an_error_frame_on_an_error_event_mid_stream(GoogleWireCase wire)
    {
        await using var gw = await GatewayHarness.StartAsync(wire.Hocon);
        gw.Fake.Enqueue(new FakeResponse { Text = "one two three four", ErrorEventAfterChunks = 2 });

        var reply = await gw.ChatAsync(wire.Model, stream: true);

        AssertErrorEnd(reply, "one two");
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_end_a_cut_stream_with_an_error_frame(GoogleWireCase wire)
    {
        await using var gw = await GatewayHarness.StartAsync(wire.Hocon);
        gw.Fake.Enqueue(new FakeResponse { Text = "one two three four", CutAfterChunks = 2 });

        var reply = await gw.ChatAsync(wire.Model, stream: true);

        AssertErrorEnd(reply, "one two");
    }

    /// <summary>The text sent before the break, then one error frame and no <c>[DONE]</c>.</summary>
    private static void AssertErrorEnd(GatewayReply reply, string before)
    {
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var frames = reply.DataFrames;
        Assert.DoesNotContain("[DONE]", frames);
        using var last = JsonDocument.Parse(frames[^1]);
        Assert.True(last.RootElement.TryGetProperty("error", out _), $"last frame: {frames[^1]}");
        Assert.Equal(before, reply.Content);
    }

    private static List<JsonElement> Deltas(GatewayReply reply)
    {
        var deltas = new List<JsonElement>();
        foreach (var frame in reply.DataFrames.Where(f => f != "[DONE]"))
        {
            using var doc = JsonDocument.Parse(frame);
            if (doc.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0)
                deltas.Add(choices[0].GetProperty("delta").Clone());
        }
        return deltas;
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
