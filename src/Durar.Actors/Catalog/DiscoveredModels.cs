using System.Collections.Immutable;

namespace Durar.Actors.Catalog;

/// <summary>
/// Models a provider reported itself (a local Ollama's installed models), kept beside the configured catalog: the catalog is
/// fixed at start, these change while the gateway runs. It exists so that discovered models are listed by
/// <c>GET /v1/models</c>, resolve by their bare id, and carry their own context window, without a models list in the
/// configuration. One immutable snapshot per provider, replaced whole by the discovery; readers never lock.
/// </summary>
internal sealed class DiscoveredModels
{
    private ImmutableDictionary<string, ImmutableArray<ModelDefinition>> _byProvider =
        ImmutableDictionary<string, ImmutableArray<ModelDefinition>>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>The models <paramref name="providerId"/> reported last; empty before its first listing.</summary>
    public ImmutableArray<ModelDefinition> For(string providerId) =>
        Volatile.Read(ref _byProvider).TryGetValue(providerId, out var models) ? models : [];

    /// <summary>A discovered model of <paramref name="providerId"/> by id (case-insensitive), or null.</summary>
    public ModelDefinition? Find(string providerId, string modelId)
    {
        foreach (var m in For(providerId))
            if (string.Equals(m.Id, modelId, StringComparison.OrdinalIgnoreCase)) return m;
        return null;
    }

    /// <summary>The providers that reported a model with this id.</summary>
    public IEnumerable<string> Owners(string modelId)
    {
        foreach (var (provider, models) in Volatile.Read(ref _byProvider))
            if (models.Any(m => string.Equals(m.Id, modelId, StringComparison.OrdinalIgnoreCase))) yield return provider;
    }

    /// <summary>
    /// What has been reported so far, as an object that changes (by reference) whenever <see cref="Set"/> does: a
    /// resolution that read the discovered models is valid while this stays the same (<see cref="Models.ModelResolver"/>'s memo).
    /// </summary>
    public object Version => Volatile.Read(ref _byProvider);

    /// <summary>Replaces what <paramref name="providerId"/> reported.</summary>
    public void Set(string providerId, ImmutableArray<ModelDefinition> models) =>
        ImmutableInterlocked.AddOrUpdate(ref _byProvider, providerId, models, (_, _) => models);
}
