using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Durar.Actors.AuthProfiles;

/// <summary>Registers what the auth-profile store needs outside the actor system.</summary>
public static class AuthProfilesServiceCollectionExtensions
{
    /// <summary>
    /// Enables the persisted auth-profile store: ASP.NET Core Data Protection with its key ring in
    /// <c>&lt;dataDir&gt;/keys</c> (application name "Durar") behind <see cref="ISecretProtector"/>. With it registered,
    /// <c>AddDurar</c> starts the store (<see cref="AuthProfileStoreActor"/>) next to the provider actors.
    /// </summary>
    public static IServiceCollection AddDurarAuthProfiles(this IServiceCollection services, string dataDir)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDir);
        var keys = new DirectoryInfo(Path.Combine(Path.GetFullPath(dataDir), DataProtectionSecretProtector.KeysFolder));
        services.AddDataProtection()
            .SetApplicationName(DataProtectionSecretProtector.ApplicationName)
            .PersistKeysToFileSystem(keys);
        services.TryAddSingleton<ISecretProtector, DataProtectionSecretProtector>();
        return services;
    }
}
