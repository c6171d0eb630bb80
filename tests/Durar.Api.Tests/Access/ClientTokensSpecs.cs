using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using Durar.Testing;
using OpenAI.Chat;
using static Durar.Api.Tests.Access.TokenGateway;

namespace Durar.Api.Tests.Access;

/// <summary>
/// Client tokens ("virtual keys") through <c>/v1/admin/tokens</c>: created with the operator token only, the secret shown once
/// and stored as a hash, listed with usage and cost, rotated and revoked, kept across a restart; a client uses one with the
/// official OpenAI SDK until its budget is spent.
/// </summary>
public sealed class ClientTokensSpecs
{
    [Fact]
    public async Task Should_create_a_token_whose_secret_is_shown_once_and_serves_the_official_openai_sdk()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var created = await CreateAsync(gw, new JsonObject { ["name"] = "ci" });
        var secret = created.GetProperty("secret").GetString()!;
        var id = created.GetProperty("id").GetString()!;
        Assert.Matches("^sk-durar-[0-9a-f]{16}_[A-Za-z0-9_-]{43}$", secret);
        Assert.Equal(["chat"], created.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));

        gw.Fake.Enqueue(new FakeResponse { Text = "hello from a client token", PromptTokens = 1000, CompletionTokens = 100 });
        var completion = await gw.OpenAiChat("tok/m", secret).CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal("hello from a client token", completion.Value.Content[0].Text);

        // Read back: never the secret, and the request with its tokens and cost (1000 × 3 + 100 × 15 per million).
        var read = await Eventually.Until(() => GetAsync(gw, id), t => t.GetProperty("usage").GetProperty("requests").GetInt64() == 1, "the request counted");
        Assert.False(read.TryGetProperty("secret", out _));
        Assert.Equal(1000, read.GetProperty("usage").GetProperty("promptTokens").GetInt64());
        Assert.Equal(100, read.GetProperty("usage").GetProperty("completionTokens").GetInt64());
        Assert.Equal(0.0045m, read.GetProperty("usage").GetProperty("cost").GetDecimal());
        var list = (await SendAsync(gw, HttpMethod.Get, "v1/admin/tokens", null, OperatorToken)).Body.GetProperty("tokens");
        Assert.Equal([id], list.EnumerateArray().Select(t => t.GetProperty("id").GetString()));
        Assert.DoesNotContain(secret, list.GetRawText());
    }

    [Fact]
    public async Task Should_manage_tokens_with_the_operator_token_only()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var admin = (await CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "admin") })).GetProperty("secret").GetString();

        var (byClient, error, _) = await SendAsync(gw, HttpMethod.Post, "v1/admin/tokens", "{}", admin);
        Assert.Equal(HttpStatusCode.Forbidden, byClient);
        Assert.Equal("operator_only", Code(error));
        var (listByClient, _, _) = await SendAsync(gw, HttpMethod.Get, "v1/admin/tokens", null, admin);
        Assert.Equal(HttpStatusCode.Forbidden, listByClient);
        var (anonymous, _, _) = await SendAsync(gw, HttpMethod.Get, "v1/admin/tokens", null, null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous);
        // Its admin scope still reaches the other operator routes.
        var (providers, _, _) = await SendAsync(gw, HttpMethod.Get, "v1/admin/providers", null, admin);
        Assert.Equal(HttpStatusCode.OK, providers);
    }

    [Fact]
    public async Task Should_refuse_a_bad_spec_naming_the_field()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        foreach (var (json, param) in new[]
                 {
                     ("""{"scopes":["chat","root"]}""", "scopes"), ("""{"rpm":0}""", "rpm"), ("""{"budgetPeriod":"week"}""", "budgetPeriod"),
                     ("""{"expiresAt":"2001-01-01T00:00:00Z"}""", "expiresAt"), ("""{"models":["not a model"]}""", "models"), ("""{"colour":"red"}""", "colour"),
                 })
        {
            var (status, body, _) = await SendAsync(gw, HttpMethod.Post, "v1/admin/tokens", json, OperatorToken);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal(param, body.GetProperty("error").GetProperty("param").GetString());
        }
    }

    [Fact]
    public async Task Should_stop_the_old_secret_at_once_when_rotated_and_every_secret_when_revoked()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var created = await CreateAsync(gw, new JsonObject());
        var (id, old) = (created.GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(gw, old)).Status);

        var (rotated, body, _) = await SendAsync(gw, HttpMethod.Post, $"v1/admin/tokens/{id}/rotate", null, OperatorToken);
        Assert.Equal(HttpStatusCode.OK, rotated);
        var fresh = body.GetProperty("secret").GetString()!;
        Assert.NotEqual(old, fresh);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ChatAsync(gw, old)).Status);
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(gw, fresh)).Status);

        var (revoked, view, _) = await SendAsync(gw, HttpMethod.Delete, $"v1/admin/tokens/{id}", null, OperatorToken);
        Assert.Equal(HttpStatusCode.OK, revoked);
        Assert.Equal("revoked", view.GetProperty("status").GetString());
        var (status, error, _) = await ChatAsync(gw, fresh);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("token_revoked", Code(error));
        Assert.Equal(HttpStatusCode.Conflict, (await SendAsync(gw, HttpMethod.Post, $"v1/admin/tokens/{id}/rotate", null, OperatorToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(gw, HttpMethod.Delete, "v1/admin/tokens/00000000000000ff", null, OperatorToken)).Status);
    }

    [Fact]
    public async Task Should_keep_tokens_their_usage_and_revocations_across_a_restart()
    {
        var gw = await GatewayHarness.StartAsync(Config);
        try
        {
            var kept = await CreateAsync(gw, new JsonObject { ["name"] = "kept" });
            var gone = await CreateAsync(gw, new JsonObject { ["name"] = "gone" });
            var (keptId, keptSecret) = (kept.GetProperty("id").GetString()!, kept.GetProperty("secret").GetString()!);
            gw.Fake.Enqueue(new FakeResponse { Text = "a", PromptTokens = 1000, CompletionTokens = 100 });
            Assert.Equal(HttpStatusCode.OK, (await ChatAsync(gw, keptSecret)).Status);
            await Eventually.Until(() => GetAsync(gw, keptId), t => t.GetProperty("usage").GetProperty("requests").GetInt64() == 1, "the request counted");
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(gw, HttpMethod.Delete, $"v1/admin/tokens/{gone.GetProperty("id").GetString()}", null, OperatorToken)).Status);

            gw = await gw.RestartAsync();

            gw.Fake.Enqueue(new FakeResponse { Text = "b", PromptTokens = 2000, CompletionTokens = 200 }); // 0.009 more
            Assert.Equal(HttpStatusCode.OK, (await ChatAsync(gw, keptSecret)).Status);
            await Eventually.Until(() => GetAsync(gw, keptId), t => t.GetProperty("usage").GetProperty("requests").GetInt64() == 2, "both requests counted");
            Assert.Equal(HttpStatusCode.Unauthorized, (await ChatAsync(gw, gone.GetProperty("secret").GetString())).Status);
            var list = (await SendAsync(gw, HttpMethod.Get, "v1/admin/tokens", null, OperatorToken)).Body.GetProperty("tokens").EnumerateArray()
                .ToDictionary(t => t.GetProperty("name").GetString()!, t => t.Clone());
            Assert.Equal("revoked", list["gone"].GetProperty("status").GetString());
            Assert.Equal(0.0135m, list["kept"].GetProperty("usage").GetProperty("cost").GetDecimal());
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_answer_429_budget_exceeded_with_when_it_resets_once_the_budget_is_spent()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var created = await CreateAsync(gw, new JsonObject { ["budget"] = 0.004m, ["budgetPeriod"] = "day" });
        var (id, secret) = (created.GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!);
        gw.Fake.Enqueue(new FakeResponse { Text = "a", PromptTokens = 1000, CompletionTokens = 100 }); // 0.0045 > 0.004
        // No retries: the SDK would otherwise wait out the Retry-After (until tomorrow) and retry.
        var client = new ChatClient("tok/m", new ApiKeyCredential(secret),
            new OpenAI.OpenAIClientOptions { Endpoint = new Uri(gw.BaseUri, "v1/"), RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0) });
        await client.CompleteChatAsync([new UserChatMessage("hi")]);
        await Eventually.Until(() => GetAsync(gw, id), t => t.GetProperty("period").GetProperty("spend").GetDecimal() > 0, "the spend recorded");

        var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(429, refused.Status);
        var raw = refused.GetRawResponse()!;
        Assert.Contains("budget_exceeded", raw.Content.ToString());
        var tomorrow = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero).AddDays(1);
        Assert.True(raw.Headers.TryGetValue("x-durar-budget-resets", out var resets));
        Assert.Equal(tomorrow, DateTimeOffset.Parse(resets!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(raw.Headers.TryGetValue("Retry-After", out var retry) && int.Parse(retry!) > 0);
        Assert.Single(gw.Fake.Requests);
    }
}
