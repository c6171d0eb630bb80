using System.Net;
using System.Text.Json.Nodes;
using Durar.Testing;
using static Durar.Api.Tests.Access.TokenGateway;

namespace Durar.Api.Tests.Access;

/// <summary>
/// Session turns are charged to the client token that sent them, as stateless chat is: their tokens and cost show in the
/// token's usage, count against its budget (a spent budget answers the next turn 429 <c>budget_exceeded</c>), streamed or not.
/// </summary>
public sealed class SessionTurnSpendSpecs
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Should_charge_a_session_turn_to_the_client_token_and_its_budget(bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync(Config + "\ngateway.askTimeout = 60s\n");
        var created = await CreateAsync(gw, new JsonObject { ["scopes"] = new JsonArray("chat", "sessions"), ["budget"] = 0.004m, ["budgetPeriod"] = "day" });
        var (id, secret) = (created.GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!);
        gw.Fake.Enqueue(new FakeResponse { Text = "a", PromptTokens = 1000, CompletionTokens = 100 }); // 1000 × 3 + 100 × 15 per million = 0.0045

        var streamField = stream ? ""","stream":true""" : "";
        var (status, body, response) = await SendAsync(gw, HttpMethod.Post, "v1/sessions/spend-1/messages", $$"""{"content":"hi"{{streamField}}}""", secret);
        Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
        if (stream) Assert.Contains("data:", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var read = await Eventually.Until(() => GetAsync(gw, id), t => t.GetProperty("usage").GetProperty("requests").GetInt64() == 1, "the turn counted");
        Assert.Equal(1000, read.GetProperty("usage").GetProperty("promptTokens").GetInt64());
        Assert.Equal(100, read.GetProperty("usage").GetProperty("completionTokens").GetInt64());
        Assert.Equal(0.0045m, read.GetProperty("usage").GetProperty("cost").GetDecimal());
        await Eventually.Until(() => GetAsync(gw, id), t => t.GetProperty("period").GetProperty("spend").GetDecimal() > 0, "the spend recorded");

        var (refused, error, _) = await SendAsync(gw, HttpMethod.Post, "v1/sessions/spend-1/messages", """{"content":"again"}""", secret);
        Assert.Equal((HttpStatusCode)429, refused);
        Assert.Equal("budget_exceeded", Code(error));
        Assert.Single(gw.Fake.Requests);
    }
}
