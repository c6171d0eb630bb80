using System.Net;
using System.Net.Sockets;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;
using Durar.Testing;

namespace Durar.Actors.Tests.Transports;

/// <summary>
/// The HTTP transport skeleton's request and answer handling (<see cref="HttpChatTransport{TFrame}"/>) on both wires,
/// against the fake provider over real sockets: authentication styles, error answers (status, message, hints, the
/// configured body limit), JSON answers, connection failures.
/// </summary>
public sealed class HttpChatTransportExchangeSpecs
{
    private const string OpenAi = ApiKinds.OpenAiCompletions;
    private const string Anthropic = ApiKinds.AnthropicMessages;

    [Fact]
    public async Task Should_send_an_anthropic_key_as_bearer_when_the_provider_asks_for_the_auth_header()
    {
        await using var h = await UpstreamHarness.StartAsync();
        var call = h.Call(Anthropic, stream: false);
        call = call with { Target = call.Target with { Provider = call.Target.Provider with { AuthHeader = true } } };

        await h.Transport(Anthropic).CompleteAsync(call, default);

        var request = Assert.Single(h.Fake.Requests);
        Assert.Equal("Bearer " + UpstreamHarness.ApiKey, request.Headers["authorization"]);
        Assert.False(request.Headers.ContainsKey("x-api-key"));
    }

    [Theory]
    [InlineData(OpenAi, true)]
    [InlineData(OpenAi, false)]
    [InlineData(Anthropic, true)]
    [InlineData(Anthropic, false)]
    public async Task Should_fail_an_error_answer_with_its_status_message_and_retry_hint(string api, bool stream)
    {
        await using var h = await UpstreamHarness.StartAsync();
        h.Fake.Enqueue(FakeResponse.RateLimited(retryAfter: "7", message: "slow down (fake)"));
        var transport = h.Transport(api);
        var call = h.Call(api, stream);

        var (events, failure) = stream
            ? await UpstreamHarness.DrainAsync(transport.StreamAsync(call, default))
            : (new List<ChatEvent>(), await Record.ExceptionAsync(() => transport.CompleteAsync(call, default)));

        Assert.Empty(events); // nothing, not even StreamOpened: the attempt can move to another key
        var e = Assert.IsType<UpstreamException>(failure);
        Assert.Equal(429, e.Failure.Status);
        Assert.Equal("slow down (fake)", e.Failure.Message);
        Assert.Equal(UpstreamHarness.ProviderId, e.Failure.ProviderId);
        Assert.Equal(TimeSpan.FromSeconds(7), e.Hints.RetryAfter);
        Assert.True(e.BeforeOutput);
    }

    [Fact]
    public async Task Should_read_no_more_of_an_error_answer_than_max_error_body_bytes()
    {
        var small = UpstreamSettings.Defaults with { MaxErrorBodyBytes = UpstreamSettings.MinErrorBodyBytes };
        await using var h = await UpstreamHarness.StartAsync(small);
        var body = "{\"padding\":\"" + new string('x', 3000) + "\",\"error\":{\"message\":\"the real reason\",\"type\":\"server_error\"}}";
        var transport = new TransportRegistry(h.HttpClients, UpstreamSettings.Defaults).Find(OpenAi)!;
        h.Fake.Script = _ => new FakeResponse { Status = 500, RawBody = body };

        var whole = await Assert.ThrowsAsync<UpstreamException>(() => transport.CompleteAsync(h.Call(OpenAi, stream: false), default));
        var bounded = await Assert.ThrowsAsync<UpstreamException>(() => h.Transport(OpenAi).CompleteAsync(h.Call(OpenAi, stream: false), default));

        Assert.Equal("the real reason", whole.Failure.Message);
        Assert.StartsWith("{\"padding\":\"xxx", bounded.Failure.Message);
        Assert.Equal(UpstreamSettings.MinErrorBodyBytes, bounded.Failure.Message!.Length);
        Assert.Equal(500, bounded.Failure.Status);
    }

    [Theory]
    [InlineData(OpenAi)]
    [InlineData(Anthropic)]
    public async Task Should_complete_a_json_answer_with_its_rate_limit_hints(string api)
    {
        await using var h = await UpstreamHarness.StartAsync();
        h.Fake.Enqueue(new FakeResponse
        {
            Headers = new Dictionary<string, string> { ["x-ratelimit-remaining-requests"] = "0", ["x-ratelimit-reset-requests"] = "20s" },
        });

        var answer = await h.Transport(api).CompleteAsync(h.Call(api, stream: false), default);

        Assert.Equal("Hello from fake: hi there", answer.Text);
        Assert.Equal("stop", answer.FinishReason);
        Assert.Equal(new TokenUsage(2, 5), answer.Usage);
        Assert.True(answer.Hints.Exhausted);
        Assert.Equal(TimeSpan.FromSeconds(20), answer.Hints.ResetIn);
        Assert.False(Assert.Single(h.Fake.Requests).Headers.ContainsKey("accept"));
    }

    [Theory]
    [InlineData(OpenAi)]
    [InlineData(Anthropic)]
    public async Task Should_fail_with_malformed_stream_on_an_answer_that_is_not_json(string api)
    {
        await using var h = await UpstreamHarness.StartAsync();
        h.Fake.Enqueue(new FakeResponse { RawBody = "<html>upstream proxy error</html>" });

        var e = await Assert.ThrowsAsync<UpstreamException>(() => h.Transport(api).CompleteAsync(h.Call(api, stream: false), default));

        Assert.Equal(UpstreamTransportError.MalformedStream, e.Failure.Transport);
        Assert.StartsWith("malformed JSON from upstream", e.Failure.Message);
        Assert.Equal(UpstreamHarness.ProviderId, e.Failure.ProviderId);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Should_fail_with_connection_refused_when_nothing_listens(bool stream)
    {
        await using var h = await UpstreamHarness.StartAsync();
        var port = LoopbackPorts.Next(); // free and outside the ephemeral range, so no client connection holds it either
        var call = h.Call(OpenAi, stream, baseUrl: $"http://127.0.0.1:{port}/v1");
        var transport = h.Transport(OpenAi);

        var failure = stream
            ? (await UpstreamHarness.DrainAsync(transport.StreamAsync(call, default))).Failure
            : await Record.ExceptionAsync(() => transport.CompleteAsync(call, default));

        var e = Assert.IsType<UpstreamException>(failure);
        Assert.Equal(UpstreamTransportError.ConnectionRefused, e.Failure.Transport);
        Assert.Equal(UpstreamHarness.ProviderId, e.Failure.ProviderId);
    }
}
