using System.Net;
using Durar.Api.Tests.Resilience;
using Durar.Testing;
using OpenAI.Chat;

namespace Durar.Api.Tests.Gateway.Wires;

/// <summary>
/// GitHub Copilot's own rules on top of the conformance cases: the GitHub token is exchanged once and the Copilot token is
/// cached until it nears its expiry, then exchanged again by the key actor; the chat goes to the host the exchange named with
/// the Copilot token and the editor headers; an exchange GitHub refuses disables the key with the reason, and nothing is sent
/// to the chat endpoint with it.
/// </summary>
public sealed class CopilotWireSpecs
{
    private const string Model = "copilot1/gpt-4o";

    private static async Task<GatewayHarness> StartAsync(Action<FakeProvider>? configure = null)
    {
        var fake = await FakeProvider.StartAsync();
        configure?.Invoke(fake);
        return await GatewayHarness.StartAsync($$"""
            models { providers { copilot1 { baseUrl = "http://127.0.0.1:9/never", api = "github-copilot", apiKey = "ghu_fake_github_token", models = [{ id = "gpt-4o" }] } } }
            gateway { copilot { tokenUrl = "{{fake.CopilotTokenUrl}}" } }
            """, fake);
    }

    [Fact]
    public async Task Should_exchange_the_github_token_once_and_reuse_the_copilot_token_until_it_nears_expiry()
    {
        await using var gw = await StartAsync();
        var chat = gw.OpenAiChat(Model);

        await chat.CompleteChatAsync([new UserChatMessage("one")]);
        await chat.CompleteChatAsync([new UserChatMessage("two")]);

        var exchange = Assert.Single(gw.Fake.CopilotExchanges);
        Assert.Equal("ghu_fake_github_token", exchange.GitHubToken);
        Assert.Equal("vscode-chat", exchange.Headers["Copilot-Integration-Id"]);
        Assert.All(gw.Fake.Requests, r => Assert.Equal(exchange.IssuedToken, r.ApiKey));
    }

    [Fact]
    public async Task Should_exchange_again_when_the_copilot_token_nears_its_expiry()
    {
        // A 2 s token is refreshed from half its life on (inside auth.keys.oauth.refreshMargin): requests keep going until
        // the key actor has exchanged again, and the request after that carries the new token.
        await using var gw = await StartAsync(f => f.CopilotTokenLifetimeSeconds = 2);
        var chat = gw.OpenAiChat(Model);

        await chat.CompleteChatAsync([new UserChatMessage("first")]);
        await Eventually.Until(async () =>
        {
            await chat.CompleteChatAsync([new UserChatMessage("again")]);
            return gw.Fake.CopilotExchanges.Count;
        }, count => count >= 2, "a second exchange", TimeSpan.FromSeconds(20));

        var exchanges = gw.Fake.CopilotExchanges;
        var requests = gw.Fake.Requests;
        Assert.Equal(exchanges[0].IssuedToken, requests[0].ApiKey);
        Assert.Equal(exchanges[1].IssuedToken, requests[^1].ApiKey);
        Assert.NotEqual(exchanges[0].IssuedToken, exchanges[1].IssuedToken);
    }

    [Fact]
    public async Task Should_send_the_chat_with_copilot_headers_to_the_host_the_exchange_named()
    {
        await using var gw = await StartAsync();

        await foreach (var _ in gw.OpenAiChat(Model).CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
        }

        var request = Assert.Single(gw.Fake.Requests);
        Assert.Equal("/chat/completions", request.Path);
        Assert.Equal("vscode/1.99.3", request.Headers["Editor-Version"]);
        Assert.Equal("copilot-chat/0.26.7", request.Headers["Editor-Plugin-Version"]);
        Assert.Equal("vscode-chat", request.Headers["Copilot-Integration-Id"]);
        Assert.Equal("conversation-panel", request.Headers["Openai-Intent"]);
        Assert.Equal("gpt-4o", request.Model);
    }

    [Theory]
    [InlineData(403, "no Copilot subscription")]
    [InlineData(401, "invalid or revoked")]
    public async Task Should_disable_the_key_when_github_refuses_the_exchange(int status, string reason)
    {
        await using var gw = await StartAsync(f => f.CopilotExchangeFailureStatus = status);

        var reply = await gw.ChatAsync(Model);

        Assert.NotEqual(HttpStatusCode.OK, reply.Status);
        Assert.Contains("auth_permanent", reply.Body);
        Assert.Equal(0, gw.Fake.RequestCount);
        await gw.WaitForOnlyKeyAsync("copilot1", k => k.GetProperty("state").GetString() == "disabled", "disabled");
        Assert.Single(gw.Fake.CopilotExchanges);
        Assert.Contains(reason, CopilotRefusal(status));
    }

    /// <summary>The reason the exchange's refusal is logged and charged with (the same text the key actor logs).</summary>
    private static string CopilotRefusal(int status)
    {
        var answer = new HttpResponseMessage((HttpStatusCode)status);
        try
        {
            using var client = new HttpClient(new StubHandler(answer));
            Durar.Actors.Transports.Copilot.CopilotTokenExchange.ExchangeAsync(client,
                new Durar.Actors.Providers.OAuthGrant("gh", "http://127.0.0.1:9/token", null), TimeProvider.System, default).GetAwaiter().GetResult();
            return "";
        }
        catch (Durar.Actors.Providers.OAuthRefreshException e)
        {
            Assert.True(e.Permanent);
            return e.Message;
        }
    }

    private sealed class StubHandler(HttpResponseMessage answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => Task.FromResult(answer);
    }
}
