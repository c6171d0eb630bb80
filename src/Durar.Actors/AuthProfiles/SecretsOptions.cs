using Akka.Configuration;
using Durar.Actors.Configuration;

namespace Durar.Actors.AuthProfiles;

/// <summary>
/// <c>gateway.secrets</c>: how auth-profile secrets are encrypted. With <see cref="Key"/> (a 256-bit key every node shares)
/// they use <see cref="AesGcmSecretProtector"/>, so any node of a cluster decrypts what another wrote; without it, ASP.NET
/// Core Data Protection with the key ring in the data directory (one node, or nodes sharing one data directory).
/// </summary>
/// <param name="Key">The shared key; null = Data Protection. Never logged.</param>
public sealed record SecretsOptions(byte[]? Key)
{
    /// <summary>HOCON path of the key.</summary>
    public const string KeyPath = "gateway.secrets.key";

    /// <summary>The environment variable that overrides <see cref="KeyPath"/> (keeps the key out of config files).</summary>
    public const string EnvironmentVariable = "DURAR_SECRETS_KEY";

    public static readonly SecretsOptions DataProtection = new((byte[]?)null);

    public override string ToString() => Key is null ? "SecretsOptions(data protection)" : $"SecretsOptions(aes-gcm, key id {Convert.ToHexStringLower(AesGcmSecretProtector.KeyIdOf(Key))})";

    /// <summary>Reads <see cref="KeyPath"/>, with <see cref="EnvironmentVariable"/> of the process environment winning.</summary>
    /// <exception cref="DurarConfigException">The key is not the base64 of 32 bytes (the message names the key path).</exception>
    public static SecretsOptions FromConfig(Config config) => FromConfig(config, Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <param name="environmentKey">The value of <see cref="EnvironmentVariable"/>; null or empty = not set.</param>
    /// <exception cref="DurarConfigException">The key is not the base64 of 32 bytes (the message names the key path).</exception>
    public static SecretsOptions FromConfig(Config config, string? environmentKey)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!string.IsNullOrWhiteSpace(environmentKey)) return new SecretsOptions(Parse(environmentKey, $" (from {EnvironmentVariable})"));
        string? configured;
        try
        {
            configured = config.HasPath(KeyPath) ? config.GetString(KeyPath) : null;
        }
        catch (Exception e) when (e is not DurarConfigException)
        {
            throw new DurarConfigException(KeyPath, "expected a string: the base64 of 32 random bytes");
        }
        return string.IsNullOrWhiteSpace(configured) ? DataProtection : new SecretsOptions(Parse(configured, ""));
    }

    /// <summary>The value is never repeated in the error: it is (or was meant to be) a secret.</summary>
    private static byte[] Parse(string text, string origin)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            throw new DurarConfigException(KeyPath,
                $"not valid base64{origin}: expected the base64 of {AesGcmSecretProtector.KeySize} random bytes (e.g. `openssl rand -base64 32`)");
        }
        if (key.Length != AesGcmSecretProtector.KeySize)
            throw new DurarConfigException(KeyPath,
                $"decodes to {key.Length} bytes{origin}; expected the base64 of exactly {AesGcmSecretProtector.KeySize} random bytes (e.g. `openssl rand -base64 32`)");
        return key;
    }
}
