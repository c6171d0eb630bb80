using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Transports;
using Durar.Actors.Transports.Anthropic;
using Durar.Testing;

namespace Durar.Actors.Tests.Transports.Anthropic;

/// <summary>
/// A whole Anthropic message read into a <see cref="ChatCompletion"/> (<see cref="AnthropicCompletionParser"/>), from the fake
/// provider: reasoning with its signature and redacted reasoning apart from the answer, cache usage, stop reasons, and an error
/// object keeping Anthropic's type and param.
/// </summary>
public sealed class AnthropicCompletionParserSpecs : IAsyncLifetime
{
    private const string Api = ApiKinds.AnthropicMessages;
    private UpstreamHarness _h = null!;

    public async Task InitializeAsync() => _h = await UpstreamHarness.StartAsync();

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Should_keep_thinking_its_signature_and_redacted_thinking_out_of_the_answer()
    {
        _h.Fake.Enqueue(new FakeResponse { Text = "4", Reasoning = "2+2=4", ReasoningSignature = "sig-7", RedactedReasoning = "opaque==" });

        var answer = await CompleteAsync();

        Assert.Equal("4", answer.Text);
        Assert.Equal("2+2=4", answer.Reasoning);
        Assert.Equal("sig-7", answer.ReasoningSignature);
        Assert.Equal<string>(["opaque=="], answer.RedactedReasoning);
    }

    [Fact]
    public async Task Should_read_cache_usage_and_the_stop_reason()
    {
        _h.Fake.Enqueue(new FakeResponse { Text = "x", PromptTokens = 5, CompletionTokens = 2, CacheReadTokens = 40, CacheWriteTokens = 9, FinishReason = "refusal" });

        var answer = await CompleteAsync();

        Assert.Equal(new TokenUsage(5, 2, 40, 9), answer.Usage);
        Assert.Equal("content_filter", answer.FinishReason);
    }

    [Fact]
    public async Task Should_keep_anthropic_error_type_and_param_of_an_error_object()
    {
        _h.Fake.Enqueue(new FakeResponse { RawBody = """{"type":"error","error":{"type":"invalid_request_error","message":"bad thing","param":"tools.0"}}""" });

        var e = await Assert.ThrowsAsync<UpstreamException>(CompleteAsync);

        Assert.Equal("invalid_request_error", e.Failure.ErrorType);
        Assert.Equal("tools.0", e.Failure.Param);
        Assert.Equal(400, e.Failure.Status);
        Assert.Equal("bad thing", e.Failure.Message);
    }

    [Fact]
    public async Task Should_keep_anthropic_error_type_and_param_of_an_error_answer()
    {
        _h.Fake.Enqueue(new FakeResponse { Status = 400, RawBody = """{"type":"error","error":{"type":"invalid_request_error","message":"bad schema","param":"tools.0.input_schema"}}""" });

        var e = await Assert.ThrowsAsync<UpstreamException>(CompleteAsync);

        Assert.Equal((400, "invalid_request_error", "tools.0.input_schema"), (e.Failure.Status, e.Failure.ErrorType, e.Failure.Param));
    }

    [Fact]
    public async Task Should_stream_a_whole_json_answer_to_a_streaming_request_with_its_reasoning()
    {
        // An Anthropic-compatible host that ignores "stream": the whole message is the answer, reasoning included.
        _h.Fake.Enqueue(new FakeResponse { RawBody = JsonSerializer.Serialize(new
        {
            type = "message", role = "assistant", model = "m", stop_reason = "end_turn",
            content = new object[] { new { type = "thinking", thinking = "hmm", signature = "s" }, new { type = "text", text = "done" } },
            usage = new { input_tokens = 1, output_tokens = 1 },
        }), Headers = new Dictionary<string, string> { ["content-type"] = "application/json" } });

        var (events, failure) = await UpstreamHarness.DrainAsync(_h.Transport(Api).StreamAsync(_h.Call(Api, stream: true), default));

        Assert.Null(failure);
        Assert.Equal("hmm", Assert.Single(events.OfType<ReasoningDelta>()).Text);
        Assert.Equal("done", Assert.Single(events.OfType<TextDelta>()).Text);
    }

    private Task<ChatCompletion> CompleteAsync() => _h.Transport(Api).CompleteAsync(_h.Call(Api, stream: false), default);
}
