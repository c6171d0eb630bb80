using System.Collections.Immutable;
using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// <c>gateway.oauth</c>: where <c>durar auth login</c> signs in for each OAuth provider (GitHub's device flow for Copilot,
/// the ChatGPT and Google PKCE flows), and the installed-app client secrets the gateway sends when it refreshes the
/// profiles those logins stored. It exists so every endpoint can point elsewhere (GitHub Enterprise, a fake on loopback);
/// the values and their comments live in <c>durar.conf</c>.
/// </summary>
/// <param name="LoginTimeout">Longest a login waits for the user.</param>
/// <param name="Clients">The login of each provider, keyed by its flow name (<see cref="GitHubCopilot"/>, ...).</param>
public sealed record OAuthLoginSettings(TimeSpan LoginTimeout, ImmutableDictionary<string, OAuthClientSettings> Clients)
{
    public const string Section = "gateway.oauth";
    public const string GitHubCopilot = "github-copilot";
    public const string OpenAiCodex = "openai-codex";
    public const string GoogleGeminiCli = "google-gemini-cli";

    /// <summary>The flows <c>durar auth login</c> knows, in the order its help lists them.</summary>
    public static readonly ImmutableArray<string> Flows = [GitHubCopilot, OpenAiCodex, GoogleGeminiCli];

    /// <summary>The values of the built-in defaults file, for settings built without the loader.</summary>
    public static OAuthLoginSettings Defaults { get; } = Read(DurarSettingsLoader.Defaults);

    /// <summary>
    /// The client secret configured for <paramref name="clientId"/>, sent with a refresh of a profile stored by a login
    /// (Google's token endpoint wants the installed app's secret); null for a client without one.
    /// </summary>
    public string? SecretFor(string? clientId) =>
        clientId is null ? null : Clients.Values.FirstOrDefault(c => c.ClientId == clientId && c.ClientSecret is not null)?.ClientSecret;

    /// <exception cref="DurarConfigException">A value is missing or malformed; the message names its key path.</exception>
    public static OAuthLoginSettings Read(Config config)
    {
        var timeout = RequiredPositiveDuration(config, $"{Section}.loginTimeout");
        var clients = ImmutableDictionary.CreateBuilder<string, OAuthClientSettings>(StringComparer.Ordinal);
        clients[GitHubCopilot] = new OAuthClientSettings(
            Str(config, GitHubCopilot, "clientId"), null, Str(config, GitHubCopilot, "scope"),
            Url(config, GitHubCopilot, "deviceCodeUrl"), null, Url(config, GitHubCopilot, "tokenUrl"), null, null, 0);
        clients[OpenAiCodex] = new OAuthClientSettings(
            Str(config, OpenAiCodex, "clientId"), null, Str(config, OpenAiCodex, "scope"),
            null, Url(config, OpenAiCodex, "authorizeUrl"), Url(config, OpenAiCodex, "tokenUrl"), null,
            Redirect(config, OpenAiCodex), Port(config, OpenAiCodex));
        clients[GoogleGeminiCli] = new OAuthClientSettings(
            Str(config, GoogleGeminiCli, "clientId"), Str(config, GoogleGeminiCli, "clientSecret") is { Length: > 0 } s ? s : null,
            Str(config, GoogleGeminiCli, "scope"), null, Url(config, GoogleGeminiCli, "authorizeUrl"), Url(config, GoogleGeminiCli, "tokenUrl"),
            Url(config, GoogleGeminiCli, "userInfoUrl"), Redirect(config, GoogleGeminiCli), Port(config, GoogleGeminiCli));
        return new OAuthLoginSettings(timeout, clients.ToImmutable());
    }

    private static string Str(Config config, string flow, string key)
    {
        var path = $"{Section}.{flow}.{key}";
        var value = RequiredString(config, path).Trim();
        return value.Length > 0 || key == "clientSecret" ? value : throw new DurarConfigException(path, "must not be empty");
    }

    private static string Url(Config config, string flow, string key)
    {
        var url = Str(config, flow, key);
        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? url
            : throw new DurarConfigException($"{Section}.{flow}.{key}", $"must be an absolute http(s) URL (got \"{url}\")");
    }

    private static string Redirect(Config config, string flow)
    {
        var template = Str(config, flow, "redirectUri");
        return template.Contains("{port}", StringComparison.Ordinal) && Uri.TryCreate(template.Replace("{port}", "1", StringComparison.Ordinal), UriKind.Absolute, out var uri)
               && uri.Scheme == "http" && (uri.IsLoopback || uri.Host == "localhost")
            ? template
            : throw new DurarConfigException($"{Section}.{flow}.redirectUri", $"must be a loopback http URL with {{port}} in it (got \"{template}\")");
    }

    private static int Port(Config config, string flow) => (int)RequiredLong(config, $"{Section}.{flow}.redirectPort", 0, 65535);
}

/// <summary>One provider's sign-in: its public client, scopes and endpoints (null where its flow has no such step).</summary>
/// <param name="RedirectUri">The loopback redirect, with <c>{port}</c> for the listener's port (PKCE flows).</param>
/// <param name="RedirectPort">The listener's port; 0 = any free one.</param>
public sealed record OAuthClientSettings(
    string ClientId,
    string? ClientSecret,
    string Scope,
    string? DeviceCodeUrl,
    string? AuthorizeUrl,
    string TokenUrl,
    string? UserInfoUrl,
    string? RedirectUri,
    int RedirectPort)
{
    public override string ToString() => $"OAuthClientSettings({ClientId}, {TokenUrl})"; // never the client secret
}
