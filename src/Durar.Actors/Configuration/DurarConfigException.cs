namespace Durar.Actors.Configuration;

/// <summary>
/// A configuration problem found at start-up. It names the HOCON key path and the problem in one line,
/// so the host can print it and exit without a stack trace.
/// </summary>
public sealed class DurarConfigException(string path, string problem) : Exception($"{path}: {problem}")
{
    /// <summary>The HOCON key path of the offending value, e.g. <c>models.providers.lmstudio.api</c>.</summary>
    public string Path { get; } = path;

    /// <summary>What is wrong with the value, in plain words.</summary>
    public string Problem { get; } = problem;
}
