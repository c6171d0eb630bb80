using System.Collections.Concurrent;
using Durar.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Api.Tests.Embedding;

/// <summary>
/// Microsoft.Extensions.AI's function-invocation loop (<c>UseFunctionInvocation</c>) over the embedded client: the model asks
/// for a tool, the loop runs it, and the result goes back through Durar for the final answer, on both wires, streamed or not.
/// </summary>
public sealed class DurarChatClientToolSpecs
{
    [Theory]
    [InlineData("fakeoai/gpt-fake", false)]
    [InlineData("fakeoai/gpt-fake", true)]
    [InlineData("fakeant/claude-fake", false)]
    [InlineData("fakeant/claude-fake", true)]
    public async Task Should_run_a_whole_tool_round_trip_through_the_function_invocation_loop(string model, bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(
            new FakeResponse { ToolCall = new FakeToolCall("get_weather", """{"city":"Paris"}""") },
            new FakeResponse { Text = "It is sunny in Paris." });
        var asked = new ConcurrentQueue<string>();
        var weather = AIFunctionFactory.Create((string city) =>
        {
            asked.Enqueue(city);
            return $"sunny in {city}";
        }, "get_weather", "The weather in a city.");
        using var client = new ChatClientBuilder(gw.Services.GetRequiredService<IChatClient>()).UseFunctionInvocation().Build();
        var options = new ChatOptions { ModelId = model, Tools = [weather] };

        ChatResponse response;
        if (stream)
        {
            var updates = new List<ChatResponseUpdate>();
            await foreach (var u in client.GetStreamingResponseAsync("Weather in Paris?", options)) updates.Add(u);
            response = updates.ToChatResponse();
        }
        else response = await client.GetResponseAsync("Weather in Paris?", options);

        Assert.Equal(["Paris"], asked);
        Assert.EndsWith("It is sunny in Paris.", response.Text);
        Assert.Equal(2, gw.Fake.Requests.Count);
        var second = gw.Fake.Requests[1];
        Assert.Contains("sunny in Paris", second.Body);
        var callId = model.StartsWith("fakeant", StringComparison.Ordinal) ? "toolu_fake_1" : "call_fake_1";
        var result = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Equal(callId, result.CallId);
        if (!model.StartsWith("fakeoai", StringComparison.Ordinal)) return;
        // On the OpenAI wire, the turn goes back as OpenAI writes it: the assistant's call, then the tool's answer to that call.
        var messages = second.Json.RootElement.GetProperty("messages");
        Assert.Equal(3, messages.GetArrayLength());
        var call = messages[1].GetProperty("tool_calls")[0];
        Assert.Equal(("call_fake_1", "get_weather"), (call.GetProperty("id").GetString(), call.GetProperty("function").GetProperty("name").GetString()));
        Assert.Equal("""{"city":"Paris"}""", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal(("tool", "call_fake_1", "\"sunny in Paris\""),
            (messages[2].GetProperty("role").GetString(), messages[2].GetProperty("tool_call_id").GetString(), messages[2].GetProperty("content").GetString()));
    }
}
