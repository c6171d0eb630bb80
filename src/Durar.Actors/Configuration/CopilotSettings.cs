using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// <c>gateway.copilot</c>: where GitHub Copilot keys exchange their GitHub token for a Copilot token. It exists because the
/// address differs for GitHub Enterprise and in tests (a loopback fake); the value and its comment live in <c>durar.conf</c>.
/// </summary>
/// <param name="TokenUrl">The token-exchange endpoint (<c>GET</c>, <c>Authorization: token &lt;GitHub token&gt;</c>).</param>
internal sealed record CopilotSettings(string TokenUrl)
{
    public const string Section = "gateway.copilot";

    /// <summary>The values of the built-in defaults file, for settings built without the loader.</summary>
    public static CopilotSettings Defaults { get; } = Read(DurarSettingsLoader.Defaults);

    /// <exception cref="DurarConfigException">The URL is missing or not an absolute http(s) URL; the message names its key path.</exception>
    public static CopilotSettings Read(Config config)
    {
        var path = $"{Section}.tokenUrl";
        var url = RequiredString(config, path);
        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? new CopilotSettings(url)
            : throw new DurarConfigException(path, $"must be an absolute http(s) URL (got \"{url}\")");
    }
}
