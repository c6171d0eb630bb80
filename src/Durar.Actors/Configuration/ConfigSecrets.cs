using System.Text.RegularExpressions;

namespace Durar.Actors.Configuration;

/// <summary>
/// Which configuration values are secrets, and how they are shown (by <c>durar config check</c>, or anywhere a value is
/// printed): a provider's <c>apiKey</c>, the gateway <c>token</c>, <c>gateway.secrets.key</c>, any key named like a key,
/// token, secret or password, credential headers, a provider's <c>request.proxy</c> (its URL may hold a password), variables of <c>env { }</c> named like one, and the password of a
/// connection string. A secret is shown as its last four characters (<c>…abcd</c>, as the admin API shows keys), or as
/// <c>…</c> alone when it is too short to give four away.
/// </summary>
internal static partial class ConfigSecrets
{
    private static readonly string[] SecretSuffixes = ["key", "token", "secret", "password"];

    private static readonly string[] CredentialHeaders = ["authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "x-goog-api-key"];

    /// <summary>True when the value at <paramref name="segments"/> (the key path, one key per element) is a secret.</summary>
    public static bool IsSecret(IReadOnlyList<string> segments)
    {
        if (segments.Count == 0) return false;
        var key = segments[^1];
        if (segments.Count >= 2 && segments[0] == "env") return NamesASecret(key);
        // models.providers.<id>.request.proxy may carry user:password in its URL.
        if (segments.Count >= 2 && segments[^2] == "request" && key == "proxy") return true;
        if (segments.Count >= 2 && segments[^2] == "headers")
            return CredentialHeaders.Contains(key.ToLowerInvariant()) || NamesASecret(key);
        return SecretSuffixes.Any(s => key.EndsWith(s, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>True for a variable or header name that says it holds a secret (<c>OPENAI_API_KEY</c>, <c>X-Auth-Token</c>).</summary>
    public static bool NamesASecret(string name)
    {
        var upper = name.ToUpperInvariant();
        return upper.Contains("KEY", StringComparison.Ordinal) || upper.Contains("TOKEN", StringComparison.Ordinal)
            || upper.Contains("SECRET", StringComparison.Ordinal) || upper.Contains("PASSWORD", StringComparison.Ordinal)
            || upper.Contains("PASSWD", StringComparison.Ordinal) || upper.Contains("CREDENTIAL", StringComparison.Ordinal);
    }

    /// <summary>A secret as it may be printed: <c>…</c> plus its last four characters (nothing of one up to eight long); empty stays empty.</summary>
    public static string Mask(string? secret) =>
        string.IsNullOrEmpty(secret) ? "" : secret.Length <= 8 ? "…" : "…" + secret[^4..];

    /// <summary>A connection string with its password masked (<c>Password=…</c>); everything else is kept.</summary>
    public static string MaskConnectionString(string connectionString) =>
        PasswordPart().Replace(connectionString, m => m.Groups[1].Value + "…");

    [GeneratedRegex(@"((?:^|;)\s*(?:password|pwd)\s*=\s*)[^;]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordPart();
}
