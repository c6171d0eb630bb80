using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Transports;
using Durar.Actors.Transports.Anthropic;
using Durar.Testing;

namespace Durar.Actors.Tests.Transports.Anthropic;

/// <summary>
/// An Anthropic stream read into canonical events (<see cref="AnthropicStreamDecoder"/>), from the fake provider over a real
/// socket: thinking and redacted thinking as reasoning (never as answer text), the signature kept, cache usage in its buckets,
/// every stop reason mapped, an error event keeping Anthropic's error type.
/// </summary>
public sealed class AnthropicStreamDecoderSpecs : IAsyncLifetime
{
    private const string Api = ApiKinds.AnthropicMessages;
    private UpstreamHarness _h = null!;

    public async Task InitializeAsync() => _h = await UpstreamHarness.StartAsync();

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Should_stream_thinking_as_reasoning_deltas_with_the_signature_apart_from_the_answer()
    {
        _h.Fake.Enqueue(new FakeResponse { Text = "The answer is 4.", Reasoning = "Two plus two is four.", ReasoningSignature = "sig-42" });

        var events = await StreamAsync();

        var reasoning = events.OfType<ReasoningDelta>().ToList();
        Assert.Equal("Two plus two is four.", string.Concat(reasoning.Select(r => r.Text)));
        Assert.Equal("sig-42", Assert.Single(reasoning, r => r.Signature is not null).Signature);
        Assert.Equal("The answer is 4.", string.Concat(events.OfType<TextDelta>().Select(t => t.Text)));
        // All reasoning comes before the first answer text, as Anthropic sent it.
        Assert.True(events.FindLastIndex(e => e is ReasoningDelta) < events.FindIndex(e => e is TextDelta));
    }

    [Fact]
    public async Task Should_stream_a_redacted_thinking_block_as_opaque_reasoning()
    {
        _h.Fake.Enqueue(new FakeResponse { Text = "ok", Reasoning = "visible", RedactedReasoning = "EncRypTed==" });

        var events = await StreamAsync();

        var redacted = Assert.Single(events.OfType<ReasoningDelta>(), r => r.Redacted is not null);
        Assert.Equal("EncRypTed==", redacted.Redacted);
        Assert.Equal("", redacted.Text);
        Assert.Equal("ok", string.Concat(events.OfType<TextDelta>().Select(t => t.Text)));
    }

    [Fact]
    public async Task Should_report_cache_reads_and_writes_in_their_own_buckets()
    {
        _h.Fake.Enqueue(new FakeResponse { Text = "cached", PromptTokens = 12, CompletionTokens = 3, CacheReadTokens = 1000, CacheWriteTokens = 200 });

        var usage = Assert.Single((await StreamAsync()).OfType<UsageReport>()).Usage;

        Assert.Equal(new TokenUsage(12, 3, 1000, 200), usage);
        Assert.Equal(1212, usage.Prompt); // OpenAI's prompt_tokens: every input token, cached or not
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("pause_turn", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("model_context_window_exceeded", "length")]
    [InlineData("refusal", "content_filter")]
    [InlineData("something_new", "stop")]
    public async Task Should_map_every_stop_reason(string stopReason, string finishReason)
    {
        _h.Fake.Enqueue(new FakeResponse { Text = "x", FinishReason = stopReason });

        Assert.Equal(finishReason, Assert.Single((await StreamAsync()).OfType<Finished>()).Reason);
    }

    [Fact]
    public async Task Should_keep_the_tool_call_of_a_client_tool_as_a_tool_call()
    {
        _h.Fake.Enqueue(new FakeResponse { ToolCall = new FakeToolCall("lookup", """{"q":"x"}"""), Chunks = 3 });

        var events = await StreamAsync();

        var calls = events.OfType<ToolCallDelta>().ToList();
        Assert.Equal(("toolu_fake_1", "lookup"), (calls[0].Id, calls[0].Name));
        Assert.Equal("""{"q":"x"}""", string.Concat(calls.Select(c => c.Arguments)));
        Assert.Empty(events.OfType<TextDelta>());
        Assert.Equal("tool_calls", Assert.Single(events.OfType<Finished>()).Reason);
    }

    [Fact]
    public async Task Should_fail_on_an_error_event_with_anthropic_error_type()
    {
        _h.Fake.Enqueue(new FakeResponse { Text = "a b c", ErrorEventAfterChunks = 1, ErrorType = "overloaded_error", ErrorMessage = "Overloaded (fake)" });

        var call = _h.Call(Api, stream: true);
        var (_, failure) = await UpstreamHarness.DrainAsync(_h.Transport(Api).StreamAsync(call, default));

        var e = Assert.IsType<UpstreamException>(failure);
        Assert.Equal("overloaded_error", e.Failure.ErrorType);
        Assert.Equal(529, e.Failure.Status);
        Assert.Equal("Overloaded (fake)", e.Failure.Message);
    }

    private async Task<List<ChatEvent>> StreamAsync()
    {
        var (events, failure) = await UpstreamHarness.DrainAsync(_h.Transport(Api).StreamAsync(_h.Call(Api, stream: true), default));
        Assert.Null(failure);
        return events;
    }
}
