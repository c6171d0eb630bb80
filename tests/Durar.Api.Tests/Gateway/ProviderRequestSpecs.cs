using System.Net;
using Durar.Api.Tests.Gateway.Wires;
using Durar.Api.Tests.Resilience;
using Durar.Testing;

namespace Durar.Api.Tests.Gateway;

/// <summary>
/// <c>models.providers.&lt;id&gt;.request</c> seen from the upstream's side, on real sockets: the extra headers and the
/// credential's header style on every wire (<see cref="WireCase.All"/>), a per-provider forward proxy (a loopback proxy that
/// counts what it forwards), TLS against an upstream whose certificate only a CA made in the test vouches for (the gateway
/// fails without the bundle, works with it), and a client certificate the upstream requires (PEM and PFX).
/// </summary>
public sealed class ProviderRequestSpecs
{
    public static TheoryData<WireCase> Wires() => new(WireCase.All);

    /// <summary>A failed handshake is a connection failure: retried briefly, then answered, within this budget.</summary>
    private const string ShortFailover = "gateway { failover { retryBaseDelay = 10ms, retryMaxDelay = 50ms, budget = 3s } }";

    private static string Request(WireCase wire, string block) => $"models.providers.{wire.ProviderId}.request {{ {block} }}";

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task Should_send_the_extra_headers_and_the_configured_auth_header_on_every_wire(WireCase wire)
    {
        // Bedrock signs with SigV4 (an auth style is refused at start-up there): only the extra header applies.
        var signs = wire == WireCase.Bedrock;
        await using var gw = await wire.StartAsync(Request(wire,
            """headers { X-Team = "blue" }""" + (signs ? "" : "\nauth { header = \"X-Custom-Key\", prefix = \"K\" }")));
        gw.Fake.Enqueue(FakeResponse.Ok("hi there"));

        var reply = await gw.ChatAsync(wire.Model);

        Assert.True(reply.Status == HttpStatusCode.OK, $"{(int)reply.Status}: {reply.Body}");
        var sent = Assert.Single(gw.Fake.Requests);
        Assert.Equal("blue", sent.Headers["X-Team"]);
        if (signs)
        {
            Assert.Equal(WireCase.BedrockKeyOne, WireCase.BedrockKey(sent));
            return;
        }
        var credential = sent.Headers["X-Custom-Key"];
        if (wire.Keys is var (a, _)) Assert.Equal("K " + a, credential);
        else Assert.StartsWith("K tid=fake;", credential, StringComparison.Ordinal); // Copilot: the exchanged token
        Assert.Null(sent.ApiKey); // the wire's own header (Authorization, x-api-key, x-goog-api-key, api-key) is not sent
    }

    [Theory]
    [InlineData("bearer", "Authorization", "Bearer ")]
    [InlineData("x-api-key", "x-api-key", "")]
    [InlineData("api-key", "api-key", "")]
    public async Task Should_put_the_key_in_the_named_auth_style(string style, string header, string prefix)
    {
        // Anthropic's own style is x-api-key, the OpenAI wire's is bearer: each style replaces the wire's.
        var wire = style == "x-api-key" ? WireCase.OpenAiCompletions : WireCase.AnthropicMessages;
        await using var gw = await wire.StartAsync(Request(wire, $"auth = {style}"));

        var reply = await gw.ChatAsync(wire.Model);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var sent = Assert.Single(gw.Fake.Requests);
        Assert.Equal(prefix + WireCase.KeyA, sent.Headers[header]);
        Assert.Equal(1, new[] { "Authorization", "x-api-key", "api-key" }.Count(sent.Headers.ContainsKey));
    }

    [Fact]
    public async Task Should_send_a_credential_header_as_written_with_auth_none()
    {
        var wire = WireCase.OpenAiCompletions;
        await using var gw = await wire.StartAsync(Request(wire, """auth = none, headers { Authorization = "Basic dXNlcjpwYXNz" }"""));

        var reply = await gw.ChatAsync(wire.Model);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("Basic dXNlcjpwYXNz", Assert.Single(gw.Fake.Requests).Headers["Authorization"]);
    }

