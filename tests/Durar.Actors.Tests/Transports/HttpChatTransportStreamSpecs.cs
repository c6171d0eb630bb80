using System.Diagnostics;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;
using Durar.Testing;

namespace Durar.Actors.Tests.Transports;

/// <summary>
/// The HTTP transport skeleton's stream loop (<see cref="HttpChatTransport{TFrame}"/>) on both SSE wires, against the fake
/// provider over real sockets: what a complete stream yields, each wire's terminal-event rule, and how a stream fails
/// (cut, connection reset, idle stall, malformed frame, error event, caller cancellation).
/// </summary>
public sealed class HttpChatTransportStreamSpecs
{
    private const string OpenAi = ApiKinds.OpenAiCompletions;
    private const string Anthropic = ApiKinds.AnthropicMessages;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(OpenAi)]
    [InlineData(Anthropic)]
    public async Task Should_stream_text_then_finish_then_usage_and_send_the_wires_request(string api)
    {
        await using var h = await UpstreamHarness.StartAsync();

        var (events, failure) = await UpstreamHarness.DrainAsync(h.Transport(api).StreamAsync(h.Call(api, stream: true), default));

        Assert.Null(failure);
        Assert.IsType<StreamOpened>(events[0]);
        Assert.Equal("Hello from fake: hi there", string.Concat(events.OfType<TextDelta>().Select(t => t.Text)));
        Assert.Equal("stop", Assert.Single(events.OfType<Finished>()).Reason);
        Assert.Equal(new TokenUsage(2, 5), Assert.IsType<UsageReport>(events[^1]).Usage);
        var request = Assert.Single(h.Fake.Requests);
        Assert.True(request.Stream);
        Assert.Equal("text/event-stream", request.Headers["accept"]);
        Assert.Equal("yes", request.Headers["x-harness"]);
        Assert.Equal(UpstreamHarness.ApiKey, request.ApiKey);
        if (api == OpenAi)
        {
            Assert.Equal("/v1/chat/completions", request.Path);
            Assert.Equal("Bearer " + UpstreamHarness.ApiKey, request.Headers["authorization"]);
        }
        else
        {
            Assert.Equal("/v1/messages", request.Path);
            Assert.False(request.Headers.ContainsKey("authorization"));
            Assert.Equal("2023-06-01", request.Headers["anthropic-version"]);
        }
    }

    /// <summary>Each wire's terminal-event rule, on streams that end cleanly (no connection error) at various points.</summary>
    [Theory]
    [InlineData(OpenAi, false, false, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"partial\"},\"finish_reason\":null}]}\n\n")]
    [InlineData(OpenAi, true, true,
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"partial\"},\"finish_reason\":null}]}\n\n"
        + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n")]
    [InlineData(Anthropic, false, true,
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"partial\"}}\n\n"
        + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n")]
    [InlineData(Anthropic, true, true,
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"partial\"}}\n\n"
        + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n"
        + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")]
    public async Task Should_fail_with_stream_cut_only_when_the_stream_ends_before_its_terminal_event(string api, bool complete, bool finishes,
        string sse)
    {
        await using var h = await UpstreamHarness.StartAsync();
        h.Fake.Enqueue(new FakeResponse { RawBody = sse });

        var (events, failure) = await UpstreamHarness.DrainAsync(h.Transport(api).StreamAsync(h.Call(api, stream: true), default));

        Assert.Equal("partial", Assert.Single(events.OfType<TextDelta>()).Text);
        Assert.Equal(finishes ? ["stop"] : [], events.OfType<Finished>().Select(f => f.Reason));
        if (complete)
        {
            Assert.Null(failure);
            return;
        }
        var e = Assert.IsType<UpstreamException>(failure);
        Assert.Equal(UpstreamTransportError.StreamCut, e.Failure.Transport);
        Assert.Equal("upstream stream was cut before it finished", e.Failure.Message);
        Assert.Equal(UpstreamHarness.ProviderId, e.Failure.ProviderId);
    }

    [Theory]
    [InlineData(OpenAi)]
    [InlineData(Anthropic)]
    public async Task Should_fail_with_connection_reset_when_the_upstream_drops_the_connection_mid_stream(string api)
    {
        await using var h = await UpstreamHarness.StartAsync();
        h.Fake.Enqueue(new FakeResponse { CutAfterChunks = 2 });

        var (events, failure) = await UpstreamHarness.DrainAsync(h.Transport(api).StreamAsync(h.Call(api, stream: true), default));

        Assert.Equal(["Hello", " from"], events.OfType<TextDelta>().Select(t => t.Text));
        var e = Assert.IsType<UpstreamException>(failure);
        Assert.Equal(UpstreamTransportError.ConnectionReset, e.Failure.Transport);
        Assert.Equal("connection error: the upstream connection was reset", e.Failure.Message);
        Assert.Equal(UpstreamHarness.ProviderId, e.Failure.ProviderId);
    }

    /// <summary>The coarsest tick of the clocks the idle timer reads (Windows' default timer resolution; finer on Linux).</summary>
    private static readonly TimeSpan ClockTick = TimeSpan.FromMilliseconds(16);

    [Theory]
    [InlineData(OpenAi)]
    [InlineData(Anthropic)]
    public async Task Should_fail_with_timeout_and_drop_the_upstream_when_the_stream_stalls_past_the_idle_timeout(string api)
    {
        await using var h = await UpstreamHarness.StartAsync();
        h.Fake.Enqueue(new FakeResponse { StallAfterChunks = 1 });
        var idle = TimeSpan.FromMilliseconds(300);
        var clock = Stopwatch.StartNew();

        var (events, failure) = await UpstreamHarness.DrainAsync(h.Transport(api).StreamAsync(h.Call(api, stream: true, idle), default));

        // The idle timer reads Environment.TickCount64 and a system timer, either of which may be a tick (up to ~16 ms) ahead
        // of the Stopwatch: CI saw 299.9 ms for a 300 ms window. Early by more than a tick would be a real fault.
        Assert.True(clock.Elapsed >= idle - ClockTick, $"failed after {clock.Elapsed}, before the idle window of {idle} ran out");
        Assert.Equal("Hello", Assert.Single(events.OfType<TextDelta>()).Text);
        var e = Assert.IsType<UpstreamException>(failure);
        Assert.Equal(UpstreamTransportError.Timeout, e.Failure.Transport);
        Assert.StartsWith("LLM request timed out: no data from the upstream", e.Failure.Message);
        Assert.Equal(UpstreamHarness.ProviderId, e.Failure.ProviderId);
        await h.Fake.WaitForClientAbortAsync(Wait);
    }

    [Fact]
    public async Task Should_restart_the_idle_window_on_every_frame()
    {
        await using var h = await UpstreamHarness.StartAsync();
        h.Fake.Enqueue(new FakeResponse { Text = "fifteen pieces of slow text", Chunks = 15, ChunkDelay = TimeSpan.FromMilliseconds(100) });
        var idle = TimeSpan.FromSeconds(1);
        var clock = Stopwatch.StartNew();

        var (events, failure) = await UpstreamHarness.DrainAsync(
            h.Transport(OpenAi).StreamAsync(h.Call(OpenAi, stream: true, idle), default));

        Assert.Null(failure);
        Assert.True(clock.Elapsed > idle, $"the stream took {clock.Elapsed}: it never outlasted one idle window, so it proves nothing");
        Assert.Equal("fifteen pieces of slow text", string.Concat(events.OfType<TextDelta>().Select(t => t.Text)));
    }

    [Theory]
    [InlineData(OpenAi, "malformed chunk from upstream: {not json")]
    [InlineData(Anthropic, "malformed event from upstream: {not json")]
    public async Task Should_fail_with_malformed_stream_on_a_frame_that_does_not_parse(string api, string message)
    {
        await using var h = await UpstreamHarness.StartAsync();
        h.Fake.Enqueue(new FakeResponse { MalformedAtChunk = 2 });

        var (events, failure) = await UpstreamHarness.DrainAsync(h.Transport(api).StreamAsync(h.Call(api, stream: true), default));

        Assert.Equal("Hello", Assert.Single(events.OfType<TextDelta>()).Text);
        var e = Assert.IsType<UpstreamException>(failure);
        Assert.Equal(UpstreamTransportError.MalformedStream, e.Failure.Transport);
        Assert.Equal(message, e.Failure.Message);
        Assert.Equal(UpstreamHarness.ProviderId, e.Failure.ProviderId);
    }

    [Theory]
    [InlineData(OpenAi, "server_error", null)]
    [InlineData(Anthropic, "overloaded_error", 529)]
    public async Task Should_fail_with_the_providers_error_event_under_its_provider_id(string api, string type, int? status)
    {
        await using var h = await UpstreamHarness.StartAsync();
        h.Fake.Enqueue(new FakeResponse { ErrorEventAfterChunks = 1, ErrorMessage = "The engine is overloaded (fake)" });

        var (events, failure) = await UpstreamHarness.DrainAsync(h.Transport(api).StreamAsync(h.Call(api, stream: true), default));

        Assert.Equal("Hello", Assert.Single(events.OfType<TextDelta>()).Text);
        var e = Assert.IsType<UpstreamException>(failure);
        Assert.Equal(UpstreamHarness.ProviderId, e.Failure.ProviderId);
        Assert.Equal("The engine is overloaded (fake)", e.Failure.Message);
        Assert.Equal(type, e.Failure.ErrorType);
        Assert.Equal(status, e.Failure.Status);
        Assert.Null(e.Failure.Transport);
    }

    [Fact]
    public async Task Should_let_the_callers_cancellation_through_and_abort_the_upstream_request()
    {
        await using var h = await UpstreamHarness.StartAsync();
        h.Fake.Enqueue(new FakeResponse { StallAfterChunks = 1 });
        using var cts = new CancellationTokenSource();
        var seen = new List<ChatEvent>();

        var failure = await Record.ExceptionAsync(async () =>
        {
            await foreach (var e in h.Transport(OpenAi).StreamAsync(h.Call(OpenAi, stream: true), cts.Token))
            {
                seen.Add(e);
                if (e is TextDelta) await cts.CancelAsync();
            }
        });

        Assert.IsAssignableFrom<OperationCanceledException>(failure);
        Assert.Equal("Hello", Assert.Single(seen.OfType<TextDelta>()).Text);
        await h.Fake.WaitForClientAbortAsync(Wait);
    }
}
