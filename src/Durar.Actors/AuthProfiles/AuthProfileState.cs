using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Durar.Actors.AuthProfiles.Messages;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using Durar.Actors.Providers;

namespace Durar.Actors.AuthProfiles;

/// <summary>The plaintext secrets of one profile. In memory only, never persisted; <see cref="ToString"/> masks them.</summary>
internal sealed record ProfileSecrets(string? Key, string? Token, string? Access, string? Refresh)
{
    public override string ToString() =>
        $"ProfileSecrets(key {Mask(Key)}, token {Mask(Token)}, access {Mask(Access)}, refresh {Mask(Refresh)})";

    private static string Mask(string? secret) => secret is null ? "-" : ApiKeyCredential.Mask(secret);
}

/// <summary>
/// The store's state: every profile (secrets as ciphertext) and every provider's stored order override. Pure data with a
/// pure <see cref="Apply"/>; <see cref="AuthProfileRules"/> decides.
/// </summary>
internal sealed record AuthProfileState(
    ImmutableSortedDictionary<string, StoredProfile> Profiles,
    ImmutableSortedDictionary<string, ImmutableArray<string>> Orders)
{
    public static readonly AuthProfileState Empty = new(
        ImmutableSortedDictionary.Create<string, StoredProfile>(StringComparer.Ordinal),
        ImmutableSortedDictionary.Create<string, ImmutableArray<string>>(StringComparer.Ordinal));

    public AuthProfileState Apply(IAuthProfileEvent e) => e switch
    {
        AuthProfileEvents.ProfileUpserted upserted => this with { Profiles = Profiles.SetItem(upserted.Profile.Id, upserted.Profile) },
        AuthProfileEvents.ProfileRemoved removed => this with { Profiles = Profiles.Remove(removed.ProfileId) },
        AuthProfileEvents.OrderSet { Order.IsDefaultOrEmpty: true } cleared => this with { Orders = Orders.Remove(cleared.Provider) },
        AuthProfileEvents.OrderSet set => this with { Orders = Orders.SetItem(set.Provider, set.Order) },
        AuthProfileEvents.OAuthRefreshed refreshed when Profiles.TryGetValue(refreshed.ProfileId, out var profile) =>
            this with
            {
                Profiles = Profiles.SetItem(profile.Id, profile with
                {
                    ProtectedAccess = refreshed.ProtectedAccess,
                    ProtectedRefresh = refreshed.ProtectedRefresh,
                    Expires = refreshed.Expires,
                    UpdatedAt = refreshed.At,
                }),
            },
        _ => this,
    };

    public AuthProfileStoreSnapshot ToSnapshot() =>
        new([.. Profiles.Values], Orders.ToImmutableDictionary(StringComparer.Ordinal));

    public static AuthProfileState FromSnapshot(AuthProfileStoreSnapshot snapshot) => new(
        (snapshot.Profiles.IsDefault ? [] : snapshot.Profiles).ToImmutableSortedDictionary(p => p.Id, p => p, StringComparer.Ordinal),
        (snapshot.Orders ?? ImmutableDictionary<string, ImmutableArray<string>>.Empty)
            .Where(o => !o.Value.IsDefaultOrEmpty)
            .ToImmutableSortedDictionary(o => o.Key, o => o.Value, StringComparer.Ordinal));
}

/// <summary>A profile that passed validation: normalized provider and id, plaintext secrets (not yet encrypted).</summary>
internal sealed record ValidatedProfile(
    string Id,
    string Provider,
    string Type,
    string? Email,
    ProfileSecrets Secrets,
    long? Expires,
    string? TokenUrl,
    string? ClientId)
{
    public override string ToString() => $"ValidatedProfile({Id}, {Type})";
}

/// <summary>
/// The reference's auth-profile rules (items 18–24) as pure functions: profile ids, input validation, eligibility, and the
/// credential a profile's key actor serves.
/// </summary>
internal static partial class AuthProfileRules
{
    /// <summary>Probe reason codes of the reference (item 24).</summary>
    public const string MissingCredential = "missing_credential";
    public const string Expired = "expired";
    public const string InvalidExpires = "invalid_expires";
    public const string IneligibleProfile = "ineligible_profile";

    /// <summary>The largest valid <c>expires</c> (epoch ms), JavaScript's maximum date (item 24).</summary>
    public const long MaxExpires = 8_640_000_000_000_000;

