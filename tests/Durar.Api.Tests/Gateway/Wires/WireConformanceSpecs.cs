using System.ClientModel;
using System.Text;
using System.Text.Json;
using Durar.Actors.Configuration;
using Durar.Testing;
using OpenAI.Chat;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// The conformance suite every upstream wire runs: one Theory over (wire × case) with the wires of <see cref="WireCase.All"/>,
/// and a spec that fails when an api the catalog can name (<see cref="ApiKinds.All"/>) has no case there, so a new wire
/// cannot skip a case. Each case drives the real gateway through <c>/v1/chat/completions</c> with the official OpenAI .NET
/// SDK (raw HTTP where the SDK cannot show it: the error frame that ends a broken stream) against the fake provider speaking
/// that wire: text stream, non-stream, tool-call round trip, image input, reasoning, usage, the wire's own rate-limit signal
/// (a 429 rendered in its error shape) moving to the next key, a mid-stream error event and a cut stream (both end with an
/// error frame, never cleanly).
/// </summary>
public sealed class WireConformanceSpecs
{
    /// <summary>A picture for image input (a 1×1 PNG).</summary>
    private const string Png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

    private static readonly string[] Cases =
    [
        "text_stream", "non_stream", "tool_call_round_trip", "image_input", "reasoning", "usage", "rate_limit_next_key",
        "mid_stream_error", "cut_stream",
    ];

    public static TheoryData<WireCase, string> Wires()
    {
        var data = new TheoryData<WireCase, string>();
        foreach (var wire in WireCase.All)
            foreach (var c in Cases) data.Add(wire, c);
        return data;
    }

