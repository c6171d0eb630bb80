using System.Net;
using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// <c>gateway.cluster.tls</c>: TLS for Akka remoting between gateway nodes. Nodes exchange session turns (whole requests)
/// and key protocol messages over remoting, so a cluster that spans machines must not send them in clear text; this is
/// on by default as soon as <c>gateway.cluster.hostname</c> is not a loopback address, and then a certificate is required.
/// </summary>
/// <param name="Enabled">The resolved switch (<c>auto</c> resolved against the hostname).</param>
/// <param name="CertificatePath">A PKCS#12 (<c>.pfx</c>) file with the node's certificate and private key; null when off.</param>
/// <param name="Password">The PKCS#12 file's password; empty when it has none.</param>
/// <param name="Validation">
/// How a peer's certificate is checked: <see cref="Pinned"/> (it must be this node's own certificate or one of
/// <see cref="TrustedThumbprints"/>: one self-signed cluster certificate shared by every node), <see cref="Chain"/> (the
/// operating system's trust store validates its chain: certificates from a CA), or <see cref="None"/> (no check: tests only).
/// </param>
/// <param name="TrustedThumbprints">More SHA-1 thumbprints a pinned peer may present (a certificate being rotated in).</param>
public sealed record ClusterTlsSettings(bool Enabled, string? CertificatePath, string Password, string Validation,
    IReadOnlyList<string> TrustedThumbprints)
{
    /// <summary>The peer must present a certificate this node pins (its own, or a trusted thumbprint).</summary>
    public const string Pinned = "pinned";

    /// <summary>The peer's certificate chain must validate against the trust store.</summary>
    public const string Chain = "chain";

    /// <summary>No check of the peer's certificate (encryption without authentication; for tests).</summary>
    public const string None = "none";

    private const string Path = "gateway.cluster.tls";

    /// <summary>Reads and checks <c>gateway.cluster.tls</c>; <paramref name="hostname"/> is <c>gateway.cluster.hostname</c>.</summary>
    /// <exception cref="DurarConfigException">
    /// A value is malformed, or TLS is on with no certificate (the message says how to make one).
    /// </exception>
    public static ClusterTlsSettings Read(Config config, string hostname)
    {
        var mode = RequiredOneOf(config, $"{Path}.enabled", "auto", "on", "off", "true", "false", "yes", "no");
        var enabled = mode switch
        {
            "auto" => !IsLoopback(hostname),
            "on" or "true" or "yes" => true,
            _ => false,
        };
        var validation = RequiredOneOf(config, $"{Path}.validation", Pinned, Chain, None);
        var thumbprints = StringList(Child(Child(Child(config.Root, "gateway"), "cluster"), "tls"), "trustedThumbprints", Path)
            .Select(t => t.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant())
            .ToArray();
        var certificate = RequiredString(config, $"{Path}.certificate").Trim();
        var password = RequiredString(config, $"{Path}.password");
        if (!enabled) return new ClusterTlsSettings(false, null, password, validation, thumbprints);
        if (certificate.Length == 0)
            throw new DurarConfigException($"{Path}.certificate",
                (mode == "auto" ? $"TLS for cluster remoting is on because gateway.cluster.hostname \"{hostname}\" is not a loopback address, "
                    : "TLS for cluster remoting is on, ")
                + "but no certificate is set: create one for every node (openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj /CN=durar-cluster "
                + "-keyout cluster.key -out cluster.crt && openssl pkcs12 -export -inkey cluster.key -in cluster.crt -out cluster.pfx -passout pass:$PW) "
                + "and set gateway.cluster.tls.certificate = \"/path/cluster.pfx\" and .password (see README, Cluster)");
        if (!File.Exists(certificate))
            throw new DurarConfigException($"{Path}.certificate", $"\"{certificate}\" does not exist");
        return new ClusterTlsSettings(true, certificate, password, validation, thumbprints);
    }

    /// <summary>True for <c>localhost</c> and loopback IP addresses (the only hosts no other machine can reach).</summary>
    public static bool IsLoopback(string hostname) =>
        hostname.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(hostname.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>The password as written, masked in <see cref="ToString"/> (a settings record may be logged).</summary>
    public override string ToString() =>
        $"ClusterTlsSettings {{ Enabled = {Enabled}, CertificatePath = {CertificatePath}, Password = {(Password.Length == 0 ? "" : "***")}, Validation = {Validation} }}";
}
