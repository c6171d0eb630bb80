using System.Security.Cryptography;
using System.Text;

namespace Durar.Actors.AuthProfiles;

/// <summary>
/// <see cref="ISecretProtector"/> with one explicit 256-bit key shared by every node (<c>gateway.secrets.key</c> or
/// <c>DURAR_SECRETS_KEY</c>): what one node of a cluster encrypts, every other node decrypts, whatever its data directory.
/// AES-GCM (authenticated: a modified ciphertext never decrypts), a random 96-bit nonce per secret.
/// </summary>
/// <remarks>
/// Ciphertext: <see cref="BoundPrefix"/> (or, unbound, <see cref="Prefix"/>) + base64(key id (4 bytes) | nonce (12) | tag (16) |
/// ciphertext). Bound ciphertext's associated data holds the <see cref="SecretBinding"/> (profile id and field) after the
/// purpose, so a ciphertext moved to another profile or field fails authentication. The key id (the first
/// four bytes of a SHA-256 of the key) tells a wrong key apart from a corrupt ciphertext. The prefix cannot occur in Data
/// Protection output (base64url, no <c>:</c>), so a store written before the key was set still decrypts through
/// the legacy protector (the Data Protection key ring in the data directory), chosen per secret by its prefix.
/// </remarks>
internal sealed class AesGcmSecretProtector : ISecretProtector
{
    /// <summary>Marks (and versions) this protector's unbound ciphertext (stores written before secrets were bound).</summary>
    public const string Prefix = "aesgcm.v1:";

    /// <summary>Marks ciphertext bound to a <see cref="SecretBinding"/>.</summary>
    public const string BoundPrefix = "aesgcm.v2:";

    /// <summary>Bytes of a key: AES-256.</summary>
    public const int KeySize = 32;

    private const int KeyIdSize = 4;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HeaderSize = KeyIdSize + NonceSize + TagSize;

    /// <summary>Associated data: ciphertext made for another purpose never decrypts here (as Data Protection's purpose string).</summary>
    private static readonly byte[] Purpose = Encoding.UTF8.GetBytes(DataProtectionSecretProtector.Purpose);

    private readonly byte[] _key;
    private readonly byte[] _keyId;
    private readonly Lazy<ISecretProtector>? _legacy;

    /// <param name="key">The 32-byte key.</param>
    /// <param name="legacy">Decrypts ciphertext without <see cref="Prefix"/> (written before the key was set); null = none.</param>
    public AesGcmSecretProtector(ReadOnlySpan<byte> key, Lazy<ISecretProtector>? legacy = null)
    {
        if (key.Length != KeySize) throw new ArgumentException($"An AES-256 key has {KeySize} bytes, not {key.Length}.", nameof(key));
        _key = key.ToArray();
        _keyId = KeyIdOf(key);
        _legacy = legacy;
    }

    /// <summary>The key's public fingerprint (8 hex digits), as error messages and logs name it.</summary>
    public string KeyId => Convert.ToHexStringLower(_keyId);

    /// <summary>The fingerprint of <paramref name="key"/>: never reveals the key, tells two keys apart.</summary>
    public static byte[] KeyIdOf(ReadOnlySpan<byte> key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData([.. "durar-secrets-key-id:"u8, .. key], hash);
        return hash[..KeyIdSize].ToArray();
    }

    public string Protect(string plaintext) => Seal(plaintext, Prefix, Purpose);

    public string Protect(string plaintext, string binding) => Seal(plaintext, BoundPrefix, Bound(binding));

    public string Unprotect(string protectedText, string binding)
    {
        ArgumentNullException.ThrowIfNull(protectedText);
        return protectedText.StartsWith(BoundPrefix, StringComparison.Ordinal)
            ? Open(protectedText, BoundPrefix, Bound(binding))
            : UnprotectUnbound(protectedText, legacyBinding: binding);
    }

    /// <summary>The associated data of bound ciphertext: the purpose, a separator no id contains, the binding.</summary>
    private static byte[] Bound(string binding) => [.. Purpose, 0, .. Encoding.UTF8.GetBytes(binding)];

    private string Seal(string plaintext, string prefix, byte[] associatedData)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var sealedBytes = new byte[HeaderSize + plain.Length];
        var span = sealedBytes.AsSpan();
        _keyId.CopyTo(span);
        var nonce = span.Slice(KeyIdSize, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(_key, TagSize))
            aes.Encrypt(nonce, plain, span[HeaderSize..], span.Slice(KeyIdSize + NonceSize, TagSize), associatedData);
        CryptographicOperations.ZeroMemory(plain);
        return prefix + Convert.ToBase64String(sealedBytes);
    }

    /// <exception cref="CryptographicException">
    /// The ciphertext was written with another key, was modified, or is not Durar ciphertext at all; the message says which
    /// (and never contains the secret or the key).
    /// </exception>
    public string Unprotect(string protectedText) => UnprotectUnbound(protectedText, legacyBinding: null);

    private string UnprotectUnbound(string protectedText, string? legacyBinding)
    {
        ArgumentNullException.ThrowIfNull(protectedText);
        if (protectedText.StartsWith(BoundPrefix, StringComparison.Ordinal))
            throw new CryptographicException("The secret is bound to a profile and field: decrypt it with its binding.");
        if (!protectedText.StartsWith(Prefix, StringComparison.Ordinal))
        {
            if (protectedText.StartsWith("aesgcm.", StringComparison.Ordinal))
                throw new CryptographicException($"The secret uses an unknown ciphertext version \"{protectedText.Split(':')[0]}\" (this node reads {Prefix}).");
            return _legacy is not null
                ? legacyBinding is null ? _legacy.Value.Unprotect(protectedText) : _legacy.Value.Unprotect(protectedText, legacyBinding)
                : throw new CryptographicException(
                    "The secret was encrypted with Data Protection before gateway.secrets.key was set, and this node has no Data Protection " +
                    "key ring (<data dir>/keys) to read it: copy that folder from the node that wrote it, or enter the profile again.");
        }

        return Open(protectedText, Prefix, Purpose);
    }

    private string Open(string protectedText, string prefix, byte[] associatedData)
    {
        byte[] sealedBytes;
        try
        {
            sealedBytes = Convert.FromBase64String(protectedText[prefix.Length..]);
        }
        catch (FormatException)
        {
            throw new CryptographicException($"The {prefix} ciphertext is not valid base64 (corrupt).");
        }
        if (sealedBytes.Length < HeaderSize)
            throw new CryptographicException($"The {prefix} ciphertext is truncated ({sealedBytes.Length} bytes, at least {HeaderSize} expected).");

        var span = sealedBytes.AsSpan();
        var keyId = span[..KeyIdSize];
        if (!keyId.SequenceEqual(_keyId))
            throw new CryptographicException(
                $"The secret was encrypted with another gateway.secrets.key (key id {Convert.ToHexStringLower(keyId)}; this node's key id is {KeyId}): " +
                "every node must use the same key.");
        var plain = new byte[sealedBytes.Length - HeaderSize];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(span.Slice(KeyIdSize, NonceSize), span[HeaderSize..], span.Slice(KeyIdSize + NonceSize, TagSize), plain, associatedData);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new CryptographicException(prefix == BoundPrefix
                ? $"The {prefix} ciphertext failed authentication: it was modified, is corrupt, or belongs to another profile or field."
                : $"The {prefix} ciphertext failed authentication: it was modified or is corrupt.");
        }
        try
        {
            return Encoding.UTF8.GetString(plain);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }
}
