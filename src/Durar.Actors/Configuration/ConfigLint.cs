using System.Collections.Immutable;
using Akka.Configuration;
using Akka.Configuration.Hocon;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>A configuration mistake that does not stop the gateway but would otherwise pass without a word.</summary>
/// <param name="Path">The key path, as configuration errors name it (<c>models.providers.local.apiKey</c>).</param>
internal sealed record ConfigProblem(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>
/// Finds the configuration mistakes the loader lets through: a key Durar does not read (a top-level <c>modles { }</c>, a
/// <c>gateway.prot</c>), named with the closest known key of its level (<see cref="KeySuggestion"/>), and a
/// <c>${VAR}</c> in a provider's <c>apiKey</c> that is set neither in the environment nor in <c>env { }</c> (the provider
/// would then have no key, and its requests would fail far from the cause). The gateway logs each as a warning at start;
/// <c>durar config check</c> reports each as an error. Top-level keys that are not Durar's are someone else's
/// (<c>akka</c>, a library's section) and pass, unless they are one typo away from a Durar root.
/// </summary>
internal static class ConfigLint
{
    private const int ListKnownUpTo = 16;

    /// <summary>Checks <paramref name="config"/> (the user's layers over the defaults).</summary>
    /// <param name="environment">Reads the process environment (tests pass their own); null = the real one.</param>
    public static ImmutableArray<ConfigProblem> Check(Config config, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var problems = ImmutableArray.CreateBuilder<ConfigProblem>();
        var defaults = DurarSettingsLoader.Defaults.Root;
        foreach (var (key, value) in config.Root.GetObject().Items)
        {
            if (ConfigShape.Roots.Contains(key))
                Walk(value, ConfigShape.ForRoot(key, Child(defaults, key)), key, problems);
            else if (KeySuggestion.Closest(key, ConfigShape.Roots) is { } root)
                problems.Add(new ConfigProblem(key, $"unknown key `{key}` (did you mean `{root}`?)"));
        }
        UnsetVariables(config, environment, problems);
        return problems.ToImmutable();
    }

    private static void Walk(HoconValue value, ConfigShape shape, string path, ImmutableArray<ConfigProblem>.Builder problems)
    {
        if (IsList(value))
        {
            var i = 0;
            foreach (var item in ListItems(value)) Walk(item, shape, $"{path}[{i++}]", problems);
            return;
        }
        if (!value.IsObject()) return;
        foreach (var (key, child) in value.GetObject().Items)
        {
            if (shape.Known is { } known && !known.Contains(key))
                problems.Add(new ConfigProblem(Join(path, key), Unknown(key, known)));
            else
                Walk(child, shape.Child(key), Join(path, key), problems);
        }
    }

    private static string Unknown(string key, IReadOnlyCollection<string> known) =>
        KeySuggestion.Closest(key, known) is { } suggestion ? $"unknown key `{key}` (did you mean `{suggestion}`?)"
        : known.Count is > 0 and <= ListKnownUpTo ? $"unknown key `{key}` (expected one of: {string.Join(", ", known.Order(StringComparer.Ordinal))})"
        : $"unknown key `{key}`";

    /// <summary>
    /// Every <c>${NAME}</c> of a provider's <c>apiKey</c> (the values <see cref="Providers.KeySources.Expand"/> expands) that
    /// the environment and <c>env { }</c> leave unset.
    /// </summary>
    private static void UnsetVariables(Config config, Func<string, string?> environment, ImmutableArray<ConfigProblem>.Builder problems)
    {
        var envBlock = Child(config.Root, "env") is { } env && env.IsObject() ? env.GetObject().Items : [];
        string? Lookup(string name) =>
            environment(name) is { Length: > 0 } v ? v
            : envBlock.TryGetValue(name, out var block) && block.IsString() && block.GetString() is { Length: > 0 } b ? b : null;

        var providers = Child(Child(config.Root, "models"), "providers");
        if (providers is null || !providers.IsObject()) return;
        foreach (var (id, provider) in providers.GetObject().Items)
        {
            if (Child(provider, "apiKey") is not { } apiKey || !apiKey.IsString()) continue;
            foreach (var name in Variables(apiKey.GetString()))
                if (Lookup(name) is null)
                    problems.Add(new ConfigProblem(Join(Join("models.providers", id), "apiKey"),
                        $"`${{{name}}}` is not set (neither in the environment nor in env {{ }}): provider `{id}` gets no key from it"));
        }
    }

    /// <summary>The names of the <c>${NAME}</c> references in <paramref name="value"/>, parsed as <c>KeySources.Expand</c> parses them.</summary>
    public static IEnumerable<string> Variables(string? value)
    {
        if (string.IsNullOrEmpty(value)) yield break;
        var i = 0;
        while (true)
        {
            var start = value.IndexOf("${", i, StringComparison.Ordinal);
            var end = start < 0 ? -1 : value.IndexOf('}', start + 2);
            if (start < 0 || end < 0) yield break;
            yield return value[(start + 2)..end];
            i = end + 1;
        }
    }
}
