using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Durar.Testing;
using static Durar.Api.Tests.Access.TokenGateway;

namespace Durar.Api.Tests.Access;

/// <summary>
/// Client tokens on the routes added beside them: the Anthropic dialect (<c>/v1/messages</c> and <c>count_tokens</c>: scope
/// <c>chat</c>, the model allowlist, usage counted, refusals in Anthropic's error shape) and a session's runs
/// (<c>/abort</c>, <c>/runs/{runId}</c>: scope <c>sessions</c>, and another token's session is a 404).
/// </summary>
public sealed class ClientTokenNewRoutesSpecs
{
    private static async Task<string> SecretAsync(GatewayHarness gw, JsonObject spec) =>
        (await CreateAsync(gw, spec)).GetProperty("secret").GetString()!;

    private static string Message(string model) =>
        $$"""{"model":"{{model}}","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}""";

    private static string Count(string model) => $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""";

    /// <summary>A Messages call as Anthropic's SDKs make it: the key in <c>x-api-key</c>, with <c>anthropic-version</c>.</summary>
    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> MessagesAsync(GatewayHarness gw, string path,
        string json, string apiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", apiKey);
        request.Headers.Add("anthropic-version", "2023-06-01");
        var response = await gw.Http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (response.StatusCode, body, response);
    }

    private static void AssertAnthropicError(JsonElement body, string type)
    {
        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Equal(type, body.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Should_hold_messages_to_the_chat_scope_and_the_model_allowlist_in_Anthropic_shape()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var sessionsOnly = await SecretAsync(gw, new JsonObject { ["scopes"] = new JsonArray("sessions") });
        var onlyM = await SecretAsync(gw, new JsonObject { ["models"] = new JsonArray("tok/m") });

        var (scope, scopeError, _) = await MessagesAsync(gw, "v1/messages", Message("tok/m"), sessionsOnly);
        Assert.Equal(HttpStatusCode.Forbidden, scope);
        AssertAnthropicError(scopeError, "permission_error");
        Assert.Contains("`chat`", scopeError.GetProperty("error").GetProperty("message").GetString());
        var (count, countError, _) = await MessagesAsync(gw, "v1/messages/count_tokens", Count("tok/m"), sessionsOnly);
        Assert.Equal(HttpStatusCode.Forbidden, count);
        AssertAnthropicError(countError, "permission_error");

        var (model, modelError, _) = await MessagesAsync(gw, "v1/messages", Message("tok/other"), onlyM);
        Assert.Equal(HttpStatusCode.Forbidden, model);
        AssertAnthropicError(modelError, "permission_error");
        Assert.Contains("tok/other", modelError.GetProperty("error").GetProperty("message").GetString());
        var (fallback, fallbackError, _) = await MessagesAsync(gw, "v1/messages",
            """{"model":"tok/m","fallbacks":["tok/other"],"max_tokens":64,"messages":[{"role":"user","content":"hi"}]}""", onlyM);
        Assert.Equal(HttpStatusCode.Forbidden, fallback);
        AssertAnthropicError(fallbackError, "permission_error");
        var (countOther, countOtherError, _) = await MessagesAsync(gw, "v1/messages/count_tokens", Count("tok/other"), onlyM);
        Assert.Equal(HttpStatusCode.Forbidden, countOther);
        AssertAnthropicError(countOtherError, "permission_error");
        Assert.Empty(gw.Fake.Requests);

        var (ok, answer, _) = await MessagesAsync(gw, "v1/messages", Message("tok/m"), onlyM);
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal("message", answer.GetProperty("type").GetString());
        var (counted, tokens, _) = await MessagesAsync(gw, "v1/messages/count_tokens", Count("tok/m"), onlyM);
        Assert.Equal(HttpStatusCode.OK, counted);
        Assert.True(tokens.GetProperty("input_tokens").GetInt64() > 0);
    }

    [Fact]
    public async Task Should_count_a_messages_answers_usage_against_the_token()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var created = await CreateAsync(gw, new JsonObject { ["name"] = "claude-client" });
        var (id, secret) = (created.GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!);
        gw.Fake.Enqueue(new FakeResponse { Text = "counted", PromptTokens = 1000, CompletionTokens = 100 });

        var (status, _, _) = await MessagesAsync(gw, "v1/messages", Message("tok/m"), secret);
        Assert.Equal(HttpStatusCode.OK, status);

        var read = await Eventually.Until(() => GetAsync(gw, id), t => t.GetProperty("usage").GetProperty("requests").GetInt64() == 1, "the request counted");
        Assert.Equal(1000, read.GetProperty("usage").GetProperty("promptTokens").GetInt64());
        Assert.Equal(100, read.GetProperty("usage").GetProperty("completionTokens").GetInt64());
        Assert.Equal(0.0045m, read.GetProperty("usage").GetProperty("cost").GetDecimal());
    }

    [Fact]
    public async Task Should_refuse_a_revoked_or_rate_limited_token_on_messages_in_Anthropic_shape()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var limited = await SecretAsync(gw, new JsonObject { ["rpm"] = 1 });
        var revoked = await CreateAsync(gw, new JsonObject { ["name"] = "gone" });
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(gw, HttpMethod.Delete, $"v1/admin/tokens/{revoked.GetProperty("id").GetString()}", null,
            OperatorToken)).Status);

        var (gone, goneError, _) = await MessagesAsync(gw, "v1/messages", Message("tok/m"), revoked.GetProperty("secret").GetString()!);
        Assert.Equal(HttpStatusCode.Unauthorized, gone);
        AssertAnthropicError(goneError, "authentication_error");
        Assert.Equal(HttpStatusCode.OK, (await MessagesAsync(gw, "v1/messages", Message("tok/m"), limited)).Status);
        var (again, againError, response) = await MessagesAsync(gw, "v1/messages", Message("tok/m"), limited);
        Assert.Equal(HttpStatusCode.TooManyRequests, again);
        AssertAnthropicError(againError, "rate_limit_error");
        Assert.InRange(response.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
    }

    [Fact]
    public async Task Should_hold_a_sessions_runs_and_abort_to_the_sessions_scope_and_the_tokens_own_sessions()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var a = await SecretAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "sessions") });
        var b = await SecretAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "sessions") });
        var chatOnly = await SecretAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat") });

        var (turn, _, turnResponse) = await SendAsync(gw, HttpMethod.Post, "v1/sessions/demo/messages", """{"content":"hello"}""", a);
        Assert.Equal(HttpStatusCode.OK, turn);
        var runId = turnResponse.Headers.GetValues("x-durar-run-id").Single();

        var (own, run, _) = await SendAsync(gw, HttpMethod.Get, $"v1/sessions/demo/runs/{runId}", null, a);
        Assert.Equal(HttpStatusCode.OK, own);
        Assert.Equal((runId, "demo"), (run.GetProperty("runId").GetString(), run.GetProperty("key").GetString()));
        var (abort, aborted, _) = await SendAsync(gw, HttpMethod.Post, "v1/sessions/demo/abort", "{}", a);
        Assert.Equal(HttpStatusCode.OK, abort);
        Assert.Equal("demo", aborted.GetProperty("key").GetString());

        var (other, otherError, _) = await SendAsync(gw, HttpMethod.Get, $"v1/sessions/demo/runs/{runId}", null, b);
        Assert.Equal(HttpStatusCode.NotFound, other);
        Assert.Equal("session_not_found", Code(otherError));
        Assert.DoesNotContain("ct-", otherError.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(gw, HttpMethod.Post, "v1/sessions/demo/abort", "{}", b)).Status);

        var (scope, scopeError, _) = await SendAsync(gw, HttpMethod.Post, "v1/sessions/demo/abort", "{}", chatOnly);
        Assert.Equal(HttpStatusCode.Forbidden, scope);
        Assert.Equal(("missing_scope", "sessions"), (Code(scopeError), scopeError.GetProperty("error").GetProperty("param").GetString()));
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(gw, HttpMethod.Get, $"v1/sessions/demo/runs/{runId}", null, chatOnly)).Status);
    }
}
