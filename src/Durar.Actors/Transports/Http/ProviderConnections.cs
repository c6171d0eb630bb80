using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Durar.Actors.Transports;

/// <summary>
/// Applies <c>models.providers.&lt;id&gt;.request</c> on every wire: a provider with a proxy, TLS options or
/// <c>allowPrivateNetwork = false</c> gets its own named upstream client (<see cref="ClientName"/>, registered by
/// <see cref="AddProviderHttpClients"/> with a handler built by <see cref="CreateHandler"/>); the credential's header style
/// and the extra headers are applied to each request by <see cref="ApplyHeaders"/>; <see cref="Validate"/> refuses at
/// start-up what would otherwise fail every request (a base URL in a private network the provider may not reach).
/// Providers without such options share <see cref="UpstreamHttp.ClientName"/>.
/// </summary>
internal static class ProviderConnections
{
    /// <summary>The named upstream client of <paramref name="provider"/>: its own when its request options need a handler, else the shared one.</summary>
    public static string ClientName(ProviderDefinition provider) =>
        provider.Request.NeedsOwnHandler ? UpstreamHttp.ClientName + ":" + provider.Id : UpstreamHttp.ClientName;

    /// <summary>Registers a named client per provider whose <c>request</c> options need their own handler.</summary>
    public static IServiceCollection AddProviderHttpClients(this IServiceCollection services, ProviderCatalog catalog, UpstreamSettings settings)
    {
        foreach (var provider in catalog.Providers.Values)
        {
            if (!provider.Request.NeedsOwnHandler) continue;
            var request = provider.Request;
            services.AddHttpClient(ClientName(provider), c => c.Timeout = Timeout.InfiniteTimeSpan)
                .ConfigurePrimaryHttpMessageHandler(() => CreateHandler(settings, request))
                .RemoveAllLoggers()
                .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        }
        return services;
    }

    /// <summary>The shared upstream handler (<see cref="UpstreamHttp.CreateHandler"/>) with the provider's proxy, TLS and private-network guard.</summary>
    public static SocketsHttpHandler CreateHandler(UpstreamSettings settings, ProviderRequestSettings request)
    {
        var handler = UpstreamHttp.CreateHandler(settings);
        if (request.Proxy is { } proxy)
        {
            handler.Proxy = new FixedProxy(proxy);
            handler.UseProxy = true;
        }
        if (request.Tls is { } tls)
        {
            if (tls.Protocols is { } protocols) handler.SslOptions.EnabledSslProtocols = protocols;
            if (tls.ClientCertificate is { } cert)
            {
                handler.SslOptions.ClientCertificates = new X509CertificateCollection { cert };
                handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => cert;
            }
            if (tls.Ca is { } ca) handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => ChainsTo(ca, certificate, chain, errors);
        }
        // Behind a proxy the socket goes to the proxy (often a private address by design); the base URL was checked at start-up.
        if (!request.AllowPrivateNetwork && request.Proxy is null) handler.ConnectCallback = ConnectPublicOnlyAsync;
        return handler;
    }

