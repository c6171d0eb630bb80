using System.Text;
using System.Text.Json;
using Anthropic.Models.Messages;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway.Messages;

/// <summary>
/// The official Anthropic .NET SDK against <c>POST /v1/messages</c>, over both upstream wires (the fake provider's OpenAI
/// chat completions and Anthropic messages), whole and streamed: text, a tool call round trip, images, thinking, usage.
/// Every streamed answer is checked against Anthropic's event grammar (<see cref="MessageStreamGrammar"/>), and every test
/// looks at what the upstream received, so the translation both ways is pinned.
/// </summary>
public sealed class MessagesApiSpecs
{
    public static TheoryData<string, bool> Wires => new()
    {
        { "fakeoai/gpt-fake", false }, { "fakeoai/gpt-fake", true }, { "fakeant/claude-fake", false }, { "fakeant/claude-fake", true },
    };

    private static bool Anthropic(string model) => model.StartsWith("fakeant/", StringComparison.Ordinal);

    private static MessageCreateParams Ask(string model, string text, int maxTokens = 256) => new()
    {
        MaxTokens = maxTokens,
        Model = model,
        Messages = [new UserMessageParam { Content = text }],
    };

    /// <summary>Runs <paramref name="p"/> whole or streamed; a stream is checked against the grammar and folded into a message.</summary>
    internal static async Task<(string Text, string Thinking, string? Signature, List<(string Id, string Name, string Input)> Tools, JsonElement Usage, string StopReason)>
        RunAsync(MessagesClient client, MessageCreateParams p, bool stream)
    {
        if (!stream)
        {
            var message = await client.Sdk.Messages.Create(p);
            Assert.StartsWith("msg_", message.ID);
            using var doc = JsonDocument.Parse(client.LastBody);
            var root = doc.RootElement;
            Assert.Equal("message", root.GetProperty("type").GetString());
            Assert.Equal("assistant", root.GetProperty("role").GetString());
            Assert.Equal(p.Model.ToString().Trim('"'), root.GetProperty("model").GetString()); // ApiEnum prints its JSON
            var text = new StringBuilder();
            var thinking = new StringBuilder();
            string? signature = null;
            var tools = new List<(string, string, string)>();
            foreach (var block in message.Content)
            {
                if (block.TryPickText(out var t)) text.Append(t.Text);
                else if (block.TryPickThinking(out var th))
                {
                    thinking.Append(th.Thinking);
                    signature = th.Signature;
                }
                else if (block.TryPickToolUse(out var use)) tools.Add((use.ID, use.Name, JsonSerializer.Serialize(use.Input)));
            }
            return (text.ToString(), thinking.ToString(), signature, tools, root.GetProperty("usage").Clone(), root.GetProperty("stop_reason").GetString()!);
        }
        var streamedText = new StringBuilder();
        await foreach (var e in client.Sdk.Messages.CreateStreaming(p))
            if (e.TryPickContentBlockDelta(out var d) && d.Delta.TryPickText(out var td)) streamedText.Append(td.Text);
        var frames = MessageStreamGrammar.AssertComplete(client.LastBody);
        var textOut = new StringBuilder();
        var thinkingOut = new StringBuilder();
        string? sig = null;
        var calls = new List<(string Id, string Name, StringBuilder Input)>();
        foreach (var (name, data) in frames)
        {
            if (name == "content_block_start" && data.GetProperty("content_block") is var cb && cb.GetProperty("type").GetString() == "tool_use")
                calls.Add((cb.GetProperty("id").GetString()!, cb.GetProperty("name").GetString()!, new StringBuilder()));
            if (name != "content_block_delta") continue;
            var delta = data.GetProperty("delta");
            switch (delta.GetProperty("type").GetString())
            {
                case "text_delta": textOut.Append(delta.GetProperty("text").GetString()); break;
                case "thinking_delta": thinkingOut.Append(delta.GetProperty("thinking").GetString()); break;
                case "signature_delta": sig = delta.GetProperty("signature").GetString(); break;
                case "input_json_delta": calls[^1].Input.Append(delta.GetProperty("partial_json").GetString()); break;
            }
        }
        Assert.Equal(textOut.ToString(), streamedText.ToString());
        var messageDelta = frames.Single(f => f.Event == "message_delta").Data;
        return (textOut.ToString(), thinkingOut.ToString(), sig,
            [.. calls.Select(c => (c.Id, c.Name, JsonSerializer.Serialize(JsonDocument.Parse(c.Input.ToString()).RootElement)))],
            messageDelta.GetProperty("usage").Clone(), messageDelta.GetProperty("delta").GetProperty("stop_reason").GetString()!);
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_answer_text_with_usage_in_Anthropic_shape(string model, bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Default = new FakeResponse { Text = "Hello there friend", PromptTokens = 12, CompletionTokens = 3 };
        using var client = new MessagesClient(gw);
        var p = Ask(model, "say hello") with { System = "Be brief.", StopSequences = ["END"] };

        var answer = await RunAsync(client, p, stream);

        Assert.Equal("Hello there friend", answer.Text);
        Assert.Equal("end_turn", answer.StopReason);
        Assert.Equal(12, answer.Usage.GetProperty("input_tokens").GetInt64());
        Assert.Equal(3, answer.Usage.GetProperty("output_tokens").GetInt64());
        Assert.Equal(model, client.LastHeaders.GetValues("x-durar-model").Single());
        var sent = gw.Fake.Requests.Single().Json.RootElement;
        Assert.Equal(256, sent.GetProperty("max_tokens").GetInt32());
        if (Anthropic(model))
        {
            Assert.Equal("Be brief.", sent.GetProperty("system").GetString());
            Assert.Equal("END", sent.GetProperty("stop_sequences")[0].GetString());
            Assert.Equal("say hello", sent.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString());
        }
        else
        {
            Assert.Equal("system", sent.GetProperty("messages")[0].GetProperty("role").GetString());
            Assert.Equal("Be brief.", sent.GetProperty("messages")[0].GetProperty("content").GetString());
            Assert.Equal("END", sent.GetProperty("stop")[0].GetString());
            Assert.Equal("say hello", sent.GetProperty("messages")[1].GetProperty("content").GetString());
        }
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_round_trip_a_tool_call(string model, bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("get_weather", """{"city":"Paris"}"""), Chunks = 3 });
        gw.Fake.Enqueue(FakeResponse.Ok("It is sunny in Paris"));
        using var client = new MessagesClient(gw);
        var tool = new Tool
        {
            Name = "get_weather",
            Description = "The weather in a city",
            InputSchema = new()
            {
                Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) },
                Required = ["city"],
            },
        };
        var first = Ask(model, "What is the weather in Paris?") with { Tools = [tool], ToolChoice = new ToolChoiceAuto() };

        var call = await RunAsync(client, first, stream);

        Assert.Equal("tool_use", call.StopReason);
        var (id, name, input) = Assert.Single(call.Tools);
        Assert.Equal("get_weather", name);
        Assert.Equal("""{"city":"Paris"}""", input);
        var sentTools = gw.Fake.Requests[0].Json.RootElement.GetProperty("tools")[0];
        Assert.Equal("get_weather", Anthropic(model) ? sentTools.GetProperty("name").GetString() : sentTools.GetProperty("function").GetProperty("name").GetString());

        var second = first with
        {
            Messages =
            [
                new UserMessageParam { Content = "What is the weather in Paris?" },
                new AssistantMessageParam
                {
                    Content = new List<ContentBlockParam>
                    {
                        new ToolUseBlockParam { ID = id, Name = name, Input = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement("Paris") } },
                    },
                },
                new UserMessageParam { Content = new List<ContentBlockParam> { new ToolResultBlockParam { ToolUseID = id, Content = "sunny, 24 C" } } },
            ],
        };
        var answer = await RunAsync(client, second, stream);

        Assert.Equal("It is sunny in Paris", answer.Text);
        var messages = gw.Fake.Requests[1].Json.RootElement.GetProperty("messages");
        if (Anthropic(model))
        {
            Assert.Equal(id, messages[1].GetProperty("content")[0].GetProperty("id").GetString());
            Assert.Equal("Paris", messages[1].GetProperty("content")[0].GetProperty("input").GetProperty("city").GetString());
            var result = messages[2].GetProperty("content")[0];
            Assert.Equal("tool_result", result.GetProperty("type").GetString());
            Assert.Equal(id, result.GetProperty("tool_use_id").GetString());
            Assert.Equal("sunny, 24 C", result.GetProperty("content").GetString());
        }
        else
        {
            var sentCall = messages[1].GetProperty("tool_calls")[0];
            Assert.Equal(id, sentCall.GetProperty("id").GetString());
            Assert.Equal("Paris", JsonDocument.Parse(sentCall.GetProperty("function").GetProperty("arguments").GetString()!).RootElement.GetProperty("city").GetString());
            Assert.Equal("tool", messages[2].GetProperty("role").GetString());
            Assert.Equal(id, messages[2].GetProperty("tool_call_id").GetString());
            Assert.Equal("sunny, 24 C", messages[2].GetProperty("content").GetString());
        }
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_send_images_as_the_upstream_wire_takes_them(string model, bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync();
        using var client = new MessagesClient(gw);
        var p = Ask(model, "") with
        {
            Messages =
            [
                new UserMessageParam
                {
                    Content = new List<ContentBlockParam>
                    {
                        new TextBlockParam { Text = "What is in these pictures?" },
                        new ImageBlockParam { Source = new Base64ImageSource { Data = "iVBORw0KGgo=", MediaType = MediaType.ImagePng } },
                        new ImageBlockParam { Source = new UrlImageSource { Url = "https://example.com/cat.jpg" } },
                    },
                },
            ],
        };

        var answer = await RunAsync(client, p, stream);

        Assert.Equal("Hello from fake: What is in these pictures?", answer.Text);
        var content = gw.Fake.Requests.Single().Json.RootElement.GetProperty("messages")[0].GetProperty("content");
        if (Anthropic(model))
        {
            Assert.Equal("base64", content[1].GetProperty("source").GetProperty("type").GetString());
            Assert.Equal("image/png", content[1].GetProperty("source").GetProperty("media_type").GetString());
            Assert.Equal("iVBORw0KGgo=", content[1].GetProperty("source").GetProperty("data").GetString());
            Assert.Equal("https://example.com/cat.jpg", content[2].GetProperty("source").GetProperty("url").GetString());
        }
        else
        {
            Assert.Equal("data:image/png;base64,iVBORw0KGgo=", content[1].GetProperty("image_url").GetProperty("url").GetString());
            Assert.Equal("https://example.com/cat.jpg", content[2].GetProperty("image_url").GetProperty("url").GetString());
        }
    }

    /// <summary>The OpenAI-wire model is marked as a reasoning model, so it takes <c>reasoning_effort</c>.</summary>
    private const string ReasoningModels = """
        models {
          providers {
            fakeoai { baseUrl = "{fake-openai}", apiKey = "sk-fake-openai-1234", api = "openai-completions", models = [{ id = "gpt-fake", reasoning = true }] }
            fakeant { baseUrl = "{fake-anthropic}", apiKey = "sk-ant-fake-5678", api = "anthropic-messages", models = [{ id = "claude-fake" }] }
          }
        }
        """;

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_carry_thinking_both_ways(string model, bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync(ReasoningModels);
        gw.Fake.Default = new FakeResponse { Text = "Four.", Reasoning = "Two plus two is four", ReasoningSignature = "sig-abc" };
        using var client = new MessagesClient(gw);
        var p = Ask(model, "What is 2+2?", maxTokens: 4096) with { Thinking = new ThinkingConfigEnabled { BudgetTokens = 2048 } };

        var answer = await RunAsync(client, p, stream);

        Assert.Equal("Four.", answer.Text);
        Assert.Equal("Two plus two is four", answer.Thinking);
        var sent = gw.Fake.Requests.Single().Json.RootElement;
        Assert.Equal(4096, sent.GetProperty("max_tokens").GetInt32()); // the client's limit, thinking included, on both wires
        if (Anthropic(model))
        {
            Assert.Equal("sig-abc", answer.Signature);
            Assert.Equal("enabled", sent.GetProperty("thinking").GetProperty("type").GetString());
            Assert.Equal(2048, sent.GetProperty("thinking").GetProperty("budget_tokens").GetInt32());
        }
        else Assert.Equal("low", sent.GetProperty("reasoning_effort").GetString());
    }
}
