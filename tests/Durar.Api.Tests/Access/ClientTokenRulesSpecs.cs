using System.Net;
using System.Text.Json.Nodes;
using Durar.Testing;
using static Durar.Api.Tests.Access.TokenGateway;

namespace Durar.Api.Tests.Access;

/// <summary>
/// What a client token may do: its scopes (403 naming the missing one), its model allowlist on every candidate, its rpm and
/// tpm (429 with Retry-After), its expiry (401), and its session namespace (another token's session is a 404).
/// </summary>
public sealed class ClientTokenRulesSpecs
{
    private static async Task<string> SecretAsync(GatewayHarness gw, JsonObject spec) =>
        (await CreateAsync(gw, spec)).GetProperty("secret").GetString()!;

    [Fact]
    public async Task Should_refuse_a_route_outside_the_tokens_scopes_with_403_naming_the_scope()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var chatOnly = await SecretAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat") });
        var sessionsOnly = await SecretAsync(gw, new JsonObject { ["scopes"] = new JsonArray("sessions") });

        var (status, error, _) = await SendAsync(gw, HttpMethod.Get, "v1/sessions/demo", null, chatOnly);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal(("permission_error", "missing_scope", "sessions"), (error.GetProperty("error").GetProperty("type").GetString(), Code(error),
            error.GetProperty("error").GetProperty("param").GetString()));
        Assert.Contains("`sessions`", error.GetProperty("error").GetProperty("message").GetString());
        var (chat, chatError, _) = await ChatAsync(gw, sessionsOnly);
        Assert.Equal(HttpStatusCode.Forbidden, chat);
        Assert.Contains("`chat`", chatError.GetProperty("error").GetProperty("message").GetString());
        var (admin, adminError, _) = await SendAsync(gw, HttpMethod.Get, "v1/admin/providers", null, chatOnly);
        Assert.Equal(HttpStatusCode.Forbidden, admin);
        Assert.Contains("`admin`", adminError.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(gw, chatOnly)).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(gw, HttpMethod.Get, "v1/models", null, chatOnly)).Status);
    }

    [Fact]
    public async Task Should_check_the_tokens_model_allowlist_on_every_candidate()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var onlyM = await SecretAsync(gw, new JsonObject { ["models"] = new JsonArray("tok/m") });

        var (model, error, _) = await ChatAsync(gw, onlyM, "tok/other");
        Assert.Equal(HttpStatusCode.Forbidden, model);
        Assert.Equal(("model_not_allowed", "model"), (Code(error), error.GetProperty("error").GetProperty("param").GetString()));
        var (fallback, fallbackError, _) = await ChatAsync(gw, onlyM, "tok/m", ""","fallbacks":["tok/other"]""");
        Assert.Equal(HttpStatusCode.Forbidden, fallback);
        Assert.Equal("fallbacks", fallbackError.GetProperty("error").GetProperty("param").GetString());
        var (embed, _, _) = await SendAsync(gw, HttpMethod.Post, "v1/embeddings", """{"model":"tok/other","input":"x"}""", onlyM);
        Assert.Equal(HttpStatusCode.Forbidden, embed);
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(gw, onlyM, "tok/m")).Status);
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(gw, onlyM, "durar")).Status); // the configured primary is tok/m
        Assert.All(gw.Fake.Requests, r => Assert.Contains("\"m\"", r.Body));
    }

    [Fact]
    public async Task Should_answer_429_with_retry_after_past_the_tokens_rpm()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var secret = await SecretAsync(gw, new JsonObject { ["rpm"] = 2 });
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(gw, secret)).Status);
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(gw, secret)).Status);

        var (status, error, response) = await ChatAsync(gw, secret);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("token_rate_limited", Code(error));
        Assert.InRange(response.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        Assert.Equal(2, gw.Fake.Requests.Count);
        // Another token is not affected.
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(gw, await SecretAsync(gw, new JsonObject { ["rpm"] = 2 }))).Status);
    }

    [Fact]
    public async Task Should_answer_429_with_retry_after_once_the_tokens_tpm_is_spent()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var created = await CreateAsync(gw, new JsonObject { ["tpm"] = 1000 });
        var (id, secret) = (created.GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!);
        gw.Fake.Enqueue(new FakeResponse { Text = "a", PromptTokens = 900, CompletionTokens = 200 });
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(gw, secret)).Status);
        await Eventually.Until(() => GetAsync(gw, id), t => t.GetProperty("usage").GetProperty("requests").GetInt64() == 1, "the tokens counted");

        var (status, error, response) = await ChatAsync(gw, secret);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("token_rate_limited", Code(error));
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task Should_answer_401_once_the_token_has_expired()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var secret = await SecretAsync(gw, new JsonObject { ["expiresAt"] = DateTimeOffset.UtcNow.AddSeconds(8).ToString("O") });
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(gw, secret)).Status);

        var (_, error, _) = await Eventually.Until(() => ChatAsync(gw, secret), r => r.Status == HttpStatusCode.Unauthorized, "the token expired",
            TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(250));
        Assert.Equal("token_expired", Code(error));
    }

    [Fact]
    public async Task Should_show_a_token_only_the_sessions_it_created()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var a = await CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "sessions") });
        var b = await SecretAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "sessions") });
        var secretA = a.GetProperty("secret").GetString();

        var (turn, _, turnResponse) = await SendAsync(gw, HttpMethod.Post, "v1/sessions/demo/messages", """{"content":"hello"}""", secretA);
        Assert.Equal(HttpStatusCode.OK, turn);
        Assert.Equal("demo", turnResponse.Headers.GetValues("x-durar-session-key").Single());
        var (own, view, _) = await SendAsync(gw, HttpMethod.Get, "v1/sessions/demo", null, secretA);
        Assert.Equal(HttpStatusCode.OK, own);
        Assert.Equal("demo", view.GetProperty("key").GetString());

        var (other, error, _) = await SendAsync(gw, HttpMethod.Get, "v1/sessions/demo", null, b);
        Assert.Equal(HttpStatusCode.NotFound, other);
        Assert.Equal("session_not_found", Code(error));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(gw, HttpMethod.Get, "v1/sessions/demo/messages", null, b)).Status);
        // The operator sees it under the token's namespace.
        var (byOperator, _, _) = await SendAsync(gw, HttpMethod.Get, $"v1/sessions/ct-{a.GetProperty("id").GetString()}:demo", null, OperatorToken);
        Assert.Equal(HttpStatusCode.OK, byOperator);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(gw, HttpMethod.Get, "v1/sessions/demo", null, OperatorToken)).Status);
    }
}
