using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Durar.Testing;

/// <summary>
/// A throw-away PKI made in the test (no file shipped, no system store touched): a self-signed CA, a server certificate it
/// issued for 127.0.0.1/localhost, and a client certificate it issued, written as PEM (and the client also as PFX) into a
/// temporary folder so a gateway config can name them like an operator's files.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private TestCertificates(string dir, X509Certificate2 ca, X509Certificate2 server, X509Certificate2 client)
    {
        Directory = dir;
        Ca = ca;
        Server = server;
        Client = client;
    }

    public string Directory { get; }
    public X509Certificate2 Ca { get; }
    public X509Certificate2 Server { get; }
    public X509Certificate2 Client { get; }

    /// <summary>The CA certificate as PEM (the bundle a provider's <c>request.tls.ca</c> names).</summary>
    public string CaFile => Path.Combine(Directory, "ca.pem");
    public string ClientCertFile => Path.Combine(Directory, "client.pem");
    public string ClientKeyFile => Path.Combine(Directory, "client.key");
    public string ClientPfxFile => Path.Combine(Directory, "client.pfx");
    public const string PfxPassword = "pfx-pass";

    public static TestCertificates Create()
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("durar-pki-").FullName;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Durar Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        var server = Issue(ca, "CN=127.0.0.1", now, serverAuth: true);
        var client = Issue(ca, "CN=durar-gateway", now, serverAuth: false);

        File.WriteAllText(Path.Combine(dir, "ca.pem"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "client.pem"), client.ExportCertificatePem());
        using (var key = client.GetECDsaPrivateKey()!)
            File.WriteAllText(Path.Combine(dir, "client.key"), key.ExportPkcs8PrivateKeyPem());
        File.WriteAllBytes(Path.Combine(dir, "client.pfx"), client.Export(X509ContentType.Pfx, PfxPassword));
        return new TestCertificates(dir, ca, server, client);
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject, DateTimeOffset now, bool serverAuth)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (serverAuth)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
        }
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var issued = request.Create(ca, now.AddMinutes(-5), now.AddHours(12), serial);
        // With its private key, and as a PFX round trip so Kestrel/SslStream can use the key on every platform.
        return X509CertificateLoader.LoadPkcs12(issued.CopyWithPrivateKey(key).Export(X509ContentType.Pfx), null);
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>HTTPS for <see cref="FakeProvider"/>: the server certificate, and whether a client certificate issued by the test CA is required.</summary>
public sealed record FakeTls(TestCertificates Certificates, bool RequireClientCertificate = false)
{
    internal void Configure(HttpsConnectionAdapterOptions https)
    {
        https.ServerCertificate = Certificates.Server;
        if (!RequireClientCertificate) return;
        https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
        https.ClientCertificateValidation = (certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(Certificates.Ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate);
        };
    }
}
