using System.Security.Cryptography;
using Akka.Event;
using Durar.Actors.AuthProfiles.Messages;

namespace Durar.Actors.AuthProfiles;

/// <summary>
/// The auth-profile store's secrets, decrypted in memory only (the journal holds them encrypted with the
/// <see cref="ISecretProtector"/>). A profile whose ciphertext cannot be decrypted (a lost key ring, another node's key) is
/// kept with no secrets and is not served; the warning says how to fix it, never a secret.
/// </summary>
internal sealed class ProfileVault(ISecretProtector protector, ILoggingAdapter log)
{
    private readonly Dictionary<string, ProfileSecrets?> _secrets = new(StringComparer.Ordinal);

    /// <summary>The profile's secrets; null when unknown or not decryptable.</summary>
    public ProfileSecrets? Get(string profileId) => _secrets.GetValueOrDefault(profileId);

    public void Set(string profileId, ProfileSecrets secrets) => _secrets[profileId] = secrets;

    public void Remove(string profileId) => _secrets.Remove(profileId);

    /// <summary>A recovered profile: its stored ciphertext decrypted once.</summary>
    public void Load(StoredProfile profile)
    {
        try
        {
            _secrets[profile.Id] = new ProfileSecrets(Unprotect(profile.ProtectedKey, "key"), Unprotect(profile.ProtectedToken, "token"),
                Unprotect(profile.ProtectedAccess, "access"), Unprotect(profile.ProtectedRefresh, "refresh"));
        }
        catch (CryptographicException e)
        {
            // The protectors' messages never hold a secret: they say which key is missing or that the ciphertext is corrupt.
            log.Warning("Auth profile [{ProfileId}] cannot be decrypted ({Problem}); it is not served. With several nodes, every node needs " +
                        "the same gateway.secrets.key; on one node, the data directory's keys folder must be kept", profile.Id, e.Message);
            _secrets[profile.Id] = null;
        }

        string? Unprotect(string? stored, string field) => stored is null ? null : protector.Unprotect(stored, SecretBinding.Of(profile.Id, field));
    }

    /// <summary>An OAuth refresh: the new access and refresh tokens replace the old ones.</summary>
    public void Refreshed(string profileId, string accessToken, string refreshToken) =>
        _secrets[profileId] = (Get(profileId) ?? new ProfileSecrets(null, null, null, null)) with { Access = accessToken, Refresh = refreshToken };
}
