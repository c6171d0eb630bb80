using System.Collections.Immutable;
using Akka.Configuration;
using Akka.Configuration.Hocon;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>Where an effective configuration value comes from.</summary>
internal enum ConfigOrigin
{
    /// <summary>The built-in defaults (<c>config/hocon/durar.conf</c>).</summary>
    Default,
    /// <summary>The user's file (<c>--config</c> / <c>DURAR_CONFIG</c>), or its <c>env { }</c> block for a <c>${VAR}</c>.</summary>
    File,
    /// <summary>An environment variable (<c>DURAR_PORT</c>, <c>DURAR_GATEWAY_TOKEN</c>, a <c>${VAR}</c>, ...).</summary>
    Env,
}

/// <summary>One leaf of the effective configuration as an operator may see it (secrets already masked).</summary>
/// <param name="Variable">The environment variable the value came from, when it came from one.</param>
internal sealed record ConfigEntry(string Path, string Value, ConfigOrigin Origin, string? Variable = null);

/// <summary>A value an environment variable puts in place of a configuration key (<c>DURAR_PORT</c> → <c>gateway.port</c>).</summary>
internal sealed record EnvOverride(string Path, string Variable, string Value);

/// <summary>
/// The effective Durar configuration, leaf by leaf, with each value's origin and every secret masked
/// (<see cref="ConfigSecrets"/>): what <c>durar config check</c> prints. Lists of plain values are one leaf
/// (<c>[30s, 60s, 5m]</c>), lists of objects are indexed (<c>models.providers.local.models[0].id</c>), empty sections
/// show as <c>{}</c>. A provider's <c>apiKey</c> that names a <c>${VAR}</c> shows the variable and its (masked) value.
/// </summary>
internal static class EffectiveConfig
{
    /// <param name="effective">The configuration the gateway runs with (user layers over the defaults).</param>
    /// <param name="file">The user's file alone (no defaults underneath), or null when there is none.</param>
    /// <param name="overrides">Values environment variables set in place of configuration keys.</param>
    /// <param name="environment">Reads the process environment (for <c>${VAR}</c>); null = the real one.</param>
    public static ImmutableArray<ConfigEntry> Describe(Config effective, Config? file, IReadOnlyList<EnvOverride> overrides,
        Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var fromFile = new HashSet<string>(StringComparer.Ordinal);
        if (file is not null)
            foreach (var root in ConfigShape.Roots)
                if (Child(file.Root, root) is { } value)
                    Flatten(value, [root], root, (path, _, _) => fromFile.Add(path));

        var envBlock = StringMap(effective.Root, "env", "");
        var byPath = overrides.ToDictionary(o => o.Path, StringComparer.Ordinal);
        var entries = ImmutableArray.CreateBuilder<ConfigEntry>();
        foreach (var root in ConfigShape.Roots)
        {
            if (Child(effective.Root, root) is not { } value) continue;
            Flatten(value, [root], root, (path, segments, text) =>
            {
                if (byPath.TryGetValue(path, out var o))
                {
                    entries.Add(new ConfigEntry(path, Show(segments, o.Value), ConfigOrigin.Env, o.Variable));
                    return;
                }
                var origin = fromFile.Contains(path) ? ConfigOrigin.File : ConfigOrigin.Default;
                if (segments[^1] == "apiKey" && ConfigLint.Variables(text).ToList() is { Count: > 0 } names)
                {
                    entries.Add(Expanded(path, text, names, environment, envBlock, origin));
                    return;
                }
                entries.Add(new ConfigEntry(path, Show(segments, text), origin));
            });
        }
        return entries.ToImmutable();
    }

    /// <summary>A value as printed: secrets masked, a connection string's password masked, empty strings as <c>""</c>.</summary>
    private static string Show(IReadOnlyList<string> segments, string text)
    {
        if (text.Length == 0) return "\"\"";
        if (ConfigSecrets.IsSecret(segments)) return ConfigSecrets.Mask(text);
        return segments[^1] == "connectionString" ? ConfigSecrets.MaskConnectionString(text) : text;
    }

    /// <summary><c>${NAME}</c> references, each with its masked value, or <c>(not set)</c>; from the environment first, as keys are.</summary>
    private static ConfigEntry Expanded(string path, string text, List<string> names, Func<string, string?> environment,
        IReadOnlyDictionary<string, string> envBlock, ConfigOrigin written)
    {
        var parts = new List<string>();
        string? variable = null;
        var fromEnvironment = false;
        foreach (var name in names)
        {
            if (environment(name) is { Length: > 0 } v)
            {
                parts.Add($"${{{name}}} = {ConfigSecrets.Mask(v)}");
                variable ??= name;
                fromEnvironment = true;
            }
            else if (envBlock.TryGetValue(name, out var b) && b.Length > 0) parts.Add($"${{{name}}} = {ConfigSecrets.Mask(b)} (env {{ }})");
            else parts.Add($"${{{name}}} (not set)");
        }
        return new ConfigEntry(path, string.Join(", ", parts), fromEnvironment ? ConfigOrigin.Env : written, variable);
    }

    private static void Flatten(HoconValue value, List<string> segments, string path, Action<string, List<string>, string> leaf)
    {
        if (IsList(value))
        {
            var items = ListItems(value);
            if (items.Count > 0 && items.All(i => i.IsObject()))
            {
                for (var i = 0; i < items.Count; i++) Flatten(items[i], segments, $"{path}[{i}]", leaf);
                return;
            }
            leaf(path, segments, "[" + string.Join(", ", items.Select(i => i.IsString() ? i.GetString() : i.ToString())) + "]");
            return;
        }
        if (value.IsObject())
        {
            var children = value.GetObject().Items;
            if (children.Count == 0)
            {
                leaf(path, segments, "{}");
                return;
            }
            foreach (var (key, child) in children.OrderBy(c => c.Key, StringComparer.Ordinal))
                Flatten(child, [.. segments, key], Join(path, key), leaf);
            return;
        }
        leaf(path, segments, value.IsEmpty ? "" : value.GetString() ?? "");
    }
}