    [Fact]
    public void Should_have_a_conformance_case_for_every_api_the_catalog_can_name()
    {
        var covered = WireCase.All.Select(w => w.Api).ToHashSet(StringComparer.Ordinal);

        var missing = ApiKinds.All.Where(api => api != ApiKinds.Echo && !covered.Contains(api)).Order(StringComparer.Ordinal).ToArray();

        Assert.True(missing.Length == 0, $"wires without a conformance case in WireCase.All: {string.Join(", ", missing)}");
        Assert.Equal(WireCase.All.Count, covered.Count); // one case per wire
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_pass_the_conformance_case_on_the_wire(WireCase wire, string @case)
    {
        await using var gw = await wire.StartAsync();
        var model = wire.Model;
        var run = @case switch
        {
            "text_stream" => TextStream(gw, model),
            "non_stream" => NonStream(gw, model, wire.StreamOnly),
            "tool_call_round_trip" => ToolCallRoundTrip(gw, model),
            "image_input" => ImageInput(gw, model),
            "reasoning" => Reasoning(gw, model),
            "usage" => Usage(gw, model),
            "rate_limit_next_key" => RateLimitNextKey(gw, wire),
            "mid_stream_error" => BrokenStream(gw, model, new FakeResponse { Text = "one two three four", ErrorEventAfterChunks = 2 }),
            "cut_stream" => BrokenStream(gw, model, new FakeResponse { Text = "one two three four", CutAfterChunks = 2 }),
            _ => throw new ArgumentOutOfRangeException(nameof(@case), @case, "no such conformance case"),
        };
        await run;
    }

    private static async Task TextStream(GatewayHarness gw, string model)
    {
        gw.Fake.Enqueue(FakeResponse.Ok("The quick brown fox"));
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in gw.OpenAiChat(model).CompleteChatStreamingAsync([new UserChatMessage("say it")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
        }

        Assert.Equal("The quick brown fox", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        var upstream = Assert.Single(gw.Fake.Requests);
        Assert.True(upstream.Stream);
        Assert.Contains("say it", upstream.Body, StringComparison.Ordinal);
    }

    private static async Task NonStream(GatewayHarness gw, string model, bool streamOnly)
    {
        gw.Fake.Enqueue(new FakeResponse { Text = "All done here.", PromptTokens = 11, CompletionTokens = 4 });

        var completion = (await gw.OpenAiChat(model).CompleteChatAsync([new UserChatMessage("finish")])).Value;

        Assert.Equal("All done here.", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal((11, 4), (completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount));
        Assert.Equal(streamOnly, Assert.Single(gw.Fake.Requests).Stream);
    }

    private static async Task ToolCallRoundTrip(GatewayHarness gw, string model)
    {
        var tool = ChatTool.CreateFunctionTool("get_weather", "The weather in a city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool } };
        gw.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("get_weather", """{"city":"Lisbon"}""") });
        List<ChatMessage> messages = [new UserChatMessage("weather in Lisbon?")];

        var first = (await gw.OpenAiChat(model).CompleteChatAsync(messages, options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Lisbon", JsonDocument.Parse(call.FunctionArguments.ToString()).RootElement.GetProperty("city").GetString());
        Assert.False(string.IsNullOrEmpty(call.Id));

        gw.Fake.Enqueue(FakeResponse.Ok("It is 21C in Lisbon."));
        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, """{"celsius":21}"""));
        var second = (await gw.OpenAiChat(model).CompleteChatAsync(messages, options)).Value;

        Assert.Equal("It is 21C in Lisbon.", second.Content[0].Text);
        var upstream = gw.Fake.Requests[1];
        Assert.Contains("get_weather", upstream.Body, StringComparison.Ordinal);
        Assert.Contains("celsius", upstream.Body, StringComparison.Ordinal); // the tool's result went up
        Assert.Contains("Lisbon", upstream.Body, StringComparison.Ordinal);  // and the call it answers
    }

    private static async Task ImageInput(GatewayHarness gw, string model)
    {
        gw.Fake.Enqueue(FakeResponse.Ok("A single pixel."));
        var message = new UserChatMessage(
            ChatMessageContentPart.CreateTextPart("what is this?"),
            ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(Convert.FromBase64String(Png)), "image/png"));

        var completion = (await gw.OpenAiChat(model).CompleteChatAsync([message])).Value;

        Assert.Equal("A single pixel.", completion.Content[0].Text);
        var upstream = Assert.Single(gw.Fake.Requests);
        Assert.Contains(Png, upstream.Body, StringComparison.Ordinal);
        Assert.Contains("what is this?", upstream.Body, StringComparison.Ordinal);
    }

    private static async Task Reasoning(GatewayHarness gw, string model)
    {
        gw.Fake.Enqueue(new FakeResponse { Text = "It is 4.", Reasoning = "Two plus two is four." });
#pragma warning disable OPENAI001 // reasoning effort is an evaluation API of the SDK; it is what clients send
        var options = new ChatCompletionOptions { ReasoningEffortLevel = ChatReasoningEffortLevel.High };
#pragma warning restore OPENAI001
        var text = new StringBuilder();
        var reasoning = new StringBuilder();
        await foreach (var update in gw.OpenAiChat(model).CompleteChatStreamingAsync([new UserChatMessage("2+2?")], options))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            // The SDK has no property for reasoning deltas: an application reads the update's own JSON.
            using var json = JsonDocument.Parse(System.ClientModel.Primitives.ModelReaderWriter.Write(update).ToString());
            if (json.RootElement.GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0
                && choices[0].GetProperty("delta").TryGetProperty("reasoning_content", out var r))
                reasoning.Append(r.GetString());
        }

        Assert.Equal("It is 4.", text.ToString());
        Assert.Equal("Two plus two is four.", reasoning.ToString());
    }

    private static async Task Usage(GatewayHarness gw, string model)
    {
        gw.Fake.Enqueue(new FakeResponse { Text = "counted words", PromptTokens = 17, CompletionTokens = 9 });
        ChatTokenUsage? usage = null;
        await foreach (var update in gw.OpenAiChat(model).CompleteChatStreamingAsync([new UserChatMessage("count")]))
            usage ??= update.Usage;

        Assert.NotNull(usage);
        Assert.Equal((17, 9, 26), (usage.InputTokenCount, usage.OutputTokenCount, usage.TotalTokenCount));
    }

    private static async Task RateLimitNextKey(GatewayHarness gw, WireCase wire)
    {
        gw.Fake.Enqueue(FakeResponse.RateLimited("30"), FakeResponse.Ok("from the second key"));

        var completion = (await gw.OpenAiChat(wire.Model).CompleteChatAsync([new UserChatMessage("hello")])).Value;

        Assert.Equal("from the second key", completion.Content[0].Text);
        var keys = gw.Fake.Requests.Select(wire.KeyOf).ToArray();
        Assert.Equal(2, keys.Length);
        Assert.NotEqual(keys[0], keys[1]);
        if (wire.Keys is var (a, b)) Assert.Equal(new string?[] { a, b }, keys);
    }

    /// <summary>A stream that breaks after output: the client gets the text so far, then one error frame and no <c>[DONE]</c>.</summary>
    private static async Task BrokenStream(GatewayHarness gw, string model, FakeResponse broken)
    {
        gw.Fake.Enqueue(broken);
        using var response = await gw.Http.SendAsync(gw.Post("/v1/chat/completions",
            $$"""{"model":"{{model}}","stream":true,"messages":[{"role":"user","content":"go"}]}"""));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("\"content\":\"one\"", body, StringComparison.Ordinal);
        var frames = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("data: {\"error\":", frames[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        Assert.Single(gw.Fake.Requests); // committed after output: no second attempt
    }
}
