using System.Collections;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Durar.Actors.Catalog;

namespace Durar.Actors.Providers;

/// <summary>
/// One credential a provider can use. <see cref="Id"/> is stable across restarts and derived from a hash of the secret, so
/// persisted cooldowns follow the key, a rotated key starts fresh, and no id ever reveals the secret.
/// </summary>
internal sealed record ApiKeyCredential(string Id, string ProviderId, string? Secret, string Source)
{
    /// <summary>
    /// <see cref="CredentialTypes.ApiKey"/> (environment and config keys), <see cref="CredentialTypes.Token"/> or
    /// <see cref="CredentialTypes.OAuth"/> (auth profiles). The round-robin order prefers oauth, then token, then api_key.
    /// </summary>
    public string Type { get; init; } = CredentialTypes.ApiKey;

    /// <summary>When <see cref="Secret"/> (a token or an OAuth access token) stops working; null = never.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>How to get a new access token when <see cref="Secret"/> expires (OAuth profiles with a refresh token).</summary>
    public OAuthGrant? OAuth { get; init; }

    /// <summary>The last four characters, for operators: <c>…abcd</c>.</summary>
    public string Masked => Mask(Secret);

    /// <summary>False once the secret has expired and cannot be refreshed: such a key is never leased.</summary>
    public bool UsableAt(DateTimeOffset now) => ExpiresAt is not { } expires || expires > now || OAuth is not null;

    public override string ToString() => $"{Id} ({Source}, {Type}, {Masked})"; // never the secret

    /// <summary>A secret as operators may see it: its last four characters, and nothing for secrets of four characters or fewer.</summary>
    public static string Mask(string? secret) => secret is null ? "(none)" : secret.Length <= 4 ? "…" : "…" + secret[^4..];

    public static ApiKeyCredential Keyless(string providerId) => new($"{providerId}:none", providerId, null, KeylessSource);

    private const string KeylessSource = "none";

    /// <summary>The stand-in of a provider whose key is optional and unset: used only while the provider has no real key.</summary>
    public bool IsKeyless => Secret is null && Source == KeylessSource;

    public static ApiKeyCredential For(string providerId, string secret, string source)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        return new ApiKeyCredential($"{providerId}:key-{Convert.ToHexStringLower(hash.AsSpan(0, 4))}", providerId, secret, source);
    }
}

/// <summary>The credential types of the reference (item 18), as they appear on the wire and in <c>auth.profiles.*.mode</c>.</summary>
internal static class CredentialTypes
{
    public const string ApiKey = "api_key";
    public const string Token = "token";
    public const string OAuth = "oauth";

    public static bool IsKnown(string? type) => type is ApiKey or Token or OAuth;
}

/// <summary>
/// What an OAuth profile needs to refresh its access token (<c>grant_type=refresh_token</c>). Secret material:
/// <see cref="ToString"/> never shows the refresh token.
/// </summary>
internal sealed record OAuthGrant(string RefreshToken, string TokenUrl, string? ClientId)
{
    /// <summary>How <see cref="TokenUrl"/> is called: <see cref="OAuthGrantKinds.RefreshToken"/> (RFC 6749) unless a provider needs its own exchange.</summary>
    public string Kind { get; init; } = OAuthGrantKinds.RefreshToken;

    public override string ToString() => $"OAuthGrant({TokenUrl}, client {ClientId ?? "(none)"}, refresh {ApiKeyCredential.Mask(RefreshToken)})";
}

/// <summary>The exchanges a key actor knows how to refresh a credential with (<see cref="OAuthGrant.Kind"/>).</summary>
internal static class OAuthGrantKinds
{
    /// <summary>RFC 6749 §6: <c>grant_type=refresh_token</c> (OAuth auth profiles).</summary>
    public const string RefreshToken = "refresh_token";

    /// <summary>GitHub token → Copilot token (<see cref="Transports.Copilot.CopilotTokenExchange"/>); the GitHub token is the refresh token.</summary>
    public const string CopilotTokenExchange = "copilot_token";

    /// <summary>
    /// A <c>github-copilot</c> provider's keys as the key actor refreshes them: each GitHub token becomes the grant of an
    /// exchange at <paramref name="tokenUrl"/>, with no Copilot token yet (the first lease exchanges). The key id stays the
    /// GitHub token's, so cooldowns follow it across restarts; other providers' keys are returned as they are.
    /// </summary>
    public static System.Collections.Immutable.ImmutableArray<ApiKeyCredential> ForProvider(ProviderDefinition provider,
        System.Collections.Immutable.ImmutableArray<ApiKeyCredential> keys, string tokenUrl) =>
        provider.Api != Configuration.ApiKinds.GitHubCopilot
            ? keys
            : keys.Select(k => k.Secret is not { Length: > 0 } github || k.OAuth is not null
                ? k
                : k with
                {
                    Secret = null,
                    Type = CredentialTypes.OAuth,
                    OAuth = new OAuthGrant(github, tokenUrl, null) { Kind = CopilotTokenExchange },
                }).ToImmutableArray();
}

