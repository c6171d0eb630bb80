using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Durar.Actors.AuthProfiles;

/// <summary>Registers what the auth-profile store needs outside the actor system.</summary>
public static class AuthProfilesServiceCollectionExtensions
{
    /// <summary>
    /// Enables the persisted auth-profile store behind an <see cref="ISecretProtector"/>: with
    /// <see cref="SecretsOptions.Key"/> set, <see cref="AesGcmSecretProtector"/> (every node of a cluster shares the key);
    /// otherwise ASP.NET Core Data Protection with its key ring in <c>&lt;dataDir&gt;/keys</c> (application name "Durar").
    /// With the key set and a key ring already in the data directory (a store written before the key was set), Data
    /// Protection stays registered so that old ciphertext still decrypts (chosen per secret by its prefix); with the key set
    /// and no key ring, Data Protection is not started at all (it would write a key ring nobody needs). With a protector
    /// registered, <c>AddDurar</c> starts the store (<see cref="AuthProfileStoreActor"/>) next to the provider actors.
    /// </summary>
    public static IServiceCollection AddDurarAuthProfiles(this IServiceCollection services, string dataDir, SecretsOptions? secrets = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDir);
        var keys = new DirectoryInfo(Path.Combine(Path.GetFullPath(dataDir), DataProtectionSecretProtector.KeysFolder));
        var key = secrets?.Key;
        var legacy = key is null || keys.Exists;
        if (legacy)
        {
            // The key ring decrypts every stored secret: owner-only, as the data directory (Data Protection would create it 0755).
            Hosting.OwnerOnly.Directory(Path.GetFullPath(dataDir));
            Hosting.OwnerOnly.Directory(keys.FullName);
            foreach (var file in keys.EnumerateFiles()) Hosting.OwnerOnly.Tighten(file.FullName);
            services.AddDataProtection()
                .SetApplicationName(DataProtectionSecretProtector.ApplicationName)
                .PersistKeysToFileSystem(keys);
            services.TryAddSingleton<DataProtectionSecretProtector>();
        }
        if (key is null)
            services.TryAddSingleton<ISecretProtector>(sp => sp.GetRequiredService<DataProtectionSecretProtector>());
        else
            services.TryAddSingleton<ISecretProtector>(sp => new AesGcmSecretProtector(key,
                legacy ? new Lazy<ISecretProtector>(sp.GetRequiredService<DataProtectionSecretProtector>) : null));
        return services;
    }
}
