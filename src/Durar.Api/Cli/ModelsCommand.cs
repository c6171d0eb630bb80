using System.CommandLine;
using Durar.Actors.Catalog;
using Durar.Actors.Configuration;
using Durar.Actors.Models;
using static Durar.Api.Cli.CliOutput;

namespace Durar.Api.Cli;

/// <summary>
/// <c>durar models list</c>: the models a running gateway serves (<c>GET /v1/models</c>), or with <c>--offline</c> the
/// catalog itself (the built-in providers merged with <c>--config</c>'s, as the gateway would load them) with names,
/// context windows and prices, without a gateway.
/// </summary>
internal static class ModelsCommand
{
    public static Command Create(CliConsole io)
    {
        var provider = new Option<string?>("--provider") { Description = "Only the models of this provider (e.g. openai)" };
        var offline = new Option<bool>("--offline") { Description = "List the catalog without asking a gateway (built-in providers plus --config's)" };
        var config = new Option<string?>("--config") { Description = "With --offline: the config file to merge (env DURAR_CONFIG; default: defaults only)" };
        var list = ClientCommand.Create("list", "List the models the gateway serves (provider/model refs, and \"durar\" for the configured primary).",
            io, c => c.Parse.GetValue(offline)
                ? Task.FromResult(Offline(c, c.Parse.GetValue(provider), c.Parse.GetValue(config)))
                : c.Parse.GetValue(config) is not null
                    ? Task.FromResult(UsageError(c.Io, "--config applies to --offline only (a running gateway lists what it loaded)"))
                    : OnlineAsync(c, c.Parse.GetValue(provider)),
            provider, offline, config);
        return new Command("models", "The models a gateway serves, or the built-in catalog.") { list };
    }

    private static int UsageError(CliConsole io, string message)
    {
        Error(io, message);
        return ExitCodes.Usage;
    }

    private static async Task<int> OnlineAsync(ClientContext c, string? provider)
    {
        using var doc = await c.Gateway.GetAsync("v1/models", c.Cancel);
        var models = doc.RootElement.GetProperty("data").EnumerateArray()
            .Select(m => (Id: m.GetProperty("id").GetString()!, Provider: m.GetProperty("owned_by").GetString()!))
            .Where(m => provider is null || m.Provider == ModelRef.NormalizeProvider(provider))
            .ToList();
        if (c.Json)
        {
            Json(c.Io, w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("models");
                foreach (var (id, owner) in models)
                {
                    w.WriteStartObject();
                    w.WriteString("id", id);
                    w.WriteString("provider", owner);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return ExitCodes.Ok;
        }
        if (models.Count == 0) return None(c.Io, provider);
        var table = Table(c.Io, "MODEL", "PROVIDER");
        foreach (var (id, owner) in models) Row(table, Cell(id), Cell(owner));
        c.Io.Ansi.Write(table);
        return ExitCodes.Ok;
    }

    private static int Offline(ClientContext c, string? provider, string? configPath)
    {
        configPath ??= ClientCommand.NonEmpty(c.Io.Env("DURAR_CONFIG"));
        ProviderCatalog catalog;
        DurarSettings settings;
        try
        {
            settings = DurarSettingsLoader.Load(configPath is null ? DurarSettingsLoader.Defaults : DurarSettingsLoader.LoadFile(configPath));
            catalog = new ProviderCatalog(settings);
        }
        catch (DurarConfigException e)
        {
            Error(c.Io, $"configuration error at {e.Path}: {e.Problem}");
            return ExitCodes.Usage;
        }
        var filter = provider is null ? null : ModelRef.NormalizeProvider(provider);
        var models = catalog.Providers.Values
            .Where(p => filter is null || p.Id == filter)
            .OrderBy(p => p.Id, StringComparer.Ordinal)
            .SelectMany(p => p.Models.Select(m => (Provider: p.Id, Model: m)))
            .ToList();
        if (c.Json)
        {
            Json(c.Io, w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("models");
                if (filter is null)
                {
                    w.WriteStartObject();
                    w.WriteString("id", ModelResolver.DefaultTarget);
                    w.WriteString("provider", "durar");
                    if (settings.Agents.Primary is { } primary) w.WriteString("name", primary); else w.WriteNull("name");
                    w.WriteEndObject();
                }
                foreach (var (owner, m) in models)
                {
                    w.WriteStartObject();
                    w.WriteString("id", $"{owner}/{m.Id}");
                    w.WriteString("provider", owner);
                    w.WriteString("name", m.Name);
                    w.WriteNumber("contextWindow", m.ContextWindow);
                    w.WriteNumber("maxTokens", m.MaxTokens);
                    w.WriteBoolean("reasoning", m.Reasoning);
                    w.WriteStartArray("input");
                    foreach (var kind in m.Input) w.WriteStringValue(kind);
                    w.WriteEndArray();
                    w.WriteStartObject("cost");
                    w.WriteNumber("input", m.Cost.Input);
                    w.WriteNumber("output", m.Cost.Output);
                    w.WriteNumber("cacheRead", m.Cost.CacheRead);
                    w.WriteNumber("cacheWrite", m.Cost.CacheWrite);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return ExitCodes.Ok;
        }
        if (models.Count == 0) return None(c.Io, provider);
        var table = Table(c.Io, "MODEL", "NAME", "CONTEXT", "MAX OUTPUT", "REASONING", "INPUT", "$/M IN", "$/M OUT");
        foreach (var (owner, m) in models)
            Row(table, Cell($"{owner}/{m.Id}"), Cell(m.Name), Cell(Number(m.ContextWindow)), Cell(Number(m.MaxTokens)),
                Cell(m.Reasoning ? "yes" : "no"), Cell(string.Join(",", m.Input)), Cell(Price(m.Cost.Input)), Cell(Price(m.Cost.Output)));
        c.Io.Ansi.Write(table);
        return ExitCodes.Ok;
    }

    private static string Price(double perMillion) => perMillion.ToString("0.00##", System.Globalization.CultureInfo.InvariantCulture);

    private static int None(CliConsole io, string? provider)
    {
        io.Ansi.Write(new Spectre.Console.Text(provider is null ? "No models.\n" : $"No models of provider \"{provider}\".\n"));
        return ExitCodes.Ok;
    }
}
