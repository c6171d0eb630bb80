using System.Collections.Immutable;
using Akka.Configuration;

namespace Durar.Actors.Configuration;

/// <summary>
/// <c>gateway.googleCloud</c>: the Google Cloud project and region the Vertex AI wires (<c>google-vertex</c>,
/// <c>anthropic-vertex</c>) and Cloud Code Assist (<c>google-gemini-cli</c>) call, and an optional credentials file for Google's
/// Application Default Credentials. Each value left empty falls back to the environment Google's own tools read
/// (<see cref="ProjectEnv"/>, <see cref="LocationEnv"/>, <c>GOOGLE_APPLICATION_CREDENTIALS</c>), looked up in the config's
/// <c>env</c> block first, then the process.
/// </summary>
/// <param name="Project">The project id; null when neither the config nor the environment names one.</param>
/// <param name="Location">The region (<c>us-central1</c>, <c>europe-west4</c>, <c>global</c>); null when unnamed.</param>
/// <param name="CredentialsFile">A credentials JSON file (service account, authorized user, external account); null = ADC's own search.</param>
public sealed record GoogleCloudSettings(string? Project, string? Location, string? CredentialsFile)
{
    /// <summary>Nothing configured (a registry built without settings, e.g. in a unit spec).</summary>
    public static readonly GoogleCloudSettings None = new(null, null, null);

    /// <summary>The HOCON section these settings come from.</summary>
    public const string Section = "gateway.googleCloud";

    /// <summary>The environment variables of the project (the first set wins) and of the location.</summary>
    public static readonly ImmutableArray<string> ProjectEnv = ["GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT_ID"];

    /// <inheritdoc cref="ProjectEnv"/>
    public const string LocationEnv = "GOOGLE_CLOUD_LOCATION";

    /// <summary>Reads <c>gateway.googleCloud</c>, each empty value resolved from <paramref name="env"/> (then the process environment).</summary>
    public static GoogleCloudSettings Read(Config config, IReadOnlyDictionary<string, string> env)
    {
        return new GoogleCloudSettings(
            Value("project") ?? ProjectEnv.Select(Env).FirstOrDefault(v => v is not null),
            Value("location") ?? Env(LocationEnv),
            Value("credentialsFile") ?? Env("GOOGLE_APPLICATION_CREDENTIALS"));

        string? Value(string key) => config.HasPath($"{Section}.{key}") && config.GetString($"{Section}.{key}") is { Length: > 0 } v ? v.Trim() : null;

        string? Env(string name) =>
            env.TryGetValue(name, out var v) && v.Length > 0 ? v : Environment.GetEnvironmentVariable(name) is { Length: > 0 } p ? p : null;
    }

    /// <summary>
    /// The error for a provider of <paramref name="api"/> that needs the project (and location) when one is unfilled, naming
    /// the key path and its environment variable; null when both are set.
    /// </summary>
    public DurarConfigException? Unfilled(string providerId, string api, bool needsLocation = true)
    {
        if (Project is null)
            return new DurarConfigException($"{Section}.project",
                $"is unfilled: provider \"{providerId}\" ({api}) calls a Google Cloud project; set it, or {ProjectEnv[0]}");
        if (Location is null && needsLocation)
            return new DurarConfigException($"{Section}.location",
                $"is unfilled: provider \"{providerId}\" ({api}) calls a Google Cloud region (e.g. us-central1, global); set it, or {LocationEnv}");
        return null;
    }
}