    /// <summary>The <see cref="ApiKeyCredential.Source"/> of every profile's key.</summary>
    public const string Source = "auth-profile";

    private const int MaxSecretLength = 16 * 1024;
    private const int MaxOrderLength = 64;

    /// <summary><c>provider:default</c> without an email, <c>provider:&lt;email&gt;</c> with one (item 22).</summary>
    public static string ProfileId(string provider, string? email) => $"{provider}:{(string.IsNullOrEmpty(email) ? "default" : email)}";

    /// <summary>True for an <c>expires</c> the reference accepts: finite, &gt; 0 and ≤ <see cref="MaxExpires"/>.</summary>
    public static bool IsValidExpires(long expires) => expires is > 0 and <= MaxExpires;

    /// <summary>An epoch-millisecond <c>expires</c> as an instant (values past year 9999 are <see cref="DateTimeOffset.MaxValue"/>).</summary>
    public static DateTimeOffset ToInstant(long expires) =>
        expires >= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() ? DateTimeOffset.MaxValue : DateTimeOffset.FromUnixTimeMilliseconds(Math.Max(0, expires));

    public static long ToEpochMs(DateTimeOffset at) => at.ToUnixTimeMilliseconds();

    /// <summary>Checks and normalizes an operator's input; the rejection names the offending field.</summary>
    public static (ValidatedProfile? Profile, AuthProfileRejected? Rejected) Validate(AuthProfileInput input, IReadOnlySet<string> providers)
    {
        if (string.IsNullOrWhiteSpace(input.Provider)) return Reject("`provider` is required.", "provider");
        var provider = ModelRef.NormalizeProvider(input.Provider);
        if (!providers.Contains(provider))
            return Reject($"Unknown provider \"{provider}\" (see GET /v1/admin/providers for the configured ones).", "provider");

        var type = input.Type?.Trim().ToLowerInvariant();
        if (!CredentialTypes.IsKnown(type))
            return Reject($"`type` must be one of {CredentialTypes.ApiKey}, {CredentialTypes.Token}, {CredentialTypes.OAuth}.", "type");

        var email = string.IsNullOrWhiteSpace(input.Email) ? null : input.Email.Trim();
        if (email is not null && (email.Length > 254 || !EmailPattern().IsMatch(email)))
            return Reject("`email` is not a valid address (profile ids are provider:default or provider:<email>).", "email");

        var id = ProfileId(provider, email);
        if (!string.IsNullOrWhiteSpace(input.Id) && input.Id.Trim() != id)
            return Reject(
                $"Invalid profile id \"{input.Id.Trim()}\": profile ids are \"{provider}:default\" (no email) or \"{provider}:<email>\"; this profile's id is \"{id}\".",
                "id");

        var notFor = NotApplicable(input, type!);
        if (notFor is not null) return Reject($"`{notFor}` does not apply to {type} profiles.", notFor);

        string? key = null, token = null, access = null, refresh = null, tokenUrl = null, clientId = null;
        switch (type)
        {
            case CredentialTypes.ApiKey:
                if (Secret(input.Key, "key", required: true, out key) is { } badKey) return (null, badKey);
                break;
            case CredentialTypes.Token:
                if (Secret(input.Token, "token", required: true, out token) is { } badToken) return (null, badToken);
                break;
            default:
                if (Secret(input.Access, "access", required: false, out access) is { } badAccess) return (null, badAccess);
                if (Secret(input.Refresh, "refresh", required: false, out refresh) is { } badRefresh) return (null, badRefresh);
                if (access is null && refresh is null) return Reject("An oauth profile needs `access` or `refresh` (or both).", "access");
                if (!string.IsNullOrWhiteSpace(input.TokenUrl))
                {
                    tokenUrl = input.TokenUrl.Trim();
                    if (!Uri.TryCreate(tokenUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                        return Reject("`tokenUrl` must be an absolute http or https URL.", "tokenUrl");
                }
                else if (refresh is not null) return Reject("`tokenUrl` is required to refresh an oauth profile (it has a `refresh` token).", "tokenUrl");
                if (!string.IsNullOrWhiteSpace(input.ClientId))
                {
                    clientId = input.ClientId.Trim();
                    if (clientId.Length > 512 || clientId.Any(char.IsControl)) return Reject("`clientId` is not valid.", "clientId");
                }
                break;
        }
        return (new ValidatedProfile(id, provider, type!, email, new ProfileSecrets(key, token, access, refresh), input.Expires, tokenUrl, clientId), null);
    }

    /// <summary>
    /// The event that stores <paramref name="profile"/> with its secrets encrypted by <paramref name="protect"/>, each bound to
    /// its profile and field (<see cref="SecretBinding"/>).
    /// </summary>
    public static (AuthProfileEvents.ProfileUpserted Event, bool Created) DecideUpsert(AuthProfileState state, ValidatedProfile profile,
        Func<string, string, string> protect, DateTimeOffset now)
    {
        var existing = state.Profiles.GetValueOrDefault(profile.Id);
        var s = profile.Secrets;
        var stored = new StoredProfile(profile.Id, profile.Provider, profile.Type, profile.Email,
            Protect(s.Key, "key"), Protect(s.Token, "token"), Protect(s.Access, "access"), Protect(s.Refresh, "refresh"),
            profile.Expires, profile.TokenUrl, profile.ClientId, existing?.CreatedAt ?? now, now);
        return (new AuthProfileEvents.ProfileUpserted(stored, now), existing is null);

        string? Protect(string? secret, string field) => secret is null ? null : protect(secret, SecretBinding.Of(profile.Id, field));
    }

    /// <summary>Checks an order override: a known provider, and entries that name keys (profile ids, key ids or env var names).</summary>
    public static (ImmutableArray<string> Order, AuthProfileRejected? Rejected) ValidateOrder(string provider, ImmutableArray<string> order,
        IReadOnlySet<string> providers)
    {
        if (!providers.Contains(provider))
            return ([], new AuthProfileRejected($"Unknown provider \"{provider}\" (see GET /v1/admin/providers for the configured ones).", "provider"));
        if (order.IsDefault) return ([], new AuthProfileRejected("`order` is required: a list of profile or key ids ([] clears the override).", "order"));
        if (order.Length > MaxOrderLength) return ([], new AuthProfileRejected($"`order` has more than {MaxOrderLength} entries.", "order"));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = ImmutableArray.CreateBuilder<string>(order.Length);
        foreach (var raw in order)
        {
            var entry = raw?.Trim() ?? "";
            if (entry.Length == 0 || entry.Length > 300 || entry.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                return ([], new AuthProfileRejected("`order` entries must be non-empty ids without spaces.", "order"));
            if (entry.Contains(':') && !entry.StartsWith(provider + ":", StringComparison.Ordinal))
                return ([], new AuthProfileRejected($"`order` entry \"{entry}\" belongs to another provider (expected {provider}:…).", "order"));
            if (!seen.Add(entry)) return ([], new AuthProfileRejected($"`order` lists \"{entry}\" twice.", "order"));
            result.Add(entry);
        }
        return (result.ToImmutable(), null);
    }

    /// <summary>
    /// Why a profile cannot serve now, as a reference reason code, or null when it is eligible (items 23–24): the config's
    /// <c>auth.profiles</c> entry (if any) must match its provider and mode (config oauth also accepts a token), an api_key
    /// needs a key, a token a token that has not expired, and an oauth profile a usable access token or a way to refresh it.
    /// </summary>
    /// <param name="secrets">The decrypted secrets; null when they could not be decrypted.</param>
    public static string? Ineligibility(StoredProfile profile, ProfileSecrets? secrets, AuthProfileSettings? config, DateTimeOffset now)
    {
        if (config is not null && (config.Provider != profile.Provider
                                   || !(config.Mode == profile.Type || config.Mode == CredentialTypes.OAuth && profile.Type == CredentialTypes.Token)))
            return IneligibleProfile;
        if (secrets is null) return MissingCredential;
        var nowMs = ToEpochMs(now);
        switch (profile.Type)
        {
            case CredentialTypes.ApiKey:
                return string.IsNullOrEmpty(secrets.Key) ? MissingCredential : null;
            case CredentialTypes.Token:
                if (string.IsNullOrEmpty(secrets.Token)) return MissingCredential;
                if (profile.Expires is { } tokenExpires)
                {
                    if (!IsValidExpires(tokenExpires)) return InvalidExpires;
                    if (tokenExpires <= nowMs) return Expired;
                }
                return null;
            case CredentialTypes.OAuth:
                if (string.IsNullOrEmpty(secrets.Access) && string.IsNullOrEmpty(secrets.Refresh)) return MissingCredential;
                if (profile.Expires is { } accessExpires && !IsValidExpires(accessExpires)) return InvalidExpires;
                var accessUsable = !string.IsNullOrEmpty(secrets.Access) && (profile.Expires is not { } e || e > nowMs);
                var refreshable = !string.IsNullOrEmpty(secrets.Refresh) && profile.TokenUrl is not null;
                return accessUsable || refreshable ? null : Expired;
            default:
                return IneligibleProfile;
        }
    }

    /// <summary>The credential the profile's key actor serves; its key id is the profile id (stable, no secret in it).</summary>
    public static ApiKeyCredential ToCredential(StoredProfile profile, ProfileSecrets secrets)
    {
        var expires = profile.Expires is { } ms ? ToInstant(ms) : (DateTimeOffset?)null;
        return profile.Type switch
        {
            CredentialTypes.Token => new ApiKeyCredential(profile.Id, profile.Provider, secrets.Token, Source)
                { Type = CredentialTypes.Token, ExpiresAt = expires },
            CredentialTypes.OAuth => new ApiKeyCredential(profile.Id, profile.Provider, secrets.Access, Source)
            {
                Type = CredentialTypes.OAuth,
                // No access token yet: expired at once, so the first lease refreshes.
                ExpiresAt = secrets.Access is null ? DateTimeOffset.MinValue : expires,
                OAuth = secrets.Refresh is { } refresh && profile.TokenUrl is { } url ? new OAuthGrant(refresh, url, profile.ClientId) : null,
            },
            _ => new ApiKeyCredential(profile.Id, profile.Provider, secrets.Key, Source),
        };
    }

    /// <summary>The operator view: every secret masked to its last four characters.</summary>
    public static AuthProfileView View(StoredProfile profile, ProfileSecrets? secrets, string? ineligibility) => new(
        profile.Id, profile.Provider, profile.Type, profile.Email,
        Masked(secrets?.Key, profile.ProtectedKey), Masked(secrets?.Token, profile.ProtectedToken),
        Masked(secrets?.Access, profile.ProtectedAccess), Masked(secrets?.Refresh, profile.ProtectedRefresh),
        profile.Expires, profile.TokenUrl, profile.ClientId, ineligibility is null, ineligibility, profile.CreatedAt, profile.UpdatedAt);

    /// <summary>A stored secret that could not be decrypted shows as <c>(unreadable)</c>, an absent one as null.</summary>
    private static string? Masked(string? plain, string? stored) =>
        stored is null ? null : plain is null ? "(unreadable)" : ApiKeyCredential.Mask(plain);

    private static string? NotApplicable(AuthProfileInput input, string type) => type switch
    {
        CredentialTypes.ApiKey => input.Token is not null ? "token" : input.Access is not null ? "access" : input.Refresh is not null ? "refresh"
            : input.Expires is not null ? "expires" : input.TokenUrl is not null ? "tokenUrl" : input.ClientId is not null ? "clientId" : null,
        CredentialTypes.Token => input.Key is not null ? "key" : input.Access is not null ? "access" : input.Refresh is not null ? "refresh"
            : input.TokenUrl is not null ? "tokenUrl" : input.ClientId is not null ? "clientId" : null,
        _ => input.Key is not null ? "key" : input.Token is not null ? "token" : null,
    };

    /// <summary>Checks one secret (trimmed; no inner whitespace or control characters, which would break the auth header).</summary>
    private static AuthProfileRejected? Secret(string? value, string name, bool required, out string? secret)
    {
        secret = string.IsNullOrWhiteSpace(value) ? null : value.Trim();
        if (secret is null) return required ? new AuthProfileRejected($"`{name}` is required.", name) : null;
        if (secret.Length > MaxSecretLength) return new AuthProfileRejected($"`{name}` is longer than {MaxSecretLength} characters.", name);
        if (secret.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            return new AuthProfileRejected($"`{name}` must not contain spaces or control characters.", name);
        return null;
    }

    private static (ValidatedProfile?, AuthProfileRejected?) Reject(string message, string param) => (null, new AuthProfileRejected(message, param));

    [GeneratedRegex(@"^[^\s@:/%]+@[^\s@:/%]+$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();
}
