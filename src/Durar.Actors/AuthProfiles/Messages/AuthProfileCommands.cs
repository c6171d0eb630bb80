using System.Collections.Immutable;
using Durar.Actors.Providers;

namespace Durar.Actors.AuthProfiles.Messages;

/// <summary>
/// Messages to the auth-profile store (the admin API's protocol). Each is answered. In a cluster they travel from the node
/// that took the admin request to the node that runs the store (a cluster singleton), hence the wire marker.
/// </summary>
internal interface IAuthProfileCommand : IDurarWireMessage;

/// <summary>The auth-profile store protocol: list, create or replace, delete, and the per-provider order override.</summary>
internal static class AuthProfileCommands
{
    /// <summary>Answered with <see cref="AuthProfileList"/> (secrets masked).</summary>
    public sealed record ListProfiles : IAuthProfileCommand
    {
        public static readonly ListProfiles Instance = new();
    }

    /// <summary>
    /// Create or replace the profile the input names. Answered with <see cref="AuthProfileSaved"/> once the (encrypted)
    /// event is persisted, <see cref="AuthProfileRejected"/> when the input is invalid, or <see cref="AuthProfileNotSaved"/>
    /// when the secret could not be encrypted.
    /// </summary>
    public sealed record UpsertProfile(AuthProfileInput Input) : IAuthProfileCommand;

    /// <summary>Answered with <see cref="AuthProfileDeleted"/> (<c>Found = false</c> for an unknown id).</summary>
    public sealed record RemoveProfile(string ProfileId) : IAuthProfileCommand;

    /// <summary>
    /// Store the order of a provider's keys (profile ids, key ids or env var names); it wins over <c>auth.order</c>, and an
    /// empty list clears it. Answered with <see cref="AuthProfileOrderSaved"/> or <see cref="AuthProfileRejected"/>.
    /// </summary>
    public sealed record SetOrder(string Provider, ImmutableArray<string> Order) : IAuthProfileCommand;
}

/// <summary>
/// A profile as an operator submits it: <c>{provider, type, email?}</c> plus <c>key</c> (api_key), <c>token</c> and
/// <c>expires</c> (token), or <c>access</c>, <c>refresh</c>, <c>expires</c>, <c>tokenUrl</c>, <c>clientId</c> (oauth).
/// <see cref="Expires"/> is epoch milliseconds. In-process only; <see cref="ToString"/> never shows a secret.
/// </summary>
internal sealed record AuthProfileInput(
    string? Provider,
    string? Type,
    string? Email = null,
    string? Id = null,
    string? Key = null,
    string? Token = null,
    string? Access = null,
    string? Refresh = null,
    long? Expires = null,
    string? TokenUrl = null,
    string? ClientId = null)
{
    public override string ToString() => $"AuthProfileInput({Provider}, {Type}, {Email ?? "no email"})";
}

/// <summary>Every profile (masked) and every stored order override.</summary>
internal sealed record AuthProfileList(ImmutableArray<AuthProfileView> Profiles, ImmutableSortedDictionary<string, ImmutableArray<string>> Orders)
    : IDurarWireMessage;

/// <summary>
/// The store's answer to a change it persisted. <see cref="Revision"/> is the revision of the store's credential set that
/// holds the change: the admin API waits until its own node's providers have applied it (read-your-writes on that node).
/// </summary>
internal interface IAuthProfileChange
{
    AuthProfileRevision? Revision { get; }
}

/// <summary>The profile was persisted; <see cref="Created"/> is false when it replaced one with the same id.</summary>
internal sealed record AuthProfileSaved(AuthProfileView Profile, bool Created) : IAuthProfileChange, IDurarWireMessage
{
    public AuthProfileRevision? Revision { get; init; }
}

/// <summary>The command was invalid; <see cref="Message"/> says why, <see cref="Param"/> names the offending field.</summary>
internal sealed record AuthProfileRejected(string Message, string? Param) : IDurarWireMessage;

/// <summary>The profile's secret could not be encrypted (key ring unreadable); <see cref="Message"/> names the profile, never the secret.</summary>
internal sealed record AuthProfileNotSaved(string ProfileId, string Message) : IDurarWireMessage;

internal sealed record AuthProfileDeleted(string ProfileId, bool Found) : IAuthProfileChange, IDurarWireMessage
{
    public AuthProfileRevision? Revision { get; init; }
}

internal sealed record AuthProfileOrderSaved(string Provider, ImmutableArray<string> Order) : IAuthProfileChange, IDurarWireMessage
{
    public AuthProfileRevision? Revision { get; init; }
}

/// <summary>
/// A profile as operators see it. Secret fields are masked to their last four characters (<see cref="ApiKeyCredential.Mask"/>);
/// <see cref="Reason"/> is the reference's probe reason code when the profile is not <see cref="Eligible"/>
/// (<c>missing_credential</c>, <c>expired</c>, <c>invalid_expires</c>, <c>ineligible_profile</c>).
/// </summary>
internal sealed record AuthProfileView(
    string Id,
    string Provider,
    string Type,
    string? Email,
    string? Key,
    string? Token,
    string? Access,
    string? Refresh,
    long? Expires,
    string? TokenUrl,
    string? ClientId,
    bool Eligible,
    string? Reason,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);
