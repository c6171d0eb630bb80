using System.ClientModel;
using System.Text;
using System.Text.Json;
using Durar.Testing;
using OpenAI.Chat;

namespace Durar.Api.Tests.Gateway.Fidelity;

/// <summary>
/// The request and response surface as the official OpenAI .NET SDK sees it, against an OpenAI-compatible upstream:
/// structured output parsed into a typed object, <c>n = 2</c>, logprobs, and reasoning deltas (which the SDK has no typed
/// property for: an application reads them from the update's raw JSON, so that is what is checked). The Anthropic side of
/// the same (structured output, thinking) is in <c>AnthropicWireSpecs</c>.
/// </summary>
public sealed class OpenAiSdkSpecs
{
    private const string Schema = """
        {"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"number"}},"required":["city","celsius"],"additionalProperties":false}
        """;

    private sealed record Weather(string City, double Celsius);

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task Should_send_the_json_schema_as_written_and_answer_json_the_sdk_parses_into_a_typed_object()
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        gw.Fake.Enqueue(new FakeResponse { Text = """{"city":"Lisbon","celsius":21.5}""" });
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("weather", BinaryData.FromString(Schema), jsonSchemaIsStrict: true),
        };

        var completion = (await gw.OpenAiChat("proxyoai/proxy-model").CompleteChatAsync([new UserChatMessage("weather in Lisbon?")], options)).Value;

        Assert.Equal(new Weather("Lisbon", 21.5), JsonSerializer.Deserialize<Weather>(completion.Content[0].Text, Web));
        var format = Assert.Single(gw.Fake.Requests).Json.RootElement.GetProperty("response_format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        Assert.True(format.GetProperty("json_schema").GetProperty("strict").GetBoolean());
        Assert.Equal("weather", format.GetProperty("json_schema").GetProperty("name").GetString());
        JsonDiff.AssertEqual(Schema, format.GetProperty("json_schema").GetProperty("schema").GetRawText());
    }

    [Fact]
    public async Task Should_return_both_choices_of_n_2_and_the_logprobs_the_sdk_reads()
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        gw.Fake.Enqueue(new FakeResponse { RawBody = """
            {"id":"chatcmpl-up","object":"chat.completion","created":1700000000,"model":"proxy-model",
             "choices":[
              {"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop",
               "logprobs":{"content":[{"token":"Hi","logprob":-0.25,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.25,"bytes":[72,105]},{"token":"Hey","logprob":-1.5,"bytes":[72,101,121]}]}],"refusal":null}},
              {"index":1,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop",
               "logprobs":{"content":[{"token":"Hello","logprob":-0.5,"bytes":[72,101,108,108,111],"top_logprobs":[]}],"refusal":null}}],
             "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}
            """ });
        var options = new ChatCompletionOptions { IncludeLogProbabilities = true, TopLogProbabilityCount = 2 };
        SetN(options, 2);

        var result = await gw.OpenAiChat("proxyoai/proxy-model").CompleteChatAsync([new UserChatMessage("greet")], options);

        var completion = result.Value;
        Assert.Equal("Hi", completion.Content[0].Text);
        var logprob = Assert.Single(completion.ContentTokenLogProbabilities);
        Assert.Equal(("Hi", -0.25f), (logprob.Token, logprob.LogProbability));
        Assert.Equal(["Hi", "Hey"], logprob.TopLogProbabilities.Select(t => t.Token));
        // The SDK's typed completion is choice 0; the second choice is in the answer it received.
        using var raw = JsonDocument.Parse(result.GetRawResponse().Content.ToString());
        var choices = raw.RootElement.GetProperty("choices");
        Assert.Equal(2, choices.GetArrayLength());
        Assert.Equal("Hello", choices[1].GetProperty("message").GetProperty("content").GetString());
        var upstream = Assert.Single(gw.Fake.Requests).Json.RootElement;
        Assert.Equal((2, true, 2), (upstream.GetProperty("n").GetInt32(), upstream.GetProperty("logprobs").GetBoolean(), upstream.GetProperty("top_logprobs").GetInt32()));
    }

    [Fact]
    public async Task Should_stream_reasoning_apart_from_the_text_the_sdk_assembles()
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        gw.Fake.Enqueue(new FakeResponse { RawBody = """
            data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}

            data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"reasoning_content":"First, think."},"finish_reason":null}]}

            data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"content":"The answer"},"finish_reason":null}]}

            data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"content":" is 4."},"finish_reason":"stop"}]}

            data: [DONE]


            """ });

        var text = new StringBuilder();
        var reasoning = new StringBuilder();
        await foreach (var update in gw.OpenAiChat("proxyoai/proxy-reasoner").CompleteChatStreamingAsync([new UserChatMessage("2+2?")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            // What an application does for a field the SDK has no property for: read the update's own JSON.
            using var json = JsonDocument.Parse(System.ClientModel.Primitives.ModelReaderWriter.Write(update).ToString());
            if (json.RootElement.GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0
                && choices[0].GetProperty("delta").TryGetProperty("reasoning_content", out var r))
                reasoning.Append(r.GetString());
        }

        Assert.Equal("The answer is 4.", text.ToString());
        Assert.Equal("First, think.", reasoning.ToString());
    }

    /// <summary><c>n</c> on the SDK's options (not every SDK build exposes it publicly; set through the same property either way).</summary>
    private static void SetN(ChatCompletionOptions options, int n)
    {
        var property = typeof(ChatCompletionOptions).GetProperty("N", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("ChatCompletionOptions has no N");
        property.SetValue(options, n);
    }
}
