using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Durar.Testing;

/// <summary>
/// A self-signed certificate written as a password-protected PKCS#12 file, made with <see cref="CertificateRequest"/>:
/// what an operator makes with openssl for cluster TLS, without openssl in the tests.
/// </summary>
public static class SelfSignedCertificate
{
    /// <summary>Writes a new certificate for <paramref name="subject"/> with its key to a temporary .pfx; returns its path and thumbprint.</summary>
    public static (string Path, string Thumbprint) WritePfx(string password, string subject = "CN=durar-cluster")
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client authentication (mutual TLS)
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var path = System.IO.Path.Combine(Directory.CreateTempSubdirectory("durar-tls-").FullName, "cluster.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        return (path, certificate.Thumbprint);
    }
}
