using Microsoft.AspNetCore.DataProtection;

namespace Durar.Actors.AuthProfiles;

/// <summary>
/// Encrypts secrets before they enter a persisted event, so the journal and the database file never hold a key or token
/// in plain text. <see cref="Unprotect(string, string)"/> reverses <see cref="Protect(string, string)"/> with the same key ring. Two implementations:
/// <see cref="AesGcmSecretProtector"/> (one key shared by every node, <c>gateway.secrets.key</c>) and
/// <see cref="DataProtectionSecretProtector"/> (a key ring per data directory; one node).
/// </summary>
public interface ISecretProtector
{
    string Protect(string plaintext);

    /// <exception cref="System.Security.Cryptography.CryptographicException">The ciphertext is corrupt or its key is gone.</exception>
    string Unprotect(string protectedText);

    /// <summary>
    /// Encrypts <paramref name="plaintext"/> bound to <paramref name="binding"/> (which profile, which field: see
    /// <see cref="SecretBinding"/>): the ciphertext decrypts only with the same binding, so a ciphertext copied into another
    /// profile or field of the store never decrypts there. A protector that cannot bind encrypts unbound (the default).
    /// </summary>
    string Protect(string plaintext, string binding) => Protect(plaintext);

    /// <summary>Decrypts what <see cref="Protect(string, string)"/> wrote with the same <paramref name="binding"/> (and unbound ciphertext of older stores).</summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">Corrupt, its key is gone, or bound to something else.</exception>
    string Unprotect(string protectedText, string binding) => Unprotect(protectedText);
}

/// <summary>What a stored secret is bound to: its auth profile and field (<c>key</c>, <c>token</c>, <c>access</c>, <c>refresh</c>).</summary>
public static class SecretBinding
{
    /// <summary>The binding of <paramref name="field"/> of auth profile <paramref name="profileId"/> (the field is the part after the last colon).</summary>
    public static string Of(string profileId, string field) => $"auth-profile:{profileId}:{field}";
}

/// <summary>
/// <see cref="ISecretProtector"/> on ASP.NET Core Data Protection (authenticated encryption, key rotation every 90 days with
/// old keys kept for decryption). The key ring lives in <c>&lt;dataDir&gt;/keys</c> (application name "Durar"), next to but
/// apart from the database: a copy of the database alone reveals no secret.
/// </summary>
/// <remarks>
/// On Linux and macOS Data Protection stores the key ring unencrypted (it warns about it once at start): protect the data
/// directory's <c>keys</c> folder with file permissions, or configure a key encryptor on the <see cref="IDataProtectionBuilder"/>.
/// </remarks>
internal sealed class DataProtectionSecretProtector(IDataProtectionProvider provider) : ISecretProtector
{
    /// <summary>The Data Protection application name: every Durar node sharing a key ring must use it.</summary>
    public const string ApplicationName = "Durar";

    /// <summary>The folder under the data directory that holds the key ring.</summary>
    public const string KeysFolder = "keys";

    /// <summary>The purpose string: ciphertext made for another purpose (or application) never decrypts here.</summary>
    public const string Purpose = "Durar.AuthProfiles.v1";

    private readonly IDataProtector _protector = provider.CreateProtector(Purpose);

    /// <summary>A protector with its key ring in <c>&lt;dataDir&gt;/keys</c>, without dependency injection (tests, tools).</summary>
    public static DataProtectionSecretProtector ForDataDirectory(string dataDir) =>
        new(DataProtectionProvider.Create(new DirectoryInfo(Path.Combine(Path.GetFullPath(dataDir), KeysFolder)),
            builder => builder.SetApplicationName(ApplicationName)));

    /// <summary>Marks ciphertext bound to a <see cref="SecretBinding"/> (a sub-purpose); unmarked ciphertext is unbound (older stores).</summary>
    public const string BoundPrefix = "dp.v2:";

    public string Protect(string plaintext) => _protector.Protect(plaintext);

    public string Unprotect(string protectedText) =>
        protectedText.StartsWith(BoundPrefix, StringComparison.Ordinal)
            ? throw new System.Security.Cryptography.CryptographicException("The secret is bound to a profile and field: decrypt it with its binding.")
            : _protector.Unprotect(protectedText);

    public string Protect(string plaintext, string binding) => BoundPrefix + _protector.CreateProtector(binding).Protect(plaintext);

    public string Unprotect(string protectedText, string binding) =>
        protectedText.StartsWith(BoundPrefix, StringComparison.Ordinal)
            ? _protector.CreateProtector(binding).Unprotect(protectedText[BoundPrefix.Length..])
            : _protector.Unprotect(protectedText);
}
