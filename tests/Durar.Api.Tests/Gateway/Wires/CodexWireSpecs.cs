using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Api.Tests.AuthProfiles;
using Durar.Api.Tests.Resilience;
using OpenAI.Chat;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// The <c>openai-chatgpt-responses</c> wire (<c>openai-codex</c>) beyond the conformance suite: the Codex CLI's headers
/// (the account id from the OAuth access token's claim), the system prompt as <c>instructions</c>, a stream-only backend
/// answering a non-streaming client, the fields the backend takes none of reported dropped, <c>store: true</c> refused,
/// and the access token of an OAuth auth profile refreshed before use.
/// </summary>
public sealed class CodexWireSpecs
{
    private static readonly string AccessToken = Jwt("""{"https://api.openai.com/auth":{"chatgpt_account_id":"acct-7f3a"},"exp":4102444800}""");

    private static string Config(string? apiKey) => $$"""
        models { providers { codex { baseUrl = "{fake-openai}", api = "openai-chatgpt-responses", auth = "oauth"{{(apiKey is null ? "" : $", apiKey = \"{apiKey}\"")}}, models = [{ id = "gpt-5.4", reasoning = true }] } } }
        agents { defaults { model { primary = "codex/gpt-5.4" } } }
        """ + ResilienceClient.FastFailover;

    [Fact]
    public async Task Should_send_the_codex_headers_and_instructions_and_answer_a_non_streaming_client_from_the_stream()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(AccessToken));
        gw.Fake.Enqueue(new Durar.Testing.FakeResponse { Text = "Brief answer.", PromptTokens = 12, CompletionTokens = 3 });

        using var response = await gw.Http.SendAsync(gw.Post("/v1/chat/completions", """
            {"model":"codex/gpt-5.4","max_tokens":50,"temperature":0.3,
             "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}
            """));

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = JsonDocument.Parse(body).RootElement;
        Assert.Equal("Brief answer.", answer.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(12, answer.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal("max_tokens,temperature", string.Join(",", response.Headers.GetValues(Durar.Api.Apis.DurarHeaders.Dropped)));
        var upstream = Assert.Single(gw.Fake.Requests);
        Assert.Equal("/v1/codex/responses", upstream.Path);
        Assert.Equal(("acct-7f3a", "responses=experimental", "codex_cli_rs", AccessToken),
            (upstream.Headers["chatgpt-account-id"], upstream.Headers["OpenAI-Beta"], upstream.Headers["originator"], upstream.ApiKey));
        var sent = upstream.Json.RootElement;
        Assert.Equal("Be brief.", sent.GetProperty("instructions").GetString());
        Assert.Equal("""[{"role":"user","content":"hi"}]""", sent.GetProperty("input").GetRawText());
        Assert.Equal((false, true), (sent.GetProperty("store").GetBoolean(), sent.GetProperty("stream").GetBoolean()));
        Assert.False(sent.TryGetProperty("max_output_tokens", out _) || sent.TryGetProperty("temperature", out _));
    }

    [Fact]
    public async Task Should_refuse_store_true_naming_it()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(AccessToken));

        using var response = await gw.Http.SendAsync(gw.Post("/v1/chat/completions",
            """{"model":"codex/gpt-5.4","store":true,"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("store", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal(0, gw.Fake.RequestCount);
    }

    [Fact]
    public async Task Should_refresh_the_oauth_profiles_expired_access_token_before_calling_the_backend()
    {
        await using var gw = await GatewayHarness.StartAsync(Config(apiKey: null));
        var created = await gw.PostProfileAsync(new JsonObject
        {
            ["provider"] = "codex", ["type"] = "oauth", ["email"] = "dev@example.com",
            ["access"] = "expired-access-0001", ["refresh"] = "refresh-codex-0001",
            ["expires"] = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(),
            ["tokenUrl"] = gw.Fake.OAuthTokenUrl, ["clientId"] = "app_codex_test",
        });
        Assert.Equal(HttpStatusCode.Created, created.Status);

        var text = new StringBuilder();
        await foreach (var update in gw.OpenAiChat("codex/gpt-5.4").CompleteChatStreamingAsync([new UserChatMessage("hi")]))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);

        Assert.Equal("Hello from fake: hi", text.ToString());
        var refresh = Assert.Single(gw.Fake.OAuthRefreshes);
        Assert.Equal(("refresh-codex-0001", "app_codex_test"), (refresh.RefreshToken, refresh.ClientId));
        Assert.Equal(refresh.IssuedAccessToken, Assert.Single(gw.Fake.Requests).ApiKey);
    }

    /// <summary>An unsigned JWT with <paramref name="payload"/> (the backend verifies tokens; the gateway only reads the claim).</summary>
    private static string Jwt(string payload) =>
        $"{B64("""{"alg":"none","typ":"JWT"}""")}.{B64(payload)}.c2ln";

    private static string B64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
