using Durar.Actors.Sessions.Messages;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using Durar.Actors;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.ClientTokens;
using Durar.Actors.ClientTokens.Messages;
using Durar.Actors.Providers.Messages;

namespace Durar.Persistence.Serialization;

/// <summary>
/// The single table of persisted types and their manifests. A manifest is stored with every journal row and snapshot, so
/// it is written here by hand and never derived from a type name: renaming a type keeps its manifest, recovery still works.
/// </summary>
/// <remarks>
/// To persist a new <see cref="IDurarPersistable"/> type, add one line to <see cref="Table"/> (and a sample to the
/// serializer specs). Never change or reuse a manifest that has shipped.
/// </remarks>
internal static class DurarManifests
{
    private static readonly (Type Type, string Manifest)[] Table =
    [
        // Provider keys (Providers/Messages/KeyEvents.cs)
        (typeof(KeyEvents.Failed), "key-failed"),
        (typeof(KeyEvents.Recovered), "key-recovered"),
        (typeof(KeyEvents.Exhausted), "key-exhausted"),
        (typeof(KeyEvents.Reset), "key-reset"),
        (typeof(KeyEvents.Used), "key-used"),
        (typeof(KeyHealthSnapshot), "key-snapshot"),

        // Sessions (Sessions/Messages/SessionEvents.cs)
        (typeof(SessionEvents.UserMessageAccepted), "session-user-message"),
        (typeof(SessionEvents.AssistantReplied), "session-assistant-reply"),
        (typeof(SessionEvents.RunFailed), "session-run-failed"),
        (typeof(SessionEvents.OverridesChanged), "session-overrides"),
        (typeof(SessionEvents.SessionReset), "session-reset"),
        (typeof(SessionSnapshot), "session-snapshot"),
        (typeof(SessionEvents.Compacted), "session-compacted"),
        (typeof(SessionEvents.RunsDropped), "session-runs-dropped"),
        (typeof(SessionEvents.FallbackNoticed), "session-fallback-noticed"),
        (typeof(SessionEvents.FallbackCleared), "session-fallback-cleared"),

        // Auth-profile store (AuthProfiles/Messages/AuthProfileEvents.cs); secrets inside are ciphertext
        (typeof(AuthProfileEvents.ProfileUpserted), "auth-profile-upserted"),
        (typeof(AuthProfileEvents.ProfileRemoved), "auth-profile-removed"),
        (typeof(AuthProfileEvents.OrderSet), "auth-profile-order-set"),
        (typeof(AuthProfileEvents.OAuthRefreshed), "auth-profile-oauth-refreshed"),
        (typeof(AuthProfileStoreSnapshot), "auth-profile-snapshot"),

        // Client tokens (ClientTokens/Messages/ClientTokenEvents.cs): hashes of secrets only
        (typeof(ClientTokenEvents.Created), "client-token-created"),
        (typeof(ClientTokenEvents.Rotated), "client-token-rotated"),
        (typeof(ClientTokenEvents.Revoked), "client-token-revoked"),
        (typeof(ClientTokenEvents.Used), "client-token-used"),
        (typeof(ClientTokenSnapshot), "client-token-snapshot"),
        (typeof(ClientTokenRegistered), "client-token-registered"),
        (typeof(TokenIdsSnapshot), "client-token-index-snapshot"),
    ];

    private static readonly FrozenDictionary<Type, string> ByType = Table.ToFrozenDictionary(e => e.Type, e => e.Manifest);

    private static readonly FrozenDictionary<string, Type> ByManifest = Table.ToFrozenDictionary(e => e.Manifest, e => e.Type, StringComparer.Ordinal);

    /// <summary>Every registered type and its manifest.</summary>
    public static IReadOnlyDictionary<Type, string> All => ByType;

    public static bool TryGetManifest(Type type, [NotNullWhen(true)] out string? manifest) => ByType.TryGetValue(type, out manifest);

    public static bool TryGetType(string manifest, [NotNullWhen(true)] out Type? type) => ByManifest.TryGetValue(manifest, out type);
}
