using System.Collections.Immutable;

namespace Durar.Actors.AuthProfiles.Messages;

/// <summary>
/// Persisted facts of the auth-profile store. Every secret in them is ciphertext from <see cref="ISecretProtector"/>: the
/// journal (and so the SQLite file or PostgreSQL table) never holds a key or token in plain text.
/// </summary>
internal interface IAuthProfileEvent : IDurarPersistable
{
    DateTimeOffset At { get; }
}

internal static class AuthProfileEvents
{
    /// <summary>A profile was created or replaced (its secrets encrypted).</summary>
    public sealed record ProfileUpserted(StoredProfile Profile, DateTimeOffset At) : IAuthProfileEvent;

    /// <summary>A profile was deleted.</summary>
    public sealed record ProfileRemoved(string ProfileId, DateTimeOffset At) : IAuthProfileEvent;

    /// <summary>The stored order override of a provider (reference item 26); empty clears it (back to <c>auth.order</c>).</summary>
    public sealed record OrderSet(string Provider, ImmutableArray<string> Order, DateTimeOffset At) : IAuthProfileEvent;

    /// <summary>
    /// An OAuth profile's key actor refreshed its access token: the new tokens (encrypted) and the access token's expiry in
    /// epoch milliseconds.
    /// </summary>
    public sealed record OAuthRefreshed(string ProfileId, string ProtectedAccess, string ProtectedRefresh, long Expires, DateTimeOffset At)
        : IAuthProfileEvent;
}

/// <summary>The persisted snapshot of the store (secrets encrypted, as in the events).</summary>
internal sealed record AuthProfileStoreSnapshot(ImmutableArray<StoredProfile> Profiles, ImmutableDictionary<string, ImmutableArray<string>> Orders)
    : IDurarPersistable;

/// <summary>
/// One auth profile as stored (reference items 18–22): an id (<c>provider:default</c> or <c>provider:&lt;email&gt;</c>), the
/// provider, the credential type and its material. <c>Protected*</c> fields hold <see cref="ISecretProtector"/> ciphertext;
/// <see cref="Expires"/> is epoch milliseconds as in the reference (null = no expiry).
/// </summary>
internal sealed record StoredProfile(
    string Id,
    string Provider,
    string Type,
    string? Email,
    string? ProtectedKey,
    string? ProtectedToken,
    string? ProtectedAccess,
    string? ProtectedRefresh,
    long? Expires,
    string? TokenUrl,
    string? ClientId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public override string ToString() => $"StoredProfile({Id}, {Type})";
}
