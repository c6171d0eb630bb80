using System.Net;
using System.Text.Json;
using Durar.Api.Apis;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway.Fidelity;

/// <summary>
/// The upstream's response headers a client reads reach it (its request id, processing time, rate-limit figures, on JSON and
/// SSE answers, and <c>retry-after</c> on a rate limit), and an upstream's client error keeps its own type, code and param
/// with the gateway's classification beside it (<c>x-durar-failure-reason</c>) and the provider's request id, stateless
/// and inside a session.
/// </summary>
public sealed class UpstreamHeadersSpecs
{
    private static readonly Dictionary<string, string> UpstreamHeaders = new()
    {
        ["x-request-id"] = "req_upstream_42",
        ["openai-processing-ms"] = "123",
        ["x-ratelimit-limit-requests"] = "10000",
        ["x-ratelimit-remaining-requests"] = "9999",
        ["x-ratelimit-reset-requests"] = "6ms",
        ["x-ratelimit-limit-tokens"] = "2000000",
        ["x-ratelimit-remaining-tokens"] = "1999990",
        ["x-ratelimit-reset-tokens"] = "0s",
    };

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Should_pass_on_the_request_id_processing_time_and_rate_limit_headers(bool stream, bool inSession)
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        gw.Fake.Enqueue(new FakeResponse { Text = "hello", Headers = UpstreamHeaders });

        var request = gw.Post("v1/chat/completions",
            $$"""{"model":"nativeoai/gpt-native","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}""");
        if (inSession) request.Headers.Add(DurarHeaders.SessionKey, "headers-ok-1");
        using var response = await gw.Http.SendAsync(request);
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(stream ? "text/event-stream" : "application/json", response.Content.Headers.ContentType!.MediaType);
        foreach (var (name, value) in UpstreamHeaders)
            Assert.True(response.Headers.TryGetValues(name, out var got) && got.Single() == value, $"{name}: expected {value}, got {(got is null ? "nothing" : string.Join(",", got))}");
        Assert.Equal("nativeoai/gpt-native", response.Headers.GetValues(DurarHeaders.Model).Single());
    }

    [Fact]
    public async Task Should_answer_a_rate_limited_request_with_the_upstreams_retry_after()
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        gw.Fake.Enqueue(FakeResponse.RateLimited(retryAfter: "7"));

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"nativeoai/gpt-native","messages":[{"role":"user","content":"hi"}]}"""));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("7", response.Headers.GetValues("retry-after").Single());
        Assert.Equal("rate_limit", response.Headers.GetValues(DurarHeaders.FailureReason).Single());
        Assert.Equal("rate_limit_error", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Should_keep_an_upstream_client_errors_type_code_and_param(bool stream, bool inSession)
    {
        await using var gw = await GatewayHarness.StartAsync(FidelityConfig.Providers);
        gw.Fake.Enqueue(new FakeResponse
        {
            Status = 400,
            RawBody = """{"error":{"message":"Invalid 'temperature': decimal above maximum value.","type":"invalid_request_error","param":"temperature","code":"decimal_above_max_value"}}""",
            Headers = new Dictionary<string, string> { ["content-type"] = "application/json", ["x-request-id"] = "req_bad_1" },
        });

        var request = gw.Post("v1/chat/completions",
            $$"""{"model":"nativeoai/gpt-native","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}""");
        if (inSession) request.Headers.Add(DurarHeaders.SessionKey, "headers-1"); // the turn runs in the session's actor
        using var response = await gw.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal("Invalid 'temperature': decimal above maximum value.", error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("decimal_above_max_value", error.GetProperty("code").GetString());
        Assert.Equal("temperature", error.GetProperty("param").GetString());
        Assert.Equal("format", response.Headers.GetValues(DurarHeaders.FailureReason).Single());
        Assert.Equal("req_bad_1", response.Headers.GetValues("x-request-id").Single()); // the SDKs show it with the error
        Assert.Single(gw.Fake.Requests); // a client error is not retried
    }
}
