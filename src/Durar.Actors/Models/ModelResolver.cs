using System.Collections.Immutable;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;

namespace Durar.Actors.Models;

/// <summary>A model ref resolved to its provider and model definition, plus its <c>agents.defaults.models</c> entry if any.</summary>
internal sealed record ResolvedModel(ProviderDefinition Provider, ModelDefinition Model, ModelEntrySettings? Entry)
{
    public ModelRef Ref { get; } = new(Provider.Id, Model.Id);
    public override string ToString() => Ref.ToString();
}

/// <summary>Why a model name did not resolve; <see cref="ResolveResult.Message"/> is user-facing.</summary>
internal enum ResolveFailure { None, UnknownProvider, UnknownModel, Ambiguous, Malformed, NotAllowed }

internal readonly record struct ResolveResult(ResolvedModel? Model, ResolveFailure Failure, string? Message)
{
    public bool Success => Model is not null;
    public static ResolveResult Ok(ResolvedModel m) => new(m, ResolveFailure.None, null);
    public static ResolveResult Fail(ResolveFailure f, string message) => new(null, f, message);
}

/// <summary>
/// Turns what a client or config names (<c>provider/model</c>, an alias, a bare model id, or <c>durar</c>) into a
/// <see cref="ResolvedModel"/>, in the reference's order: alias first, then a unique provider match for a bare id.
/// Legacy ids are rewritten (<c>google/gemini-3.1-flash-preview</c>); unknown ids of a known provider pass through.
/// </summary>
internal sealed class ModelResolver
{
    /// <summary>The name that means "the configured primary, with its fallbacks".</summary>
    public const string DefaultTarget = "durar";

    private readonly ProviderCatalog _catalog;
    private readonly AgentDefaults _agents;
    private readonly ImmutableDictionary<string, string> _aliases; // alias (case-insensitive) → ref
    private readonly ILookup<string, ProviderDefinition> _bareIndex;

    public ModelResolver(ProviderCatalog catalog, AgentDefaults agents)
    {
        _catalog = catalog;
        _agents = agents;
        _aliases = agents.Models.Values.Where(e => !string.IsNullOrWhiteSpace(e.Alias))
            .GroupBy(e => e.Alias!, StringComparer.OrdinalIgnoreCase)
            .ToImmutableDictionary(g => g.Key, g => g.First().Ref, StringComparer.OrdinalIgnoreCase);
        _bareIndex = catalog.Providers.Values
            .SelectMany(p => p.Models.Select(m => (m.Id, p)))
            .ToLookup(x => x.Id, x => x.p, StringComparer.OrdinalIgnoreCase);
        Policy = new ModelPolicy(agents.Allow);
    }

    public ModelPolicy Policy { get; }

    /// <summary><c>agents.defaults.imageModel</c>: where image turns go when their model cannot read images (<see cref="Routing.ImageRouting"/>).</summary>
    public Configuration.ImageModelSettings ImageModel { get; init; } = Configuration.ImageModelSettings.Default;

    /// <summary>The configured chain after the requested model: <c>agents.defaults.model.fallbacks</c>, then the primary.</summary>
    public IEnumerable<string> ConfiguredFallbacks => _agents.Primary is null ? _agents.Fallbacks : _agents.Fallbacks.Append(_agents.Primary);

    public ProviderCatalog Catalog => _catalog;

    public static bool IsDefaultTarget(string? name) =>
        string.Equals(name, DefaultTarget, StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, DefaultTarget + "/default", StringComparison.OrdinalIgnoreCase);

    /// <summary>The most names <see cref="_memo"/> keeps: the configured ones and what clients send, bounded (a name is client input).</summary>
    internal const int MemoCapacity = 1024;

    /// <summary>
    /// Resolutions by name, with the <see cref="DiscoveredModels.Version"/> they were made under. Everything else a
    /// resolution reads (the catalog's providers, the aliases, <c>agents.defaults.models</c>) is fixed for the resolver's
    /// life, so a name resolves to the same result until a provider reports its models again; then it is resolved anew.
    /// Issue 17: a session turn resolved its model five to seven times (plan, request settings, cost, charge), each
    /// parsing the ref and allocating the strings and records of the result.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Memo> _memo = new(StringComparer.Ordinal);

    private sealed record Memo(object Version, ResolveResult Result);

    public ResolveResult Resolve(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return ResolveResult.Fail(ResolveFailure.Malformed, "`model` is required.");
        var version = _catalog.Discovered.Version;
        if (_memo.TryGetValue(name, out var memo) && ReferenceEquals(memo.Version, version)) return memo.Result;
        var result = ResolveNew(name);
        if (memo is not null || _memo.Count < MemoCapacity) _memo[name] = new Memo(version, result);
        return result;
    }

    private ResolveResult ResolveNew(string name)
    {
        name = name.Trim();
        if (IsDefaultTarget(name))
        {
            return _agents.Primary is null
                ? ResolveResult.Fail(ResolveFailure.UnknownModel, "No default model is configured (agents.defaults.model.primary).")
                : Resolve(_agents.Primary);
        }
        if (!name.Contains('/'))
        {
            if (_aliases.TryGetValue(name, out var target)) return Resolve(target);
            var owners = _bareIndex[name].Distinct().ToList();
            if (owners.Count == 0) owners = _catalog.Discovered.Owners(name).Select(_catalog.Find).OfType<ProviderDefinition>().ToList();
            if (owners.Count == 1) return ResolveRef(new ModelRef(owners[0].Id, name));
            return owners.Count == 0
                ? ResolveResult.Fail(ResolveFailure.UnknownModel, $"The model `{name}` does not exist. Use provider/model or a configured alias.")
                : ResolveResult.Fail(ResolveFailure.Ambiguous,
                    $"The model `{name}` is offered by several providers ({string.Join(", ", owners.Select(o => o.Id).Order())}). Use provider/model.");
        }
        return ModelRef.TryParse(name, out var parsed)
            ? ResolveRef(parsed)
            : ResolveResult.Fail(ResolveFailure.Malformed, $"`{name}` is not a model ref (expected provider/model).");
    }

    private ResolveResult ResolveRef(ModelRef r)
    {
        if (BuiltInCatalog.ModelAliases.TryGetValue(r.ToString(), out var current) && ModelRef.TryParse(current, out var upgraded))
            r = upgraded;
        var provider = _catalog.Find(r.Provider);
        if (provider is null)
            return ResolveResult.Fail(ResolveFailure.UnknownProvider, $"The model `{r}` does not exist: unknown provider `{r.Provider}`.");
        var model = provider.FindModel(r.Model) ?? _catalog.Discovered.Find(provider.Id, r.Model) ?? ModelDefinition.PassThrough(r.Model);
        _agents.Models.TryGetValue(new ModelRef(provider.Id, model.Id).ToString(), out var entry);
        return ResolveResult.Ok(new ResolvedModel(provider, model, entry));
    }
}
