using System.Net;
using System.Text.Json;

namespace Durar.Api.Tests.Gateway.Fidelity;

/// <summary>
/// A stateless request gets the configured thinking level and fast mode exactly as a session turn does
/// (<c>agents.defaults.thinkingDefault</c>, <c>fastModeDefault</c>), mapped to what its target takes; the client's own
/// <c>reasoning_effort</c> and <c>service_tier</c> win.
/// </summary>
public sealed class StatelessDefaultsSpecs
{
    private const string Defaults = FidelityConfig.Providers + """

        agents.defaults { thinkingDefault = "high", fastModeDefault = "on" }
        """;

    [Theory]
    [InlineData("nativeoai/gpt-native", "high", "priority")]
    [InlineData("proxyoai/proxy-reasoner", "high", null)] // proxies get no service_tier
    [InlineData("proxyoai/proxy-model", null, null)] // a model not marked as reasoning gets no effort
    public async Task Should_give_a_stateless_request_the_configured_thinking_and_fast_mode(string model, string? effort, string? tier)
    {
        await using var gw = await GatewayHarness.StartAsync(Defaults);

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(gw.Fake.Requests).Json.RootElement;
        Assert.Equal(effort, sent.TryGetProperty("reasoning_effort", out var e) ? e.GetString() : null);
        Assert.Equal(tier, sent.TryGetProperty("service_tier", out var t) ? t.GetString() : null);
        Assert.False(response.Headers.Contains(Durar.Api.Apis.DurarHeaders.Dropped)); // the gateway's own additions are not the client's
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Should_let_the_clients_reasoning_effort_and_service_tier_win_over_the_defaults(bool stream)
    {
        await using var gw = await GatewayHarness.StartAsync(Defaults);

        using var response = await gw.Http.SendAsync(gw.Post("v1/chat/completions",
            $$"""{"model":"nativeoai/gpt-native","stream":{{(stream ? "true" : "false")}},"reasoning_effort":"low","service_tier":"flex","messages":[{"role":"user","content":"hi"}]}"""));
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(gw.Fake.Requests).Json.RootElement;
        Assert.Equal("low", sent.GetProperty("reasoning_effort").GetString());
        Assert.Equal("flex", sent.GetProperty("service_tier").GetString());
        Assert.Single(sent.EnumerateObject(), p => p.Name == "reasoning_effort");
        Assert.Single(sent.EnumerateObject(), p => p.Name == "service_tier");
    }
}
