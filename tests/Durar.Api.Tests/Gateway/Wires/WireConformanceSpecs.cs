using System.ClientModel;
using System.Text;
using System.Text.Json;
using Durar.Testing;
using OpenAI.Chat;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// The conformance suite every upstream wire runs: one Theory over (wire × case), so a wire added to <see cref="Wires"/>
/// cannot skip a case. Each case drives the real gateway through <c>/v1/chat/completions</c> with the official OpenAI .NET
/// SDK (raw HTTP where the SDK cannot show it: the error frame that ends a broken stream) against the fake provider speaking
/// that wire: text stream, non-stream, tool-call round trip, image input, reasoning, usage, a 429 that moves to the next
/// key, a mid-stream error event and a cut stream (both end with an error frame, never cleanly).
/// </summary>
public sealed class WireConformanceSpecs
{
    private const string KeyA = "sk-wire-a-1111", KeyB = "sk-wire-b-2222";
    private const string Model = "wire/m";

    /// <summary>A picture for image input (a 1×1 PNG).</summary>
    private const string Png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

    /// <summary>The wires under test: the api name and the base URL of the fake that speaks it.</summary>
    private static readonly Dictionary<string, Func<FakeProvider, string>> WireBaseUrls = new()
    {
        ["openai-completions"] = f => f.OpenAiBaseUrl,
        ["ollama"] = f => f.OllamaBaseUrl,
        ["openai-responses"] = f => f.OpenAiBaseUrl,
        ["openai-chatgpt-responses"] = f => f.OpenAiBaseUrl,
        ["anthropic-messages"] = f => f.AnthropicBaseUrl,
    };

    /// <summary>Wires whose upstream streams only: a non-streaming request is streamed upstream and folded into one answer.</summary>
    private static readonly HashSet<string> StreamOnly = ["openai-chatgpt-responses"];

    private static readonly string[] Cases =
    [
        "text_stream", "non_stream", "tool_call_round_trip", "image_input", "reasoning", "usage", "rate_limit_next_key",
        "mid_stream_error", "cut_stream",
    ];

