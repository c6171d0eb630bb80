using System.Collections.Immutable;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration.Hocon;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// <c>models.providers.&lt;id&gt;.request</c>: how the gateway reaches one provider on the network, beside what it sends
/// (extra headers and the credential's header style) — an HTTP(S) proxy, TLS trust and client certificate, and whether the
/// base URL may point into a private network. Every file it names is read here, at start-up, so a missing CA bundle or an
/// unreadable certificate is a config error naming its key, never a failed request later.
/// </summary>
public sealed record ProviderRequestSettings
{
    /// <summary>No <c>request</c> block: the wire's own auth header, no proxy, the system's trust store, private networks allowed.</summary>
    public static readonly ProviderRequestSettings None = new();

    /// <summary><c>request.headers</c>: sent on every upstream call of the provider, replacing a wire header of the same name.</summary>
    public ImmutableDictionary<string, string> Headers { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary><c>request.auth</c>: the header that carries the credential; null = the wire's own style.</summary>
    public RequestAuthStyle? Auth { get; init; }

    /// <summary><c>request.proxy</c>: the forward proxy every call of the provider goes through (user:password in the URL = proxy credentials).</summary>
    public Uri? Proxy { get; init; }

    /// <summary><c>request.tls</c>; null = the system's defaults.</summary>
    public ProviderTlsSettings? Tls { get; init; }

    /// <summary><c>request.allowPrivateNetwork</c>: false refuses a base URL (and any connection) resolving to a private, loopback or link-local address.</summary>
    public bool AllowPrivateNetwork { get; init; } = true;

    /// <summary>True when the provider needs an HTTP handler of its own (proxy, TLS or the private-network guard).</summary>
    public bool NeedsOwnHandler => Proxy is not null || Tls is not null || !AllowPrivateNetwork;

    /// <summary>The header names that carry a credential: <c>request.headers</c> may set them only with <c>request.auth = none</c>.</summary>
    public static readonly ImmutableHashSet<string> CredentialHeaders =
        ImmutableHashSet.Create(StringComparer.OrdinalIgnoreCase, "authorization", "x-api-key", "api-key", "x-goog-api-key");

    /// <summary>Reads <c>request</c> of the provider at <paramref name="path"/>; null provider block or no <c>request</c> = <see cref="None"/>.</summary>
    /// <exception cref="DurarConfigException">A value is malformed or a file it names cannot be read; the message names the key path.</exception>
    public static ProviderRequestSettings Read(HoconValue? provider, string path)
    {
        var request = Child(provider, "request");
        if (request is null) return None;
        path = Join(path, "request");
        if (!request.IsObject()) throw new DurarConfigException(path, "expected an object { headers, auth, proxy, tls, allowPrivateNetwork }");
        var auth = ReadAuth(request, path);
        var headers = StringMap(request, "headers", path);
        foreach (var name in headers.Keys)
        {
            if (auth is { Header: null }) break; // auth = none: the configured headers carry the credential
            if (CredentialHeaders.Contains(name) || (auth?.Header is { } h && string.Equals(h, name, StringComparison.OrdinalIgnoreCase)))
                throw new DurarConfigException(Join(Join(path, "headers"), name),
                    $"\"{name}\" carries the provider's credential and would be overridden by it; set request.auth = none to send it as written");
        }
        return new ProviderRequestSettings
        {
            Headers = headers,
            Auth = auth,
            Proxy = ReadProxy(request, path),
            Tls = ProviderTlsSettings.Read(Child(request, "tls"), Join(path, "tls")),
            AllowPrivateNetwork = Bool(request, "allowPrivateNetwork", path) ?? true,
        };
    }

    private static RequestAuthStyle? ReadAuth(HoconValue request, string path)
    {
        var value = Child(request, "auth");
        if (value is null) return null;
        var at = Join(path, "auth");
        if (value.IsObject())
        {
            var header = String(value, "header", at);
            if (string.IsNullOrWhiteSpace(header)) throw new DurarConfigException(Join(at, "header"), "a custom auth style needs the header name, e.g. { header = \"X-Api-Token\" }");
            if (header.Any(c => c <= ' ' || c >= 127 || c == ':'))
                throw new DurarConfigException(Join(at, "header"), $"\"{header}\" is not a valid header name");
            // The prefix is a scheme word ("Token"): one space separates it from the credential.
            return new RequestAuthStyle(header, String(value, "prefix", at) is { } prefix && prefix.Trim().Length > 0 ? prefix.Trim() + " " : "");
        }
        return String(request, "auth", path) switch
        {
            "bearer" => RequestAuthStyle.Bearer,
            "x-api-key" => new RequestAuthStyle("x-api-key", ""),
            "api-key" => new RequestAuthStyle("api-key", ""),
            "none" => RequestAuthStyle.None,
            var other => throw new DurarConfigException(at,
                $"unknown auth style \"{other}\" (expected bearer, x-api-key, api-key, none, or {{ header = \"Name\", prefix = \"\" }})"),
        };
    }

    private static Uri? ReadProxy(HoconValue request, string path)
    {
        var proxy = String(request, "proxy", path);
        if (string.IsNullOrWhiteSpace(proxy)) return null;
        if (!Uri.TryCreate(proxy, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https") || uri.Host.Length == 0)
            throw new DurarConfigException(Join(path, "proxy"), $"\"{proxy}\" is not an http(s) proxy URL (e.g. http://proxy.internal:3128)");
        return uri;
    }
}

/// <summary>
/// The header a provider's credential goes in (<c>request.auth</c>): <see cref="Header"/> with <see cref="Prefix"/> (a scheme
/// word and one space, or empty) before the credential; a null header sends no credential (the configured headers carry it).
/// </summary>
public sealed record RequestAuthStyle(string? Header, string Prefix)
{
    public static readonly RequestAuthStyle Bearer = new("Authorization", "Bearer ");
    public static readonly RequestAuthStyle None = new(null, "");
}

/// <summary>
/// <c>models.providers.&lt;id&gt;.request.tls</c>, loaded: the CA bundle the upstream's chain must lead to (instead of the
/// system's roots), the client certificate for mutual TLS, and the lowest TLS version accepted.
/// </summary>
public sealed record ProviderTlsSettings(X509Certificate2Collection? Ca, X509Certificate2? ClientCertificate, SslProtocols? Protocols)
{
    internal static ProviderTlsSettings? Read(HoconValue? tls, string path)
    {
        if (tls is null) return null;
        if (!tls.IsObject()) throw new DurarConfigException(path, "expected an object { ca, cert, key, password, minVersion }");
        var ca = String(tls, "ca", path) is { Length: > 0 } caPath ? LoadCa(caPath, Join(path, "ca")) : null;
        var certPath = String(tls, "cert", path);
        var keyPath = String(tls, "key", path);
        var password = String(tls, "password", path);
        if (string.IsNullOrEmpty(certPath) && !string.IsNullOrEmpty(keyPath))
            throw new DurarConfigException(Join(path, "key"), "a client key needs its certificate (request.tls.cert)");
        var cert = string.IsNullOrEmpty(certPath) ? null : LoadClientCertificate(certPath, keyPath, password, Join(path, "cert"));
        SslProtocols? protocols = String(tls, "minVersion", path) switch
        {
            null or "" => null,
            "1.2" => SslProtocols.Tls12 | SslProtocols.Tls13,
            "1.3" => SslProtocols.Tls13,
            var other => throw new DurarConfigException(Join(path, "minVersion"), $"unknown TLS version \"{other}\" (expected 1.2 or 1.3)"),
        };
        return ca is null && cert is null && protocols is null ? null : new ProviderTlsSettings(ca, cert, protocols);
    }

    private static X509Certificate2Collection LoadCa(string file, string path)
    {
        var bundle = new X509Certificate2Collection();
        try
        {
            bundle.ImportFromPemFile(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new DurarConfigException(path, $"cannot read the CA bundle \"{file}\": {e.Message}");
        }
        if (bundle.Count == 0) throw new DurarConfigException(path, $"\"{file}\" holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        return bundle;
    }

    /// <summary>A PFX/PKCS#12 file (with its password), or a PEM certificate with its key in <paramref name="keyFile"/> or in the same file.</summary>
    private static X509Certificate2 LoadClientCertificate(string file, string? keyFile, string? password, string path)
    {
        X509Certificate2 cert;
        try
        {
            cert = file.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".p12", StringComparison.OrdinalIgnoreCase)
                ? X509CertificateLoader.LoadPkcs12FromFile(file, password)
                : X509Certificate2.CreateFromPemFile(file, string.IsNullOrEmpty(keyFile) ? null : keyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new DurarConfigException(path, $"cannot read the client certificate \"{file}\"{(string.IsNullOrEmpty(keyFile) ? "" : $" with key \"{keyFile}\"")}: {e.Message}");
        }
        if (!cert.HasPrivateKey) throw new DurarConfigException(path, $"the client certificate \"{file}\" has no private key (request.tls.key)");
        return cert;
    }
}