/// <summary>
/// Collects a provider's keys from configuration and the environment in the reference's precedence:
/// <c>DURAR_LIVE_&lt;P&gt;_KEY</c> (if set, the only key), else the configured <c>apiKey</c>, <c>&lt;P&gt;_API_KEYS</c>
/// (split on whitespace, <c>,</c>, <c>;</c>), <c>&lt;P&gt;_API_KEY</c>, every <c>&lt;P&gt;_API_KEY_*</c>, <c>GOOGLE_API_KEY</c> for
/// Google, then the catalog's other auth variables. Duplicates are dropped; the first occurrence wins.
/// </summary>
internal sealed class KeySources(Func<string, string?> lookup, Func<IEnumerable<string>> variableNames)
{
    /// <summary>Process environment first, then the config's <c>env { }</c> block.</summary>
    public static KeySources FromEnvironment(IReadOnlyDictionary<string, string> configEnv) =>
        new(name => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : configEnv.GetValueOrDefault(name),
            () => Environment.GetEnvironmentVariables().Keys.Cast<object>().Select(k => k.ToString()!)
                .Concat(configEnv.Keys).Distinct(StringComparer.Ordinal));

    public static string EnvBase(string providerId) =>
        providerId is "google" or "google-vertex" ? "GEMINI" : providerId.ToUpperInvariant().Replace('-', '_').Replace('.', '_');

    public ImmutableArray<ApiKeyCredential> Collect(ProviderDefinition provider)
    {
        var p = EnvBase(provider.Id);
        if (lookup($"DURAR_LIVE_{p}_KEY") is { Length: > 0 } live)
            return [ApiKeyCredential.For(provider.Id, live.Trim(), $"DURAR_LIVE_{p}_KEY")];

        var found = new List<(string Secret, string Source)>();
        if (Expand(provider.ConfigApiKey) is { Length: > 0 } configured) found.Add((configured, $"models.providers.{provider.Id}.apiKey"));
        if (lookup($"{p}_API_KEYS") is { Length: > 0 } list)
            foreach (var k in list.Split([' ', '\t', '\n', '\r', ',', ';'], StringSplitOptions.RemoveEmptyEntries))
                found.Add((k, $"{p}_API_KEYS"));
        if (lookup($"{p}_API_KEY") is { Length: > 0 } single) found.Add((single, $"{p}_API_KEY"));
        foreach (var name in variableNames().Where(n => n.StartsWith($"{p}_API_KEY_", StringComparison.Ordinal)).Order(NaturalOrder.Instance))
            if (lookup(name) is { Length: > 0 } numbered) found.Add((numbered, name));
        if (p == "GEMINI" && lookup("GOOGLE_API_KEY") is { Length: > 0 } google) found.Add((google, "GOOGLE_API_KEY"));
        foreach (var name in provider.EnvVars)
            if (lookup(name) is { Length: > 0 } extra) found.Add((extra, name));

        var seen = new HashSet<string>(StringComparer.Ordinal);
        return found.Select(f => (Secret: f.Secret.Trim(), f.Source))
            .Where(f => f.Secret.Length > 0 && seen.Add(f.Secret))
            .Select(f => ApiKeyCredential.For(provider.Id, f.Secret, f.Source))
            .ToImmutableArray();
    }

    /// <summary>Expands <c>${NAME}</c> references; an unset variable expands to nothing (the key is then absent).</summary>
    public string? Expand(string? value)
    {
        if (string.IsNullOrEmpty(value) || !value.Contains("${", StringComparison.Ordinal)) return value;
        var sb = new StringBuilder();
        var i = 0;
        while (i < value.Length)
        {
            var start = value.IndexOf("${", i, StringComparison.Ordinal);
            var end = start < 0 ? -1 : value.IndexOf('}', start + 2);
            if (start < 0 || end < 0)
            {
                sb.Append(value, i, value.Length - i);
                break;
            }
            sb.Append(value, i, start - i);
            sb.Append(lookup(value[(start + 2)..end]) ?? "");
            i = end + 1;
        }
        return sb.ToString();
    }

    /// <summary>Orders <c>X_API_KEY_2</c> before <c>X_API_KEY_10</c>.</summary>
    private sealed class NaturalOrder : IComparer<string>
    {
        public static readonly NaturalOrder Instance = new();
        public int Compare(string? a, string? b)
        {
            var (pa, na) = Split(a!);
            var (pb, nb) = Split(b!);
            var c = string.CompareOrdinal(pa, pb);
            return c != 0 ? c : na != nb ? na.CompareTo(nb) : string.CompareOrdinal(a, b);
        }

        private static (string Prefix, long Number) Split(string s)
        {
            var i = s.Length;
            while (i > 0 && char.IsAsciiDigit(s[i - 1])) i--;
            return i < s.Length && long.TryParse(s.AsSpan(i), out var n) ? (s[..i], n) : (s, -1);
        }
    }
}
