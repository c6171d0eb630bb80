using System.Net;
using System.Security.Authentication;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.Transports;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Actors.Tests.Configuration;

/// <summary>
/// <c>models.providers.&lt;id&gt;.request</c>: every key is read (headers, auth styles, proxy, TLS files, private-network
/// guard), every bad value stops start-up naming its key path (never a failed request later), and a base URL in a private
/// network is refused at start-up only when the provider says <c>allowPrivateNetwork = false</c>.
/// </summary>
public sealed class ProviderRequestSettingsSpecs
{
    private static ProviderRequestSettings Read(string request) =>
        DurarSettingsLoader.Load(DurarSettingsLoader.FromText(
            $$"""models.providers.p { baseUrl = "https://llm.example.com/v1", models = [{ id = "m" }], request { {{request}} } }"""))
            .Models.Providers["p"].Request;

    private static DurarConfigException Fail(string request, string baseUrl = "https://llm.example.com/v1", string api = "openai-completions") =>
        Assert.Throws<DurarConfigException>(() => new ServiceCollection().AddDurarCore(DurarSettingsLoader.FromText(
            $$"""models.providers.p { baseUrl = "{{baseUrl}}", api = "{{api}}", models = [{ id = "m" }], request { {{request}} } }""")));

    [Fact]
    public void Should_read_headers_auth_proxy_and_the_private_network_switch()
    {
        var r = Read("headers { X-Team = \"blue\" }\nauth = x-api-key, proxy = \"http://user:pa%40ss@proxy.internal:3128\", allowPrivateNetwork = false");

        Assert.Equal("blue", r.Headers["X-Team"]);
        Assert.Equal(new RequestAuthStyle("x-api-key", ""), r.Auth);
        Assert.Equal(new Uri("http://user:pa%40ss@proxy.internal:3128"), r.Proxy);
        Assert.False(r.AllowPrivateNetwork);
        Assert.True(r.NeedsOwnHandler);
    }

    [Theory]
    [InlineData("auth = bearer", "Authorization", "Bearer ")]
    [InlineData("auth = api-key", "api-key", "")]
    [InlineData("""auth { header = "X-Token", prefix = "Token " }""", "X-Token", "Token ")]
    [InlineData("auth = none", null, "")]
    public void Should_read_every_auth_style(string block, string? header, string prefix) =>
        Assert.Equal(new RequestAuthStyle(header, prefix), Read(block).Auth);

    [Fact]
    public void Should_stay_permissive_without_a_request_block()
    {
        var p = DurarSettingsLoader.Load(DurarSettingsLoader.FromText("""models.providers.p { baseUrl = "http://127.0.0.1:11434/v1", models = [{ id = "m" }] }"""))
            .Models.Providers["p"];

        Assert.Same(ProviderRequestSettings.None, p.Request);
        Assert.True(p.Request.AllowPrivateNetwork);
        Assert.False(p.Request.NeedsOwnHandler);
        new ServiceCollection().AddDurarCore(DurarSettingsLoader.FromText(
            """models.providers.p { baseUrl = "http://127.0.0.1:11434/v1", models = [{ id = "m" }] }""")); // no throw
    }

    [Theory]
    [InlineData("auth = digest", "models.providers.p.request.auth")]
    [InlineData("auth { prefix = \"x\" }", "models.providers.p.request.auth.header")]
    [InlineData("proxy = \"socks5://proxy:1080\"", "models.providers.p.request.proxy")]
    [InlineData("proxy = \"not a url\"", "models.providers.p.request.proxy")]
    [InlineData("headers { Authorization = \"Basic abc\" }", "models.providers.p.request.headers.Authorization")]
    [InlineData("headers { x-api-key = \"k\" }", "models.providers.p.request.headers.x-api-key")]
    [InlineData("tls { ca = \"/nonexistent/ca.pem\" }", "models.providers.p.request.tls.ca")]
    [InlineData("tls { cert = \"/nonexistent/client.pem\" }", "models.providers.p.request.tls.cert")]
    [InlineData("tls { key = \"/nonexistent/client.key\" }", "models.providers.p.request.tls.key")]
    [InlineData("tls { minVersion = \"1.1\" }", "models.providers.p.request.tls.minVersion")]
    [InlineData("allowPrivateNetwork = maybe", "models.providers.p.request.allowPrivateNetwork")]
    public void Should_refuse_a_bad_value_naming_its_key_path(string block, string path) =>
        Assert.Equal(path, Fail(block).Path);

    [Fact]
    public void Should_refuse_a_credential_header_that_repeats_a_custom_auth_header()
    {
        var e = Fail("auth { header = \"X-Key\" }\nheaders { x-key = \"literal\" }");

        Assert.Equal("models.providers.p.request.headers.x-key", e.Path);
    }

    [Fact]
    public void Should_refuse_an_auth_style_on_a_sigv4_wire() =>
        Assert.Equal("models.providers.p.request.auth", Fail("auth = bearer", "https://bedrock-runtime.us-east-1.amazonaws.com", "bedrock-converse-stream").Path);

    [Theory]
    [InlineData("http://127.0.0.1:11434/v1", "127.0.0.1")]
    [InlineData("http://10.1.2.3/v1", "10.1.2.3")]
    [InlineData("http://169.254.169.254/v1", "169.254.169.254")]
    [InlineData("http://[::1]:8080/v1", "::1")]
    public void Should_refuse_at_start_up_a_private_base_url_when_private_networks_are_not_allowed(string baseUrl, string address)
    {
        var e = Fail("allowPrivateNetwork = false", baseUrl);

        Assert.Equal("models.providers.p.request.allowPrivateNetwork", e.Path);
        Assert.Contains("resolves to " + address, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_read_the_tls_files_at_start_up()
    {
        using var pki = TestCertificates.Create();

        var pem = Read($$"""tls { ca = "{{pki.CaFile}}", cert = "{{pki.ClientCertFile}}", key = "{{pki.ClientKeyFile}}", minVersion = "1.3" }""").Tls!;
        var pfx = Read($$"""tls { cert = "{{pki.ClientPfxFile}}", password = "{{TestCertificates.PfxPassword}}" }""").Tls!;

        Assert.Equal(pki.Ca.Thumbprint, Assert.Single(pem.Ca!).Thumbprint);
        Assert.Equal(pki.Client.Thumbprint, pem.ClientCertificate!.Thumbprint);
        Assert.True(pem.ClientCertificate.HasPrivateKey);
        Assert.Equal(SslProtocols.Tls13, pem.Protocols);
        Assert.Equal(pki.Client.Thumbprint, pfx.ClientCertificate!.Thumbprint);
        Assert.Equal("models.providers.p.request.tls.cert",
            Fail($$"""tls { cert = "{{pki.ClientPfxFile}}", password = "wrong" }""").Path);
        Assert.Equal("models.providers.p.request.tls.cert", Fail($$"""tls { cert = "{{pki.ClientCertFile}}" }""").Path); // no key anywhere
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.0.0.1", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.1.1", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("169.254.1.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("2606:4700::1111", false)]
    public void Should_tell_private_addresses_from_public_ones(string address, bool isPrivate) =>
        Assert.Equal(isPrivate, ProviderConnections.IsPrivate(IPAddress.Parse(address)));
}
