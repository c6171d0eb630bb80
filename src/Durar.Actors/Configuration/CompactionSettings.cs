using Akka.Configuration;
using Durar.Actors.Models;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// <c>agents.defaults.compaction</c>: how a session whose history outgrows its model's context is compacted (issue 18). It
/// exists so the model that writes the summaries is the operator's choice (a cheaper model, a larger context) and read
/// from <c>durar.conf</c>, where its default and comment live.
/// </summary>
/// <param name="Model">The model (a <c>provider/model</c> ref or an alias) that summarises older turns; null = the session's own model.</param>
internal sealed record CompactionSettings(string? Model)
{
    private const string Path = "agents.defaults.compaction";

    /// <summary>The values of the built-in <c>durar.conf</c>.</summary>
    public static readonly CompactionSettings Default = Read(DurarSettingsLoader.Defaults);

    /// <summary>Reads and checks the keys; <paramref name="config"/> has the defaults layered underneath.</summary>
    /// <exception cref="DurarConfigException">A value is missing or malformed; the message names its key path.</exception>
    public static CompactionSettings Read(Config config)
    {
        var section = Child(Child(Child(config.Root, "agents"), "defaults"), "compaction");
        var model = String(section, "model", Path) ?? throw new DurarConfigException($"{Path}.model", "is required (\"\" = the session's model)");
        model = model.Trim();
        if (model.Length == 0) return new CompactionSettings((string?)null);
        if (!ModelRef.TryParse(model, out _) && !ModelRef.IsValidBareName(model))
            throw new DurarConfigException($"{Path}.model", $"malformed model ref \"{model}\" (expected provider/model or an alias)");
        return new CompactionSettings(model);
    }
}