    /// <summary>
    /// The upstream's certificate is valid for its host name and its chain leads to one of <paramref name="ca"/> (the bundle
    /// replaces the system's roots for this provider, as curl's <c>--cacert</c> does).
    /// </summary>
    private static bool ChainsTo(X509Certificate2Collection ca, X509Certificate? certificate, X509Chain? sent, SslPolicyErrors errors)
    {
        if (certificate is not X509Certificate2 leaf
            || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (sent is not null)
            foreach (var element in sent.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate); // the server's intermediates
        return chain.Build(leaf);
    }

    /// <summary>Connects only to public addresses: the DNS answer is checked when the socket opens, so a rebinding host cannot slip in later.</summary>
    private static async ValueTask<Stream> ConnectPublicOnlyAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);
        if (addresses.FirstOrDefault(IsPrivate) is { } inside)
            throw new HttpRequestException(HttpRequestError.ConnectionError,
                $"{host} resolves to {inside}, a private/loopback/link-local address, and the provider's request.allowPrivateNetwork is false");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Refuses at start-up a provider with <c>request.allowPrivateNetwork = false</c> whose base URL resolves to a private,
    /// loopback or link-local address, and a <c>request.auth</c> style on Bedrock's wire (its credential is a SigV4 signing key: never put in a header).
    /// </summary>
    /// <exception cref="DurarConfigException">Names <c>models.providers.&lt;id&gt;.request.*</c> and the offending address.</exception>
    public static void Validate(ProviderCatalog catalog)
    {
        foreach (var provider in catalog.Providers.Values)
        {
            var path = $"models.providers.{provider.Id}.request";
            if (provider.Request.Auth is not null && provider.Api == ApiKinds.BedrockConverseStream)
                throw new DurarConfigException(path + ".auth",
                    "bedrock-converse-stream signs its requests with AWS SigV4 (or sends a Bedrock API key as a bearer token): an auth header style does not apply (remove request.auth)");
            if (provider.Request.AllowPrivateNetwork || provider.BaseUrl is null || !Uri.TryCreate(provider.BaseUrl, UriKind.Absolute, out var uri)) continue;
            IPAddress[] addresses;
            try
            {
                addresses = IPAddress.TryParse(uri.IdnHost, out var literal) ? [literal] : Dns.GetHostAddresses(uri.IdnHost);
            }
            catch (SocketException)
            {
                continue; // not resolvable now: each connection is checked when it opens (ConnectPublicOnlyAsync)
            }
            if (addresses.FirstOrDefault(IsPrivate) is { } inside)
                throw new DurarConfigException(path + ".allowPrivateNetwork",
                    $"baseUrl {provider.BaseUrl} resolves to {inside}, a private/loopback/link-local address; set request.allowPrivateNetwork = true to allow it");
        }
    }

    /// <summary>Loopback, RFC 1918, carrier-grade NAT, link-local, unspecified, IPv6 unique-local and site-local addresses.</summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal;
        var b = address.GetAddressBytes();
        return b[0] == 10 || b[0] == 0 || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] is >= 64 and <= 127);
    }

    /// <summary>
    /// The provider's credential in its <c>request.auth</c> style (replacing the wire's), then its <c>request.headers</c>
    /// (replacing a wire header of the same name; credential headers are refused at start-up unless auth is <c>none</c>).
    /// </summary>
    /// <returns>False when the provider has no <c>request.auth</c>: the wire adds its own credential header.</returns>
    public static bool ApplyAuth(HttpRequestHeaders headers, ProviderDefinition provider, string? credential)
    {
        if (provider.Request.Auth is not { } auth) return false;
        if (auth.Header is { } name && credential is { Length: > 0 }) headers.TryAddWithoutValidation(name, auth.Prefix + credential);
        return true;
    }

    /// <inheritdoc cref="ApplyAuth"/>
    public static void ApplyHeaders(HttpRequestHeaders headers, ProviderDefinition provider)
    {
        foreach (var (name, value) in provider.Request.Headers)
        {
            headers.Remove(name);
            headers.TryAddWithoutValidation(name, value);
        }
    }

    /// <summary>One proxy for every destination: no bypass (a loopback upstream goes through it too), credentials from the URL.</summary>
    private sealed class FixedProxy(Uri proxy) : IWebProxy
    {
        private readonly Uri _address = new(proxy.GetLeftPart(UriPartial.Authority));

        public ICredentials? Credentials { get; set; } = proxy.UserInfo is { Length: > 0 } info
            ? new NetworkCredential(Uri.UnescapeDataString(info.Split(':')[0]), Uri.UnescapeDataString(info.Split(':', 2) is [_, var p] ? p : ""))
            : null;

        public Uri GetProxy(Uri destination) => _address;

        public bool IsBypassed(Uri host) => false;
    }
}