    public static TheoryData<string, string> Wires()
    {
        var data = new TheoryData<string, string>();
        foreach (var wire in WireBaseUrls.Keys)
            foreach (var c in Cases) data.Add(wire, c);
        return data;
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_pass_the_conformance_case_on_the_wire(string wire, string @case)
    {
        var fake = await FakeProvider.StartAsync();
        await using var gw = await GatewayHarness.StartAsync(Config(wire, WireBaseUrls[wire](fake)), fake);
        var run = @case switch
        {
            "text_stream" => TextStream(gw),
            "non_stream" => NonStream(gw, StreamOnly.Contains(wire)),
            "tool_call_round_trip" => ToolCallRoundTrip(gw),
            "image_input" => ImageInput(gw),
            "reasoning" => Reasoning(gw),
            "usage" => Usage(gw),
            "rate_limit_next_key" => RateLimitNextKey(gw),
            "mid_stream_error" => BrokenStream(gw, new FakeResponse { Text = "one two three four", ErrorEventAfterChunks = 2 }),
            "cut_stream" => BrokenStream(gw, new FakeResponse { Text = "one two three four", CutAfterChunks = 2 }),
            _ => throw new ArgumentOutOfRangeException(nameof(@case), @case, "no such conformance case"),
        };
        await run;
    }

    private static string Config(string api, string baseUrl) => $$"""
        models {
          providers {
            wire { baseUrl = "{{baseUrl}}", api = "{{api}}", models = [{ id = "m", reasoning = true, input = ["text", "image"], contextWindow = 32768 }] }
          }
        }
        env { WIRE_API_KEYS = "{{KeyA}},{{KeyB}}" }
        agents { defaults { model { primary = "{{Model}}" } } }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    private static async Task TextStream(GatewayHarness gw)
    {
        gw.Fake.Enqueue(FakeResponse.Ok("The quick brown fox"));
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in gw.OpenAiChat(Model).CompleteChatStreamingAsync([new UserChatMessage("say it")]))
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

    private static async Task NonStream(GatewayHarness gw, bool streamOnly)
    {
        gw.Fake.Enqueue(new FakeResponse { Text = "All done here.", PromptTokens = 11, CompletionTokens = 4 });

        var completion = (await gw.OpenAiChat(Model).CompleteChatAsync([new UserChatMessage("finish")])).Value;

        Assert.Equal("All done here.", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal((11, 4), (completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount));
        Assert.Equal(streamOnly, Assert.Single(gw.Fake.Requests).Stream);
    }

    private static async Task ToolCallRoundTrip(GatewayHarness gw)
    {
        var tool = ChatTool.CreateFunctionTool("get_weather", "The weather in a city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool } };
        gw.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("get_weather", """{"city":"Lisbon"}""") });
        List<ChatMessage> messages = [new UserChatMessage("weather in Lisbon?")];

        var first = (await gw.OpenAiChat(Model).CompleteChatAsync(messages, options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Lisbon", JsonDocument.Parse(call.FunctionArguments.ToString()).RootElement.GetProperty("city").GetString());
        Assert.False(string.IsNullOrEmpty(call.Id));

        gw.Fake.Enqueue(FakeResponse.Ok("It is 21C in Lisbon."));
        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, """{"celsius":21}"""));
        var second = (await gw.OpenAiChat(Model).CompleteChatAsync(messages, options)).Value;

        Assert.Equal("It is 21C in Lisbon.", second.Content[0].Text);
        var upstream = gw.Fake.Requests[1];
        Assert.Contains("get_weather", upstream.Body, StringComparison.Ordinal);
        Assert.Contains("celsius", upstream.Body, StringComparison.Ordinal); // the tool's result went up
        Assert.Contains("Lisbon", upstream.Body, StringComparison.Ordinal);  // and the call it answers
    }

    private static async Task ImageInput(GatewayHarness gw)
    {
        gw.Fake.Enqueue(FakeResponse.Ok("A single pixel."));
        var message = new UserChatMessage(
            ChatMessageContentPart.CreateTextPart("what is this?"),
            ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(Convert.FromBase64String(Png)), "image/png"));

        var completion = (await gw.OpenAiChat(Model).CompleteChatAsync([message])).Value;

        Assert.Equal("A single pixel.", completion.Content[0].Text);
        var upstream = Assert.Single(gw.Fake.Requests);
        Assert.Contains(Png, upstream.Body, StringComparison.Ordinal);
        Assert.Contains("what is this?", upstream.Body, StringComparison.Ordinal);
    }

    private static async Task Reasoning(GatewayHarness gw)
    {
        gw.Fake.Enqueue(new FakeResponse { Text = "It is 4.", Reasoning = "Two plus two is four." });
#pragma warning disable OPENAI001 // reasoning effort is an evaluation API of the SDK; it is what clients send
        var options = new ChatCompletionOptions { ReasoningEffortLevel = ChatReasoningEffortLevel.High };
#pragma warning restore OPENAI001
        var text = new StringBuilder();
        var reasoning = new StringBuilder();
        await foreach (var update in gw.OpenAiChat(Model).CompleteChatStreamingAsync([new UserChatMessage("2+2?")], options))
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

    private static async Task Usage(GatewayHarness gw)
    {
        gw.Fake.Enqueue(new FakeResponse { Text = "counted words", PromptTokens = 17, CompletionTokens = 9 });
        ChatTokenUsage? usage = null;
        await foreach (var update in gw.OpenAiChat(Model).CompleteChatStreamingAsync([new UserChatMessage("count")]))
            usage ??= update.Usage;

        Assert.NotNull(usage);
        Assert.Equal((17, 9, 26), (usage.InputTokenCount, usage.OutputTokenCount, usage.TotalTokenCount));
    }

    private static async Task RateLimitNextKey(GatewayHarness gw)
    {
        gw.Fake.Enqueue(FakeResponse.RateLimited("30"), FakeResponse.Ok("from the second key"));

        var completion = (await gw.OpenAiChat(Model).CompleteChatAsync([new UserChatMessage("hello")])).Value;

        Assert.Equal("from the second key", completion.Content[0].Text);
        Assert.Equal([KeyA, KeyB], gw.Fake.Requests.Select(r => r.ApiKey));
    }

    /// <summary>A stream that breaks after output: the client gets the text so far, then one error frame and no <c>[DONE]</c>.</summary>
    private static async Task BrokenStream(GatewayHarness gw, FakeResponse broken)
    {
        gw.Fake.Enqueue(broken);
        using var response = await gw.Http.SendAsync(gw.Post("/v1/chat/completions",
            $$"""{"model":"{{Model}}","stream":true,"messages":[{"role":"user","content":"go"}]}"""));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("\"content\":\"one\"", body, StringComparison.Ordinal);
        var frames = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("data: {\"error\":", frames[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        Assert.Single(gw.Fake.Requests); // committed after output: no second attempt
    }
}
