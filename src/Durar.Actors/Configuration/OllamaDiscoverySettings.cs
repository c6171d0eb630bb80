using Akka.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// <c>gateway.ollama</c>: how often the gateway asks a local Ollama which models are installed (<c>GET /api/tags</c>, then
/// <c>POST /api/show</c> per model for its context window and capabilities). It exists so discovery runs on its own pace,
/// never on the request path; the values and their comments live in <c>durar.conf</c>.
/// </summary>
/// <param name="DiscoveryInterval">Time between two listings of the installed models.</param>
/// <param name="DiscoveryTimeout">Longest one listing (all its calls) may take before it counts as failed.</param>
internal sealed record OllamaDiscoverySettings(TimeSpan DiscoveryInterval, TimeSpan DiscoveryTimeout)
{
    /// <summary>The HOCON section these settings come from.</summary>
    public const string Section = "gateway.ollama";

    /// <summary>Reads <c>gateway.ollama</c> from a configuration that has the defaults layered underneath.</summary>
    /// <exception cref="DurarConfigException">A value is missing or not a positive duration; the message names its key path.</exception>
    public static OllamaDiscoverySettings Read(Config config) => new(
        RequiredPositiveDuration(config, $"{Section}.discoveryInterval"),
        RequiredPositiveDuration(config, $"{Section}.discoveryTimeout"));
}
