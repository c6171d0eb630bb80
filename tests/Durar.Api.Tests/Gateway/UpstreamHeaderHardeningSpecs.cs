using System.Net;
using System.Text;
using Durar.Testing;
using Piece = Durar.Testing.RawUpstream.Piece;

namespace Durar.Api.Tests.Gateway;

/// <summary>
/// Issue 13, "a failed header write must never leak the upstream response": an upstream header the gateway passes on
/// (request id, rate-limit figures) whose value Kestrel would refuse (non-ASCII, read by HttpClient as Latin-1) used to
/// make setting the client's response headers throw after the run had committed: a 500, and the open upstream response,
/// its cancellation source and the key's outcome were never released. Such a value is now left out where it is read,
/// and every dialect's answer (stream or not) comes through whole with the other headers passed on.
/// </summary>
public sealed class UpstreamHeaderHardeningSpecs : IAsyncLifetime
{
    private const string Chunk = """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hello"},"finish_reason":null}]}""";
    private const string Last = """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""";
    private const string Completion = """{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}""";

    private static readonly (string, string)[] Headers = [("x-request-id", "req-\u00e9t\u00e9"), ("x-ratelimit-remaining-requests", "99")];

    private RawUpstream _raw = null!;
    private GatewayHarness _gw = null!;

    public async Task InitializeAsync()
    {
        _raw = RawUpstream.Start(() => _script);
        _gw = await GatewayHarness.StartAsync($$"""
            models { providers { raw { baseUrl = "{{_raw.BaseUrl}}/v1", apiKey = "sk-raw-12345678", api = "openai-completions", models = [{ id = "m" }] } } }
            agents { defaults { model { primary = "raw/m" } } }
            """);
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _raw.DisposeAsync();
    }

    private IReadOnlyList<Piece> _script = [];

    [Theory]
    [InlineData("v1/chat/completions", """{"model":"raw/m","stream":true,"messages":[{"role":"user","content":"hi"}]}""", "data: [DONE]")]
    [InlineData("v1/messages", """{"model":"raw/m","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"hi"}]}""", "event: message_stop")]
    [InlineData("v1/responses", """{"model":"raw/m","stream":true,"input":"hi"}""", "event: response.completed")]
    public async Task Should_stream_the_whole_answer_when_an_upstream_header_value_cannot_be_passed_on(string path, string body, string end)
    {
        _script = [RawUpstream.Head(200, [("Content-Type", "text/event-stream"), .. Headers]), Piece.Text($"data: {Chunk}\n\ndata: {Last}\n\ndata: [DONE]\n\n")];

        using var response = await _gw.Http.SendAsync(_gw.Post(path, body));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("hello", text, StringComparison.Ordinal);
        Assert.Contains(end, text, StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("x-request-id"));
        Assert.Equal("99", response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Should_answer_a_completion_whole_when_an_upstream_header_value_cannot_be_passed_on()
    {
        var json = Encoding.UTF8.GetBytes(Completion);
        _script = [RawUpstream.Head(200, [("Content-Type", "application/json"), ("Content-Length", json.Length.ToString()), .. Headers]), new Piece(json)];

        using var response = await _gw.Http.SendAsync(_gw.Post("v1/chat/completions", """{"model":"raw/m","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("hello", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("x-request-id"));
        Assert.Equal("99", response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
    }

    /// <summary>The key was released: a plain answer with a clean request id still comes through on the only key.</summary>
    private async Task AssertStillServesAsync()
    {
        _script = [RawUpstream.Head(200, ("Content-Type", "text/event-stream"), ("x-request-id", "req-2")), Piece.Text($"data: {Chunk}\n\ndata: [DONE]\n\n")];
        using var again = await _gw.Http.SendAsync(_gw.Post("v1/chat/completions", """{"model":"raw/m","stream":true,"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("req-2", again.Headers.GetValues("x-request-id").Single());
        Assert.Contains("data: [DONE]", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
