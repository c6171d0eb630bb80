using System.Net;
using Durar.Actors.Configuration;
using Durar.Api.Apis;
using Durar.Api.Extensions;
using Microsoft.AspNetCore.Http;
using static Durar.Api.Tests.Access.TokenGateway;

namespace Durar.Api.Tests.Access;

/// <summary>
/// The gateway's door: the operator token in either header, failed authentication backed off per client address (from
/// trusted proxies only), and the configurations it refuses to start with.
/// </summary>
public sealed class GatewayAccessSpecs
{
    private const string Backoff = """
        gateway { auth { failures { threshold = 3, backoff = 30s, maxBackoff = 5m } } }
        """;

    [Fact]
    public async Task Should_accept_the_operator_token_from_x_api_key_as_from_bearer()
    {
        await using var gw = await GatewayHarness.StartAsync(Config);
        var request = Request(HttpMethod.Post, "v1/chat/completions", """{"model":"tok/m","messages":[{"role":"user","content":"x"}]}""", null);
        request.Headers.Add("x-api-key", OperatorToken);
        using var response = await gw.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Should_answer_429_with_retry_after_after_repeated_failed_authentications_from_one_address()
    {
        await using var gw = await GatewayHarness.StartAsync(Config + Backoff);
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await ChatAsync(gw, "wrong-token-" + i)).Status);

        var (status, error, response) = await ChatAsync(gw, OperatorToken);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("too_many_auth_failures", Code(error));
        Assert.InRange(response.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 25, 30);
        Assert.Empty(gw.Fake.Requests);
    }

    [Fact]
    public async Task Should_take_the_client_address_from_trusted_proxies_only()
    {
        // Not trusted: every forwarded address is the proxy's own, so three failures block them all.
        await using (var untrusted = await GatewayHarness.StartAsync(Config + Backoff))
        {
            for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await ForwardedChatAsync(untrusted, $"203.0.113.{i}", "wrong")).Status);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await ForwardedChatAsync(untrusted, "198.51.100.7", OperatorToken)).Status);
        }
        // Trusted: the forwarded address is the client's; another client behind the proxy is not blocked.
        await using var trusted = await GatewayHarness.StartAsync(Config + Backoff + "\ngateway.trustedProxies = [\"127.0.0.0/8\"]\n");
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await ForwardedChatAsync(trusted, "203.0.113.9", "wrong")).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await ForwardedChatAsync(trusted, "203.0.113.9", OperatorToken)).Status);
        Assert.Equal(HttpStatusCode.OK, (await ForwardedChatAsync(trusted, "198.51.100.7", OperatorToken)).Status);
    }

    private static async Task<(HttpStatusCode Status, string Body)> ForwardedChatAsync(GatewayHarness gw, string forwardedFor, string bearer)
    {
        var request = Request(HttpMethod.Post, "v1/chat/completions", """{"model":"tok/m","messages":[{"role":"user","content":"x"}]}""", bearer);
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var response = await gw.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Should_refuse_to_start_with_an_operator_token_shorter_than_32_characters()
    {
        var e = Assert.Throws<DurarConfigException>(() =>
            GatewayHost.Build(new GatewayOptions { Port = 0, DataDir = Path.GetTempPath(), ExtraHocon = """gateway.auth.token = "short-token-31-characters-long!" """ }));
        Assert.Equal("gateway.auth.token", e.Path);
        Assert.Contains("32", e.Problem);
    }

    [Fact]
    public void Should_refuse_to_start_on_a_non_loopback_address_without_a_token()
    {
        var e = Assert.Throws<DurarConfigException>(() =>
            GatewayHost.Build(new GatewayOptions { Port = 0, DataDir = Path.GetTempPath(), ExtraHocon = """gateway.bind = "0.0.0.0" """ }));
        Assert.Equal("gateway.bind", e.Path);
        Assert.Contains("set gateway.auth.token", e.Problem);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Should_count_a_connection_without_a_remote_address_as_remote()
    {
        var auth = new GatewayAuth(null);
        var unknown = new DefaultHttpContext();
        var loopback = new DefaultHttpContext { Connection = { RemoteIpAddress = IPAddress.Loopback } };

        Assert.Equal(403, auth.AdminRefusal(unknown)?.Status);
        Assert.Null(auth.AdminRefusal(loopback));
    }

    [Fact]
    public void Should_refuse_a_trusted_proxy_that_is_not_an_address_naming_its_key()
    {
        var e = Assert.Throws<DurarConfigException>(() => DurarSettingsLoader.Load(DurarSettingsLoader.FromText("""gateway.trustedProxies = ["10.0.0.0/8", "proxy.local"]""")));
        Assert.Equal("gateway.trustedProxies[1]", e.Path);
    }
}
