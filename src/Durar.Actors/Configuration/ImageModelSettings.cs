using System.Collections.Immutable;
using Akka.Configuration;
using Durar.Actors.Models;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// <c>agents.defaults.imageModel</c>: where a turn with images goes when the model it names cannot read them (its catalog
/// <c>input</c> lacks <c>image</c>; reference item 13). It exists so a text-only primary (a cheap or local model) can stay
/// the default while image turns are answered by a model that sees them, instead of failing upstream. Written as a model
/// ref or, as OpenClaw writes it, <c>{ primary, fallbacks }</c>.
/// </summary>
/// <param name="Primary">The model (a <c>provider/model</c> ref or an alias) image turns are routed to; null = none (such a turn is a 400 naming the model).</param>
/// <param name="Fallbacks">Further models tried after <paramref name="Primary"/> for a routed turn.</param>
internal sealed record ImageModelSettings(string? Primary, ImmutableArray<string> Fallbacks)
{
    private const string Path = "agents.defaults.imageModel";

    /// <summary>The values of the built-in <c>durar.conf</c>.</summary>
    public static readonly ImageModelSettings Default = Read(DurarSettingsLoader.Defaults);

    /// <summary>Reads and checks the key; <paramref name="config"/> has the defaults layered underneath.</summary>
    /// <exception cref="DurarConfigException">The value is missing or malformed; the message names its key path.</exception>
    public static ImageModelSettings Read(Config config)
    {
        var defaults = Child(Child(config.Root, "agents"), "defaults");
        var value = Child(defaults, "imageModel") ?? throw new DurarConfigException(Path, "is required (\"\" = no image model)");
        string? primary;
        ImmutableArray<string> fallbacks = [];
        if (value.IsObject())
        {
            primary = String(value, "primary", Path) ?? throw new DurarConfigException($"{Path}.primary", "is required in the object form");
            if (Child(value, "fallbacks") is not null) fallbacks = StringList(value, "fallbacks", Path);
            foreach (var key in value.GetObject().Items.Keys.Where(k => k is not ("primary" or "fallbacks")))
                throw new DurarConfigException($"{Path}.{key}", "unknown key (expected primary or fallbacks)");
        }
        else primary = String(defaults, "imageModel", "agents.defaults");
        primary = primary?.Trim();
        if (string.IsNullOrEmpty(primary))
        {
            if (!fallbacks.IsEmpty) throw new DurarConfigException($"{Path}.primary", "is empty but fallbacks are set");
            return new ImageModelSettings(null, []);
        }
        var refPath = value.IsObject() ? $"{Path}.primary" : Path;
        Check(primary, refPath);
        for (var i = 0; i < fallbacks.Length; i++) Check(fallbacks[i], $"{Path}.fallbacks[{i}]");
        return new ImageModelSettings(primary, fallbacks);
    }

    private static void Check(string model, string path)
    {
        if (!ModelRef.TryParse(model, out _) && !ModelRef.IsValidBareName(model))
            throw new DurarConfigException(path, $"malformed model ref \"{model}\" (expected provider/model or an alias)");
    }
}
