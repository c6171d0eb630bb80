using System.Collections.Immutable;
using Durar.Actors.Configuration;
using Durar.Actors.Models;

namespace Durar.Actors.Catalog;

/// <summary>
/// The providers this node serves: the built-in catalog merged with <c>models.providers</c> (mode <c>merge</c>), or the
/// configured providers alone (mode <c>replace</c>). In both modes a configured id that the catalog knows starts from the
/// catalog entry, so <c>models.providers.openai-codex.models[0].contextTokens</c> alone is a valid override.
/// </summary>
internal sealed class ProviderCatalog
{
    public ImmutableDictionary<string, ProviderDefinition> Providers { get; }

    public ProviderCatalog(DurarSettings settings)
    {
        var builtIn = BuiltInCatalog.Providers;
        var result = ImmutableDictionary.CreateBuilder<string, ProviderDefinition>(StringComparer.Ordinal);
        if (settings.Models.Mode == CatalogMode.Merge)
            foreach (var (id, p) in builtIn)
                if (id != "echo") result[id] = p;

        foreach (var (id, configured) in settings.Models.Providers)
        {
            var path = HoconReader.Join("models.providers", id);
            builtIn.TryGetValue(id, out var baseline);
            result[id] = Overlay(baseline, configured, path);
        }

        if (settings.Gateway.EchoEnabled && builtIn.TryGetValue("echo", out var echo) && !result.ContainsKey("echo"))
            result["echo"] = echo;
        Providers = result.ToImmutable();
    }

    public ProviderDefinition? Find(string providerId) => Providers.GetValueOrDefault(providerId);

    /// <summary>Models providers reported themselves while the gateway runs (a local Ollama's installed models).</summary>
    public DiscoveredModels Discovered { get; } = new();

    private static ProviderDefinition Overlay(ProviderDefinition? baseline, ProviderSettings c, string path)
    {
        var api = c.Api ?? baseline?.Api ?? ApiKinds.OpenAiCompletions;
        var baseUrl = c.BaseUrl ?? (api == ApiKinds.OpenAiCompletions && baseline?.Api != api ? baseline?.OpenAiCompatBaseUrl : null) ?? baseline?.BaseUrl;
        if (baseUrl is null && api != ApiKinds.Echo)
            throw new DurarConfigException(HoconReader.Join(path, "baseUrl"),
                "a custom provider needs a baseUrl (the built-in catalog has no provider with this id)");

        var models = (baseline?.Models ?? []).ToDictionary(m => m.Id, StringComparer.OrdinalIgnoreCase);
        var order = (baseline?.Models ?? []).Select(m => m.Id).ToList();
        foreach (var m in c.Models)
        {
            models.TryGetValue(m.Id, out var known);
            if (known is null) order.Add(m.Id);
            models[m.Id] = new ModelDefinition(
                m.Id,
                m.Name ?? known?.Name ?? m.Id,
                m.Reasoning ?? known?.Reasoning ?? false,
                m.Input ?? known?.Input ?? ["text"],
                m.Cost ?? known?.Cost ?? ModelCost.Zero,
                Positive(m.ContextWindow) ?? known?.ContextWindow ?? ModelDefinition.DefaultContextWindow,
                Positive(m.ContextTokens) ?? known?.ContextTokens,
                Positive(m.MaxTokens) ?? known?.MaxTokens ?? c.MaxTokens ?? ModelDefinition.DefaultMaxTokens,
                m.Compat ?? known?.Compat) { Kind = m.Kind ?? known?.Kind };
        }

        return new ProviderDefinition
        {
            Id = c.Id,
            Name = baseline?.Name ?? c.Id,
            Api = api,
            BaseUrl = baseUrl,
            Auth = c.Auth ?? baseline?.Auth ?? (c.ApiKey is null ? "optional" : "api-key"),
            EnvVars = baseline?.EnvVars ?? [],
            Local = baseline?.Local ?? IsLoopback(baseUrl),
            ConfigApiKey = string.IsNullOrEmpty(c.ApiKey) ? null : c.ApiKey,
            Headers = (baseline?.Headers ?? ImmutableDictionary<string, string>.Empty).SetItems(c.Headers),
            AuthHeader = c.AuthHeader ?? false,
            Request = c.Request,
            TimeoutSeconds = c.TimeoutSeconds,
            MaxTokens = c.MaxTokens,
            Compat = c.Compat,
            Limits = c.Rpm is null && c.Tpm is null ? KeyLimits.None : new KeyLimits(c.Rpm, c.Tpm),
            BuiltIn = baseline is not null,
            Models = order.Select(id => models[id]).ToImmutableArray(),
        };
    }

    private static long? Positive(long? v) => v is > 0 ? v : null;

    private static bool IsLoopback(string? url) =>
        url is not null && Uri.TryCreate(url, UriKind.Absolute, out var u) && (u.IsLoopback || u.Host == "localhost");
}
