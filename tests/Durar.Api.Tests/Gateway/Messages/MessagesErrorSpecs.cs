using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway.Messages;

/// <summary>
/// <c>/v1/messages</c> when things go wrong, and its side routes: unknown fields refused by name (nothing sent upstream),
/// Anthropic's error shape and statuses (401 with <c>x-api-key</c>, 404, 429 with <c>retry-after</c>, 529 for an
/// overloaded upstream), a 429 failing over to a provider's second key, a stream broken by the upstream ending in an
/// <c>error</c> event, <c>count_tokens</c> (the provider's own count, or a marked estimate) and <c>/v1/models</c> in
/// Anthropic's list shape; over both upstream wires where the wire matters.
/// </summary>
public sealed class MessagesErrorSpecs
{
    public static TheoryData<string, bool> Wires => MessagesApiSpecs.Wires;

    private static MessageCreateParams Ask(string model, string text = "say something") => new()
    {
        MaxTokens = 256,
        Model = model,
        Messages = [new UserMessageParam { Content = text }],
    };

    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(GatewayHarness gw, string path, string json,
        string? apiKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("anthropic-version", "2023-06-01");
        if (apiKey is not null) request.Headers.Add("x-api-key", apiKey);
        var response = await gw.Http.SendAsync(request);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, doc.RootElement.Clone(), response);
    }

    /// <summary>Anthropic's error body: <c>{"type":"error","error":{"type":…,"message":…}}</c>, nothing else.</summary>
    private static string AssertError(JsonElement body, string type)
    {
        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Equal(type, body.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(2, body.EnumerateObject().Count());
        return body.GetProperty("error").GetProperty("message").GetString()!;
    }

    [Theory]
    [InlineData("""{"model":"fakeoai/gpt-fake","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"frequency_penalty":1}""", "frequency_penalty")]
    [InlineData("""{"model":"fakeoai/gpt-fake","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"hi","bogus":1}]}]}""", "messages.0.content.0.bogus")]
    [InlineData("""{"model":"fakeoai/gpt-fake","max_tokens":10,"messages":[{"role":"user","content":[{"type":"audio","data":"x"}]}]}""", "messages.0.content.0.type")]
    [InlineData("""{"model":"fakeoai/gpt-fake","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"metadata":{"user_id":"u","team":"a"}}""", "metadata.team")]
    [InlineData("""{"model":"fakeoai/gpt-fake","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}""", "tools.0.type")]
    [InlineData("""{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"hi"}]}""", "max_tokens")]
    [InlineData("""{"model":"fakeoai/gpt-fake","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":2048}}""", "thinking.budget_tokens")]
    public async Task Should_refuse_what_it_cannot_carry_with_a_400_naming_the_field(string body, string field)
    {
        await using var gw = await GatewayHarness.StartAsync();

        var (status, error, _) = await PostAsync(gw, "v1/messages", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(field, AssertError(error, "invalid_request_error"));
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_refuse_an_SDK_field_it_does_not_support_by_name()
    {
        await using var gw = await GatewayHarness.StartAsync();
        using var client = new MessagesClient(gw);

        var e = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Sdk.Messages.Create(Ask("fakeant/claude-fake") with { InferenceGeo = "us" }));

        Assert.Contains("inference_geo", AssertError(JsonDocument.Parse(client.LastBody).RootElement, "invalid_request_error"));
        Assert.Contains("inference_geo", e.Message);
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_take_the_gateway_token_as_x_api_key_and_refuse_a_wrong_one_in_Anthropic_shape()
    {
        await using var gw = await GatewayHarness.StartAsync(GatewayHarness.TwoFakeProviders + """gateway { auth { token = "gw-secret-0123456789abcdef0123456789" } }""");
        using var wrong = new MessagesClient(gw, apiKey: "not-the-token");
        using var right = new MessagesClient(gw, apiKey: "gw-secret-0123456789abcdef0123456789");

        await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => wrong.Sdk.Messages.Create(Ask("fakeoai/gpt-fake")));
        var answer = await right.Sdk.Messages.Create(Ask("fakeoai/gpt-fake"));

        AssertError(JsonDocument.Parse(wrong.LastBody).RootElement, "authentication_error");
        Assert.True(answer.Content[0].TryPickText(out var text));
        Assert.Equal("Hello from fake: say something", text.Text);
        Assert.Equal("sk-fake-openai-1234", gw.Fake.Requests.Single().ApiKey); // the provider's key upstream, never the client's
    }

    [Fact]
    public async Task Should_answer_an_unknown_model_with_404_not_found_error()
    {
        await using var gw = await GatewayHarness.StartAsync();
        using var client = new MessagesClient(gw);

        await Assert.ThrowsAsync<AnthropicNotFoundException>(() => client.Sdk.Messages.Create(Ask("nope/missing")));

        AssertError(JsonDocument.Parse(client.LastBody).RootElement, "not_found_error");
    }

    [Theory]
    [InlineData("fakeoai/gpt-fake")]
    [InlineData("fakeant/claude-fake")]
    public async Task Should_answer_429_rate_limit_error_with_retry_after_when_every_key_is_limited(string model)
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Default = FakeResponse.RateLimited("17");

        var (status, body, response) = await PostAsync(gw, "v1/messages", $$"""{"model":"{{model}}","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        AssertError(body, "rate_limit_error");
        Assert.True(int.Parse(response.Headers.GetValues("retry-after").Single()) > 0);
    }

    [Fact]
    public async Task Should_answer_529_overloaded_error_when_the_upstream_stays_overloaded()
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Default = FakeResponse.Overloaded("Overloaded (fake)");
        using var client = new MessagesClient(gw);

        var e = await Assert.ThrowsAnyAsync<AnthropicApiException>(() => client.Sdk.Messages.Create(Ask("fakeant/claude-fake")));

        Assert.Equal(529, (int)e.StatusCode);
        AssertError(JsonDocument.Parse(client.LastBody).RootElement, "overloaded_error");
    }

    /// <summary>Each provider has two keys: the first call (whichever key) is rate limited, the run goes on to the other key.</summary>
    private const string TwoKeysEach = """
        models {
          providers {
            fakeoai { baseUrl = "{fake-openai}", api = "openai-completions", models = [{ id = "gpt-fake" }] }
            fakeant { baseUrl = "{fake-anthropic}", api = "anthropic-messages", models = [{ id = "claude-fake" }] }
          }
        }
        env { FAKEOAI_API_KEYS = "sk-oai-one,sk-oai-two", FAKEANT_API_KEYS = "sk-ant-one,sk-ant-two" }
        gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 20s } }
        """;

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_fail_over_to_the_second_key_on_a_429(string model, bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync(TwoKeysEach);
        var calls = 0;
        gw.Fake.Script = _ => Interlocked.Increment(ref calls) == 1 ? FakeResponse.RateLimited("30") : FakeResponse.Ok("answered by the second key");
        using var client = new MessagesClient(gw);

        var answer = await MessagesApiSpecs.RunAsync(client, Ask(model) with { }, stream);

        Assert.Equal("answered by the second key", answer.Text);
        Assert.Equal("2", client.LastHeaders.GetValues("x-durar-attempts").Single());
        var keys = gw.Fake.Requests.Select(r => r.ApiKey).ToList();
        Assert.Equal(2, keys.Count);
        Assert.NotEqual(keys[0], keys[1]);
    }

    [Theory]
    [InlineData("fakeoai/gpt-fake")]
    [InlineData("fakeant/claude-fake")]
    public async Task Should_end_a_stream_the_upstream_breaks_with_an_error_event(string model)
    {
        await using var gw = await GatewayHarness.StartAsync();
        gw.Fake.Default = new FakeResponse { Text = "one two three four five", ErrorEventAfterChunks = 2, ErrorMessage = "upstream fell over (fake)" };
        using var client = new MessagesClient(gw);
        var text = new StringBuilder();

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await foreach (var e in client.Sdk.Messages.CreateStreaming(Ask(model)))
                if (e.TryPickContentBlockDelta(out var d) && d.Delta.TryPickText(out var t)) text.Append(t.Text);
        });

        Assert.Equal("one two", text.ToString());
        var error = MessageStreamGrammar.AssertFailed(client.LastBody);
        Assert.Contains(error.GetProperty("error").GetProperty("type").GetString(), new[] { "api_error", "overloaded_error" });
        Assert.Contains("upstream fell over (fake)", error.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Should_count_tokens_with_the_providers_own_endpoint_on_an_Anthropic_upstream()
    {
        await using var gw = await GatewayHarness.StartAsync();
        using var client = new MessagesClient(gw);

        var count = await client.Sdk.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "fakeant/claude-fake",
            System = "be brief",
            Messages = [new UserMessageParam { Content = "count these four words" }],
        });

        Assert.Equal(1000 + 6, count.InputTokens); // the fake's count: the prompt's words plus 1000
        Assert.Equal("exact", client.LastHeaders.GetValues("x-durar-token-count").Single());
        var sent = gw.Fake.Requests.Single();
        Assert.Equal("/v1/messages/count_tokens", sent.Path);
        Assert.Equal("sk-ant-fake-5678", sent.ApiKey);
        Assert.Equal("claude-fake", sent.Model);
        Assert.False(sent.Json.RootElement.TryGetProperty("max_tokens", out _));
    }

    [Fact]
    public async Task Should_estimate_tokens_and_say_so_on_an_upstream_without_a_count_endpoint()
    {
        await using var gw = await GatewayHarness.StartAsync();

        var (status, body, response) = await PostAsync(gw, "v1/messages/count_tokens",
            """{"model":"fakeoai/gpt-fake","messages":[{"role":"user","content":"count these four words"}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal((22 + 3) / 4 + 4, body.GetProperty("input_tokens").GetInt64()); // 22 characters, one message
        Assert.Equal("estimate", response.Headers.GetValues("x-durar-token-count").Single());
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_list_models_in_Anthropic_shape_for_the_Anthropic_SDK()
    {
        await using var gw = await GatewayHarness.StartAsync();
        using var client = new MessagesClient(gw);

        var page = await client.Sdk.Models.List();

        Assert.Contains(page.Items, m => m.ID == "fakeant/claude-fake");
        Assert.Contains(page.Items, m => m.ID == "fakeoai/gpt-fake");
        using var doc = JsonDocument.Parse(client.LastBody);
        Assert.False(doc.RootElement.GetProperty("has_more").GetBoolean());
        Assert.Equal("model", doc.RootElement.GetProperty("data")[0].GetProperty("type").GetString());
        Assert.False(doc.RootElement.TryGetProperty("object", out _));
        var openAi = JsonDocument.Parse(await gw.Http.GetStringAsync("v1/models")).RootElement;
        Assert.Equal("list", openAi.GetProperty("object").GetString()); // without anthropic-version: OpenAI's shape, unchanged
    }

    [Fact]
    public async Task Should_run_a_turn_in_a_session_and_answer_in_Anthropic_shape()
    {
        await using var gw = await GatewayHarness.StartAsync();
        using var client = new MessagesClient(gw, headers: new Dictionary<string, string> { ["x-durar-session-key"] = "messages-dialect-1" });

        await client.Sdk.Messages.Create(Ask("fakeant/claude-fake", "my name is Ada"));
        var second = await client.Sdk.Messages.Create(Ask("fakeant/claude-fake", "what is my name?"));

        Assert.True(second.Content[0].TryPickText(out var text));
        Assert.Equal("Hello from fake: what is my name?", text.Text);
        Assert.Equal("messages-dialect-1", client.LastHeaders.GetValues("x-durar-session-key").Single());
        var history = gw.Fake.Requests[^1].Json.RootElement.GetProperty("messages");
        Assert.Contains("my name is Ada", history.GetRawText()); // the session's transcript went upstream with the new turn
        Assert.Equal(3, history.GetArrayLength());
    }
}
