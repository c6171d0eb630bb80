using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Durar.Actors.ClientTokens;

/// <summary>
/// The shape of a client token's secret: <c>sk-durar-&lt;id&gt;_&lt;43 characters of base64url&gt;</c>, 256 random bits after
/// a 64-bit id. The id inside tells the gateway which token actor to ask without any index; only the SHA-256 of the whole
/// secret is ever stored (a fast hash is enough for 256 random bits: there is nothing to guess), and the secret is shown once.
/// </summary>
internal static class ClientTokenSecrets
{
    public const string Prefix = "sk-durar-";
    private const int IdLength = 16;
    private const int SecretBytes = 32;
    private const int SecretChars = 43;

    /// <summary>A fresh token id (16 lowercase hex digits).</summary>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdLength / 2));

    /// <summary>A fresh secret for the token <paramref name="id"/>.</summary>
    public static string NewSecret(string id) =>
        Prefix + id + "_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Whether <paramref name="id"/> is a token id as <see cref="NewId"/> makes them.</summary>
    public static bool IsId(string? id) => id is { Length: IdLength } && id.All(char.IsAsciiHexDigitLower);

    /// <summary>The token id inside a presented secret, when it has the shape of one.</summary>
    public static bool TryParse(string? presented, [NotNullWhen(true)] out string? id)
    {
        id = null;
        if (presented is null || presented.Length != Prefix.Length + IdLength + 1 + SecretChars
            || !presented.StartsWith(Prefix, StringComparison.Ordinal) || presented[Prefix.Length + IdLength] != '_') return false;
        var candidate = presented.Substring(Prefix.Length, IdLength);
        if (!IsId(candidate)) return false;
        id = candidate;
        return true;
    }

    /// <summary>The stored form of a secret: its SHA-256, lowercase hex.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Compares two hashes in constant time.</summary>
    public static bool SameHash(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));
}
