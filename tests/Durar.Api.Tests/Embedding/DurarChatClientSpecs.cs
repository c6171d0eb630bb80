using Durar.Actors.Hosting;
using Durar.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Api.Tests.Embedding;

/// <summary>Durar embedded as a Microsoft.Extensions.AI IChatClient: same chain, keys and failover, no HTTP hop.</summary>
public sealed class DurarChatClientSpecs
{
    [Fact]
    public async Task Should_answer_through_the_chat_client_with_usage_and_the_answering_model()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "Hello from the client.", PromptTokens = 7, CompletionTokens = 4 });
        var client = gw.Services.GetRequiredService<IChatClient>();

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.System, "brief"), new ChatMessage(ChatRole.User, "hi")],
            new ChatOptions { ModelId = "fakeant/claude-fake", Temperature = 0.3f });

        Assert.Equal("Hello from the client.", response.Text);
        Assert.Equal("fakeant/claude-fake", response.ModelId);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(7, response.Usage!.InputTokenCount);
        var sent = Assert.Single(gw.Fake.Requests);
        Assert.Equal("anthropic", sent.Wire);
        Assert.Equal("brief", sent.Json.RootElement.GetProperty("system").GetString());
    }

    [Fact]
    public async Task Should_stream_updates_and_fail_over_like_the_gateway()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Script = r => r.Wire == "openai" ? FakeResponse.Error(402, "insufficient credits") : new FakeResponse { Text = "from b" };
        var client = gw.Services.GetRequiredService<IChatClient>();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "x")],
                           new ChatOptions { ModelId = "fakeoai/gpt-fake", AdditionalProperties = new() { ["fallbacks"] = new[] { "fakeant/claude-fake" } } }))
            updates.Add(u);

        Assert.Equal("from b", string.Concat(updates.Select(u => u.Text)));
        Assert.All(updates, u => Assert.Equal("fakeant/claude-fake", u.ModelId));
        Assert.Contains(updates, u => u.FinishReason == ChatFinishReason.Stop);
    }

    [Fact]
    public async Task Should_throw_a_run_exception_with_every_attempt_when_nothing_answers()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Default = FakeResponse.Error(400, "maximum context length is 8192 tokens");
        var client = gw.Services.GetRequiredService<IChatClient>();

        var e = await Assert.ThrowsAsync<DurarRunException>(() =>
            client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], new ChatOptions { ModelId = "fakeoai/gpt-fake" }));
        Assert.Equal(400, e.Failure.HttpStatus);
        Assert.StartsWith("Context overflow", e.Message);
        Assert.Single(e.Failure.Attempts);
    }
}