    [Fact]
    public async Task Should_send_every_call_of_the_provider_through_its_proxy_and_no_other_provider()
    {
        await using var proxy = LoopbackProxy.Start();
        var fake = await FakeProvider.StartAsync();
        await using var gw = await GatewayHarness.StartAsync($$"""
            models { providers {
              viaproxy { baseUrl = "{fake-openai}", apiKey = "sk-proxied", api = "openai-completions", models = [{ id = "m" }], request { proxy = "{{proxy.Url}}" } }
              direct { baseUrl = "{fake-openai}", apiKey = "sk-direct", api = "openai-completions", models = [{ id = "m" }] }
            } }
            """, fake);

        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("viaproxy/m")).Status);
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("viaproxy/m", stream: true)).Status);
        Assert.Equal(HttpStatusCode.OK, (await gw.ChatAsync("direct/m")).Status);

        Assert.Equal(Enumerable.Repeat($"POST {fake.OpenAiBaseUrl}/chat/completions", 2), proxy.Targets);
        Assert.Equal(["sk-proxied", "sk-proxied", "sk-direct"], fake.Requests.Select(r => r.ApiKey));
    }

    [Fact]
    public async Task Should_trust_an_upstream_only_through_the_configured_ca_bundle()
    {
        using var pki = TestCertificates.Create();
        var fake = await FakeProvider.StartAsync(new FakeTls(pki));
        Assert.StartsWith("https://127.0.0.1:", fake.OpenAiBaseUrl, StringComparison.Ordinal);
        const string Provider = """tls1 { baseUrl = "{fake-openai}", apiKey = "sk-tls", api = "openai-completions", models = [{ id = "m" }] }""";

        await using (var untrusted = await GatewayHarness.StartAsync($"models.providers {{ {Provider} }}\n{ShortFailover}", fake))
        {
            var refused = await untrusted.ChatAsync("tls1/m");
            Assert.NotEqual(HttpStatusCode.OK, refused.Status);
            Assert.Empty(fake.Requests); // the handshake failed: nothing reached the upstream
            untrusted.KeepFake();
        }

        await using var trusted = await GatewayHarness.StartAsync(
            $"models.providers {{ {Provider} }}\nmodels.providers.tls1.request.tls.ca = \"{pki.CaFile}\"", fake);
        var reply = await trusted.ChatAsync("tls1/m");
        Assert.True(reply.Status == HttpStatusCode.OK, $"{(int)reply.Status}: {reply.Body}");
        Assert.Single(fake.Requests);
    }

    [Theory]
    [InlineData("pem")]
    [InlineData("pfx")]
    public async Task Should_present_the_configured_client_certificate_to_an_upstream_that_requires_one(string format)
    {
        using var pki = TestCertificates.Create();
        var fake = await FakeProvider.StartAsync(new FakeTls(pki, RequireClientCertificate: true));
        const string Provider = """mtls { baseUrl = "{fake-openai}", apiKey = "sk-mtls", api = "openai-completions", models = [{ id = "m" }] }""";
        var ca = $"models.providers.mtls.request.tls.ca = \"{pki.CaFile}\"";

        await using (var withoutCert = await GatewayHarness.StartAsync($"models.providers {{ {Provider} }}\n{ca}\n{ShortFailover}", fake))
        {
            Assert.NotEqual(HttpStatusCode.OK, (await withoutCert.ChatAsync("mtls/m")).Status);
            Assert.Empty(fake.Requests);
            withoutCert.KeepFake();
        }

        var cert = format == "pem"
            ? $"models.providers.mtls.request.tls {{ cert = \"{pki.ClientCertFile}\", key = \"{pki.ClientKeyFile}\", minVersion = \"1.2\" }}"
            : $"models.providers.mtls.request.tls {{ cert = \"{pki.ClientPfxFile}\", password = \"{TestCertificates.PfxPassword}\" }}";
        await using var withCert = await GatewayHarness.StartAsync($"models.providers {{ {Provider} }}\n{ca}\n{cert}", fake);
        var reply = await withCert.ChatAsync("mtls/m");
        Assert.True(reply.Status == HttpStatusCode.OK, $"{(int)reply.Status}: {reply.Body}");
        Assert.Single(fake.Requests);
    }
}
