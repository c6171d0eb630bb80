using System.Collections.Frozen;
using System.Collections.Immutable;
using Akka.Configuration;
using Durar.Actors.Configuration;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Catalog;

/// <summary>
/// The built-in provider catalog (<c>Catalog/catalog.conf</c>, embedded): every provider the seed's model-providers page
/// names, with its API family, base URL, auth env vars and example models. Kept as data so adding a provider is an edit to
/// that file, not a code branch.
/// </summary>
internal static class BuiltInCatalog
{
    private const string Resource = "Durar.Actors.Catalog.catalog.conf";
    private static readonly Lazy<Loaded> Data = new(Load);

    public static ImmutableDictionary<string, ProviderDefinition> Providers => Data.Value.Providers;

    /// <summary>Provider id aliases (<c>z.ai</c> → <c>zai</c>), keys lower-case.</summary>
    public static FrozenDictionary<string, string> ProviderAliases => Data.Value.ProviderAliases;

    /// <summary>Legacy model refs and their current ids (<c>google/gemini-3.1-flash-preview</c> → <c>google/gemini-3-flash-preview</c>).</summary>
    public static FrozenDictionary<string, string> ModelAliases => Data.Value.ModelAliases;

    private sealed record Loaded(
        ImmutableDictionary<string, ProviderDefinition> Providers,
        FrozenDictionary<string, string> ProviderAliases,
        FrozenDictionary<string, string> ModelAliases);

    private static Loaded Load()
    {
        using var stream = typeof(BuiltInCatalog).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"embedded resource {Resource} is missing");
        using var reader = new StreamReader(stream);
        var config = ConfigurationFactory.ParseString(reader.ReadToEnd());
        var root = config.Root;

        var providerAliases = StringMap(root, "providerAliases", "catalog")
            .ToFrozenDictionary(kv => kv.Key.ToLowerInvariant(), kv => kv.Value.ToLowerInvariant(), StringComparer.Ordinal);
        var modelAliases = StringMap(root, "modelAliases", "catalog")
            .ToFrozenDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase);

        var providers = ImmutableDictionary.CreateBuilder<string, ProviderDefinition>(StringComparer.Ordinal);
        foreach (var (id, value) in Children(Child(root, "providers"), "catalog.providers"))
        {
            var path = Join("catalog.providers", id);
            var models = ImmutableArray.CreateBuilder<ModelDefinition>();
            if (value.GetObject().Items.GetValueOrDefault("models") is { } list)
            {
                var i = 0;
                foreach (var m in ListItems(list))
                {
                    var p = $"{path}.models[{i++}]";
                    models.Add(new ModelDefinition(
                        String(m, "id", p) ?? throw new DurarConfigException(p, "a model needs an id"),
                        String(m, "name", p) ?? String(m, "id", p)!,
                        Bool(m, "reasoning", p) ?? false,
                        Child(m, "input") is null ? ["text"] : StringList(m, "input", p),
                        Child(m, "cost") is { } c
                            ? new ModelCost(Double(c, "input", p) ?? 0, Double(c, "output", p) ?? 0, Double(c, "cacheRead", p) ?? 0, Double(c, "cacheWrite", p) ?? 0)
                            : ModelCost.Zero,
                        Long(m, "contextWindow", p) ?? ModelDefinition.DefaultContextWindow,
                        Long(m, "contextTokens", p),
                        Long(m, "maxTokens", p) ?? ModelDefinition.DefaultMaxTokens,
                        null) { Kind = ModelKinds.Read(m, p) ?? ModelKind.Chat });
                }
            }
            var api = String(value, "api", path) ?? throw new DurarConfigException(Join(path, "api"), "missing");
            if (!ApiKinds.All.Contains(api)) throw new DurarConfigException(Join(path, "api"), $"unknown api \"{api}\"");
            providers[id] = new ProviderDefinition
            {
                Id = id,
                Name = String(value, "name", path) ?? id,
                Api = api,
                BaseUrl = String(value, "baseUrl", path)?.TrimEnd('/'),
                OpenAiCompatBaseUrl = String(value, "openAiCompatBaseUrl", path)?.TrimEnd('/'),
                Auth = String(value, "auth", path) ?? "api-key",
                EnvVars = StringList(value, "envVars", path),
                Local = Bool(value, "local", path) ?? false,
                Headers = StringMap(value, "headers", path),
                BuiltIn = true,
                Models = models.ToImmutable(),
            };
        }
        return new Loaded(providers.ToImmutable(), providerAliases, modelAliases);
    }
}
