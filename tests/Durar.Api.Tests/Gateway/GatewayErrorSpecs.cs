using System.Net;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway;

/// <summary>Every failure is an OpenAI-style error object with the right status, never a stack trace.</summary>
public sealed class GatewayErrorSpecs
{
    private static async Task<(HttpStatusCode Status, JsonElement Error, HttpResponseMessage Response)> SendAsync(GatewayHarness gw, string json, string? bearer = null)
    {
        var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions", json, bearer));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(body);
        var error = doc.RootElement.GetProperty("error").Clone();
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.Equal(JsonValueKind.String, error.GetProperty("code").ValueKind);
        Assert.DoesNotContain("   at ", body); // no stack trace
        return (response.StatusCode, error, response);
    }

    [Theory]
    [InlineData("{not json", "invalid_json", null)]
    [InlineData("[]", "invalid_json", null)]
    [InlineData("""{"model":"echo/echo"}""", "missing_messages", "messages")]
    [InlineData("""{"model":"echo/echo","messages":[]}""", "missing_messages", "messages")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}]}""", "missing_model", "model")]
    [InlineData("""{"model":"echo/echo","messages":[{"role":"system","content":"x"}]}""", "missing_user_message", "messages")]
    [InlineData("""{"model":"echo/echo","messages":[{"role":"robot","content":"x"}]}""", "invalid_value", "messages[0].role")]
    [InlineData("""{"model":"echo/echo","temperature":2.5,"messages":[{"role":"user","content":"x"}]}""", "invalid_value", "temperature")]
    [InlineData("""{"model":"echo/echo","top_p":-0.1,"messages":[{"role":"user","content":"x"}]}""", "invalid_value", "top_p")]
    [InlineData("""{"model":"echo/echo","frequency_penalty":3,"messages":[{"role":"user","content":"x"}]}""", "invalid_value", "frequency_penalty")]
    [InlineData("""{"model":"echo/echo","presence_penalty":-2.1,"messages":[{"role":"user","content":"x"}]}""", "invalid_value", "presence_penalty")]
    [InlineData("""{"model":"echo/echo","max_tokens":0,"messages":[{"role":"user","content":"x"}]}""", "invalid_value", "max_tokens")]
    [InlineData("""{"model":"echo/echo","seed":1.5,"messages":[{"role":"user","content":"x"}]}""", "invalid_type", "seed")]
    [InlineData("""{"model":"echo/echo","stop":["a","b","c","d","e"],"messages":[{"role":"user","content":"x"}]}""", "invalid_value", "stop")]
    [InlineData("""{"model":"echo/echo","tools":[{"type":"retrieval"}],"messages":[{"role":"user","content":"x"}]}""", "invalid_value", "tools[0]")]
    [InlineData("""{"model":"echo/echo","tool_choice":"sometimes","messages":[{"role":"user","content":"x"}]}""", "invalid_value", "tool_choice")]
    [InlineData("""{"model":"echo/echo","stream":"yes","messages":[{"role":"user","content":"x"}]}""", "invalid_type", "stream")]
    [InlineData("""{"model":"open ai/x","messages":[{"role":"user","content":"x"}]}""", "invalid_model", "model")]
    public async Task Should_reject_invalid_requests_with_400(string json, string code, string? param)
    {
        await using var gw = await GatewayHarness.StartAsync("");
        var (status, error, _) = await SendAsync(gw, json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        if (param is not null) Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("nosuch/model")]
    [InlineData("no-such-bare-model")]
    public async Task Should_answer_404_for_unknown_models(string model)
    {
        await using var gw = await GatewayHarness.StartAsync("");
        var (status, error, _) = await SendAsync(gw, $$"""{"model":"{{model}}","messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Should_answer_403_with_the_reference_text_for_models_outside_the_allowlist()
    {
        await using var gw = await GatewayHarness.StartAsync(GatewayHarness.TwoFakeProviders + """
            agents { defaults { modelPolicy { allow = ["fakeant/*"] } } }
            """);
        var (status, error, _) = await SendAsync(gw, """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("Model override \"fakeoai/gpt-fake\" is not allowed by agents.defaults.modelPolicy.allow.", error.GetProperty("message").GetString());
        Assert.Empty(gw.Fake.Requests);
    }

    [Fact]
    public async Task Should_answer_413_for_bodies_over_the_limit()
    {
        await using var gw = await GatewayHarness.StartAsync("gateway { http { maxBodyBytes = 4096 } }");
        var big = new string('x', 8000);
        var (status, error, _) = await SendAsync(gw, $$"""{"model":"echo/echo","messages":[{"role":"user","content":"{{big}}"}]}""");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("request_too_large", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Should_require_the_gateway_token_when_one_is_configured()
    {
        await using var gw = await GatewayHarness.StartAsync("""gateway { auth { token = "s3cret-token-0123456789abcdef0123456789" } }""");
        const string json = """{"model":"echo/echo","messages":[{"role":"user","content":"x"}]}""";

        var (missing, error, _) = await SendAsync(gw, json);
        Assert.Equal(HttpStatusCode.Unauthorized, missing);
        Assert.Equal("authentication_error", error.GetProperty("type").GetString());
        var (wrong, _, _) = await SendAsync(gw, json, bearer: "s3cret-tokeN");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);

        using var ok = await gw.Http.SendAsync(gw.Post("v1/chat/completions", json, bearer: "s3cret-token-0123456789abcdef0123456789"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var models = await gw.Http.GetAsync("v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
    }

    [Theory]
    [InlineData(500, "fakeoai/gpt-fake")]
    [InlineData(401, "fakeant/claude-fake")]
    public async Task Should_answer_502_with_the_upstream_message_when_the_upstream_fails(int upstreamStatus, string model)
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Default = FakeResponse.Error(upstreamStatus, "upstream exploded: widget 42");
        var (status, error, _) = await SendAsync(gw, $$"""{"model":"{{model}}","messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Contains("upstream exploded: widget 42", error.GetProperty("message").GetString());
        Assert.Equal("api_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Should_report_a_stream_cut_after_output_as_an_error_frame()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "a b c d e", CutAfterChunks = 2 });
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"fakeoai/gpt-fake","stream":true,"messages":[{"role":"user","content":"x"}]}"""), HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"content\":\"a\"", body);
        Assert.Contains("data: {\"error\":{", body);
        Assert.DoesNotContain("[DONE]", body);
    }

    [Fact]
    public async Task Should_cancel_the_upstream_request_when_the_client_disconnects()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Enqueue(new FakeResponse { Text = "a b c d e", StallAfterChunks = 2 });
        using var cts = new CancellationTokenSource();
        var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"fakeoai/gpt-fake","stream":true,"messages":[{"role":"user","content":"x"}]}"""), HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var stream = await response.Content.ReadAsStreamAsync(cts.Token);
        var buffer = new byte[256];
        Assert.True(await stream.ReadAsync(buffer, cts.Token) > 0);
        cts.Cancel();
        response.Dispose();

        await gw.Fake.WaitForClientAbortAsync(TimeSpan.FromSeconds(10));
        Assert.True(Assert.Single(gw.Fake.Requests).ClientAborted);
    }
}
