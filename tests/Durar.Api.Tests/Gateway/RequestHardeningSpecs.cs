using System.Net;
using System.Text.Json;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway;

/// <summary>
/// The request-side findings of the outside review (issue 13), one spec each: what a client chooses never reaches past
/// the allowlist, never costs the planner more than linear time, and never ends in a 500.
/// </summary>
public sealed class RequestHardeningSpecs
{
    private const string Allowlisted = GatewayHarness.TwoFakeProviders + """
        agents { defaults { modelPolicy { allow = ["fakeoai/*"] } } }
        """;

    private static async Task<(HttpStatusCode Status, JsonElement Error)> PostAsync(GatewayHarness gw, string path, string json)
    {
        using var response = await gw.Http.SendAsync(gw.Post(path, json));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(body);
        Assert.True(doc.RootElement.TryGetProperty("error", out var error), body);
        return (response.StatusCode, error.Clone());
    }

    [Fact]
    public async Task Should_check_the_model_allowlist_on_every_candidate_from_every_source()
    {
        await using var gw = await GatewayHarness.StartAsync(Allowlisted);
        const string refusal = "Model override \"fakeant/claude-fake\" is not allowed by agents.defaults.modelPolicy.allow.";
        foreach (var field in new[] { "fallbacks", "models" })
        {
            var (status, error) = await PostAsync(gw, "v1/chat/completions",
                $$"""{"model":"fakeoai/gpt-fake","{{field}}":["fakeoai/gpt-fake","fakeant/claude-fake"],"messages":[{"role":"user","content":"x"}]}""");
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Equal(refusal, error.GetProperty("message").GetString());
            Assert.Equal("model_not_allowed", error.GetProperty("code").GetString());
            Assert.Equal("fallbacks", error.GetProperty("param").GetString());
        }
        // The default target's client-given fallbacks are client-chosen too.
        var (viaDefault, _) = await PostAsync(gw, "v1/chat/completions",
            """{"model":"durar","fallbacks":["fakeant/claude-fake"],"messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal(HttpStatusCode.Forbidden, viaDefault);

        var (session, sessionError) = await PostAsync(gw, "v1/sessions/allow-1/messages", """{"content":"hi","model":"fakeant/claude-fake"}""");
        Assert.Equal(HttpStatusCode.Forbidden, session);
        Assert.Equal(refusal, sessionError.GetProperty("message").GetString());
        Assert.Equal("model", sessionError.GetProperty("param").GetString());
        Assert.Empty(gw.Fake.Requests);
    }

    [Fact]
    public async Task Should_cap_fallbacks_at_16_entries_and_deduplicate_them()
    {
        await using var gw = await GatewayHarness.StartAsync();
        static string Body(string field, int count, string model) =>
            $$"""{"model":"fakeoai/gpt-fake","{{field}}":[{{string.Join(',', Enumerable.Repeat($"\"{model}\"", count))}}],"messages":[{"role":"user","content":"x"}]}""";
        foreach (var field in new[] { "fallbacks", "models" })
        {
            var (status, error) = await PostAsync(gw, "v1/chat/completions", Body(field, 17, "fakeant/claude-fake"));
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("too_many_fallbacks", error.GetProperty("code").GetString());
            Assert.Equal(field, error.GetProperty("param").GetString());
            Assert.Contains("at most 16", error.GetProperty("message").GetString());
        }
        Assert.Empty(gw.Fake.Requests);

        // Sixteen copies of one fallback are one candidate: a failing primary, then exactly one fallback attempt.
        gw.Fake.Script = r => r.Wire == "openai" ? FakeResponse.Error(404, "The model does not exist.") : null;
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions", Body("fallbacks", 16, "fakeant/claude-fake")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fakeant/claude-fake", response.Headers.GetValues("x-durar-model").Single());
        Assert.Single(gw.Fake.Requests, r => r.Wire == "anthropic");
    }

    [Theory]
    [InlineData(400, "Invalid value for 'user': 'Your credit balance is too low to access the API'")]
    [InlineData(404, "The model 'api key revoked' does not exist")]
    [InlineData(422, "Invalid API key provided in messages[0].content")]
    public async Task Should_never_let_free_text_escalate_a_client_4xx_into_a_key_wide_penalty(int status, string echoed)
    {
        await using var gw = await GatewayHarness.StartAsync();
        // The upstream's text echoes what the client sent; its status and structured type say "your request", not "this key".
        gw.Fake.Enqueue(FakeResponse.Error(status, echoed, type: "invalid_request_error", code: "invalid_value"));
        using var refused = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"x"}]}"""));
        Assert.NotEqual(HttpStatusCode.OK, refused.StatusCode);

