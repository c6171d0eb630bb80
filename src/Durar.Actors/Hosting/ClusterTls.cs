using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Hosting;
using Akka.Remote.Transport.DotNetty;
using Durar.Actors.Configuration;

namespace Durar.Actors.Hosting;

/// <summary>
/// TLS for Akka remoting from <c>gateway.cluster.tls</c>: DotNetty's SSL switch, mutual authentication and the node's
/// certificate (loaded here so a wrong path or password is a start-up error naming the key), and how a peer's
/// certificate is checked. Session turns and the key protocol cross remoting, so a cluster across machines is encrypted.
/// </summary>
internal static class ClusterTls
{
    private const string Plain = "akka.tcp://";
    private const string Secure = "akka.ssl.tcp://";

    /// <summary>Configures <paramref name="builder"/>'s remoting for <paramref name="tls"/> (nothing when it is off).</summary>
    /// <exception cref="DurarConfigException">The certificate cannot be read, or has no private key.</exception>
    public static void Apply(AkkaConfigurationBuilder builder, ClusterTlsSettings tls)
    {
        if (!tls.Enabled) return;
        var certificate = Load(tls);
        var suppress = tls.Validation == ClusterTlsSettings.None;
        CertificateValidationCallback? validator = tls.Validation == ClusterTlsSettings.Pinned
            ? CertificateValidation.PinnedCertificate([certificate.Thumbprint, .. tls.TrustedThumbprints])
            : null;
        builder.AddHocon($"""
            akka.remote.dot-netty.tcp {"{"}
              enable-ssl = true
              ssl {"{"}
                suppress-validation = {(suppress ? "true" : "false")}
                require-mutual-authentication = true
              {"}"}
            {"}"}
            """, HoconAddMode.Prepend);
        builder.AddSetup(new DotNettySslSetup(certificate, suppress, requireMutualAuthentication: true, validator));
    }

    /// <summary>
    /// A seed address with the protocol the node speaks: <c>akka.ssl.tcp</c> under TLS, <c>akka.tcp</c> without, whichever
    /// of the two the operator wrote (an address with the other protocol would never be answered).
    /// </summary>
    public static string SeedFor(string seed, bool tls)
    {
        if (tls && seed.StartsWith(Plain, StringComparison.Ordinal)) return Secure + seed[Plain.Length..];
        if (!tls && seed.StartsWith(Secure, StringComparison.Ordinal)) return Plain + seed[Secure.Length..];
        return seed;
    }

    private static X509Certificate2 Load(ClusterTlsSettings tls)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(tls.CertificatePath!, tls.Password.Length == 0 ? null : tls.Password);
        }
        catch (CryptographicException e)
        {
            throw new DurarConfigException("gateway.cluster.tls.certificate",
                $"\"{tls.CertificatePath}\" cannot be read as a PKCS#12 (.pfx) file with gateway.cluster.tls.password ({e.Message})");
        }
        if (!certificate.HasPrivateKey)
            throw new DurarConfigException("gateway.cluster.tls.certificate",
                $"\"{tls.CertificatePath}\" holds no private key (export it with the key: openssl pkcs12 -export -inkey ... -in ...)");
        return certificate;
    }
}