        // The only key of the provider still serves the next client at once: it was neither disabled nor cooled.
        using var next = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"hello"}]}"""));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(2, gw.Fake.Requests.Count);
    }

    [Theory]
    // A whole answer with a lone surrogate, with a mistyped and with a missing property.
    [InlineData(false, 200, """{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"\ud800"},"finish_reason":"stop"}]}""", true)]
    [InlineData(false, 200, """{"id":"c1","object":"chat.completion","choices":[{"index":"zero","message":{"role":7,"content":["x"]},"finish_reason":1}]}""", false)]
    [InlineData(false, 200, """{"id":"c1","object":"chat.completion","choices":[{}]}""", false)]
    // An error answer whose text cannot be read.
    [InlineData(false, 500, """{"error":{"message":"\udc00 boom","type":{"nested":true},"code":["x"]}}""", true)]
    // Stream events with a lone surrogate, a mistyped delta, a missing delta (the OpenAI wire passes text through as raw JSON).
    [InlineData(true, 200, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\\ud800\"}}]}\n\ndata: [DONE]\n\n", false)]
    [InlineData(true, 200, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":42,\"tool_calls\":{\"a\":1}}}]}\n\n", false)]
    [InlineData(true, 200, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0}]}\n\ndata: [DONE]\n\n", false)]
    // Anthropic events are decoded into text: a lone surrogate in one, a mistyped index in another.
    [InlineData(true, 200, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-fake\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\\ud800\"}}\n\n", true, "anthropic")]
    [InlineData(true, 200, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":\"zero\",\"delta\":{\"type\":\"text_delta\",\"text\":7}}\n\n", true, "anthropic")]
    public async Task Should_turn_every_upstream_parse_failure_into_a_classified_failover(bool stream, int status, string raw, bool unreadable,
        string bad = "openai")
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Script = r => r.Wire == bad ? new FakeResponse { Status = status, RawBody = raw } : null;
        var (model, fallback) = bad == "openai" ? ("fakeoai/gpt-fake", "fakeant/claude-fake") : ("fakeant/claude-fake", "fakeoai/gpt-fake");
        var body = $$"""{"model":"{{model}}","fallbacks":["{{fallback}}"],"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"x"}]}""";
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions", body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        Assert.Contains(gw.Fake.Requests, r => r.Wire == bad);
        if (unreadable)
        {
            // What the gateway could not read is a classified failure: the next candidate answers.
            Assert.True(stream ? text.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal) : text.Contains("Hello from fake: x", StringComparison.Ordinal), text);
            Assert.Equal(fallback, response.Headers.GetValues("x-durar-model").Single());
        }
        else if (stream)
        {
            // What it can carry on as it came is carried: a stream that ends complete, or with its one error frame.
            Assert.True(text.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal) || text.Contains("data: {\"error\":", StringComparison.Ordinal), text);
        }
        else
        {
            using var doc = JsonDocument.Parse(text);
            Assert.Equal("chat.completion", doc.RootElement.GetProperty("object").GetString());
        }
    }

    [Theory]
    [InlineData("v1/chat/completions", """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"\ud800"}]}""")]
    [InlineData("v1/chat/completions", """{"model":"\udfff","messages":[{"role":"user","content":"x"}]}""")]
    [InlineData("v1/chat/completions", """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"x"}],"user":"\ud800"}""")]
    [InlineData("v1/chat/completions", """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"x"}],"seed":1e400}""")]
    [InlineData("v1/sessions/parse-1/messages", """{"content":"\ud800"}""")]
    [InlineData("v1/sessions/parse-1/messages", """{"content":"x","model":"\udfff"}""")]
    [InlineData("v1/embeddings", """{"model":"echo/echo-embedding","input":"\ud800"}""")]
    [InlineData("v1/admin/auth-profiles", """{"provider":"\ud800","key":"sk-x"}""")]
    public async Task Should_answer_400_for_every_client_body_that_cannot_be_read(string path, string json)
    {
        await using var gw = await GatewayHarness.StartAsync();
        var (status, error) = await PostAsync(gw, path, json);
        Assert.True(status == HttpStatusCode.BadRequest, $"{path}: {(int)status} {error}");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Empty(gw.Fake.Requests);
    }

    [Fact]
    public async Task Should_refuse_a_session_key_with_a_trailing_newline_and_unreflectable_model_ids()
    {
        await using var gw = await GatewayHarness.StartAsync();
        var (keyStatus, keyError) = await PostAsync(gw, "v1/sessions/demo%0A/messages", """{"content":"hi"}""");
        Assert.Equal(HttpStatusCode.BadRequest, keyStatus);
        Assert.Equal("invalid_session_key", keyError.GetProperty("code").GetString());

        var tooLong = "fakeoai/" + new string('m', 250);
        foreach (var (path, json, field) in new[]
        {
            ("v1/chat/completions", """{"model":"fakeoai/gpt-f\u00e9ke","messages":[{"role":"user","content":"x"}]}""", "model"),
            ("v1/chat/completions", """{"model":"fakeoai/gpt-fake\u0007","messages":[{"role":"user","content":"x"}]}""", "model"),
            ("v1/chat/completions", $$"""{"model":"{{tooLong}}","messages":[{"role":"user","content":"x"}]}""", "model"),
            ("v1/chat/completions", """{"model":"fakeoai/gpt-fake","models":["fakeant/claude\r\nx-evil: 1"],"messages":[{"role":"user","content":"x"}]}""", "models"),
            ("v1/sessions/ok-1/messages", """{"content":"hi","model":"fakeoai/gpt\n"}""", "model"),
        })
        {
            var (status, error) = await PostAsync(gw, path, json);
            Assert.True(status == HttpStatusCode.BadRequest, $"{json}: {(int)status} {error}");
            Assert.Equal("invalid_model", error.GetProperty("code").GetString());
            Assert.Equal(field, error.GetProperty("param").GetString());
        }
        using var patch = await gw.Http.SendAsync(new HttpRequestMessage(HttpMethod.Patch, "v1/sessions/ok-2")
        {
            Content = new StringContent("""{"model":"fakeoai/\u00ff"}""", System.Text.Encoding.UTF8, "application/json"),
        });
        Assert.Equal(HttpStatusCode.BadRequest, patch.StatusCode);
        Assert.Empty(gw.Fake.Requests);
    }

    [Fact]
    public async Task Should_not_follow_upstream_redirects()
    {
        await using var gw = await GatewayHarness.StartAsync();
        var target = gw.Fake.OpenAiBaseUrl.TrimEnd('/') + "/chat/completions?redirected=1";
        var first = 0;
        // A 307 keeps the POST, its body and x-api-key: followed, it would reach the target and answer 200.
        gw.Fake.Script = r => r.Wire == "openai" && Interlocked.Exchange(ref first, 1) == 0
            ? new FakeResponse { Status = 307, RawBody = "", Headers = new Dictionary<string, string> { ["Location"] = target } }
            : null;
        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"x"}]}"""));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains(target, body);
        Assert.Single(gw.Fake.Requests);
    }
}
