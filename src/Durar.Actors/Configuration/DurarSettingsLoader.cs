using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Akka.Configuration;
using Akka.Configuration.Hocon;
using Durar.Actors.Models;
using static Durar.Actors.Configuration.HoconReader;

namespace Durar.Actors.Configuration;

/// <summary>
/// Reads and validates the Durar keys of a HOCON configuration into <see cref="DurarSettings"/>.
/// Validation is structural (types, enums, ref syntax, limits); cross-checks against the catalog happen in
/// <see cref="Catalog.ProviderCatalog"/>, which also reports with key paths.
/// </summary>
public static class DurarSettingsLoader
{
    private const string DefaultsResource = "Durar.Actors.durar.conf";

    /// <summary>The built-in defaults (<c>config/hocon/durar.conf</c>, embedded).</summary>
    public static Config Defaults { get; } = LoadDefaults();

    private static Config LoadDefaults()
    {
        using var stream = typeof(DurarSettingsLoader).Assembly.GetManifestResourceStream(DefaultsResource)
            ?? throw new InvalidOperationException($"embedded resource {DefaultsResource} is missing");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }

    /// <summary>Parses a user file and layers it over the defaults. A syntax error names the file.</summary>
    public static Config LoadFile(string path)
    {
        if (!File.Exists(path)) throw new DurarConfigException(path, "configuration file not found");
        return ParseText(File.ReadAllText(path), path).WithFallback(Defaults);
    }

    /// <summary>Parses HOCON text (e.g. a seed JSON5 example) and layers it over the defaults.</summary>
    public static Config FromText(string hocon) => ParseText(hocon, "<config>").WithFallback(Defaults);

    private static Config ParseText(string text, string origin)
    {
        if (HoconSyntaxCheck.FindProblem(text) is { } problem)
            throw new DurarConfigException(origin, $"not valid HOCON/JSON5: {problem}");
        // Akka's parser has looped forever on inputs the check above now refuses; any other such input must still end
        // start-up with an error, not hang it. The parse runs on its own thread under a deadline.
        var parse = Task.Factory.StartNew(() => ConfigurationFactory.ParseString(text), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            if (!parse.Wait(ParseDeadline))
                throw new DurarConfigException(origin,
                    $"not valid HOCON/JSON5: the parser did not finish within {ParseDeadline.TotalSeconds:0} s (a construct it cannot read)");
            return parse.Result;
        }
        catch (AggregateException e)
        {
            throw new DurarConfigException(origin, $"not valid HOCON/JSON5: {e.InnerException?.Message ?? e.Message}");
        }
    }

    /// <summary>Longest a configuration text may take to parse (a real one takes milliseconds).</summary>
    private static readonly TimeSpan ParseDeadline = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The typed settings of <paramref name="config"/>, with the built-in defaults layered underneath (so every key with a
    /// default is there, and the C# readers repeat none of them).
    /// </summary>
    public static DurarSettings Load(Config config)
    {
        if (!ReferenceEquals(config, Defaults)) config = config.WithFallback(Defaults);
        var root = config.Root;
        return new DurarSettings(
            ReadModels(config, Child(root, "models")),
            ReadAgents(config, Child(root, "agents")),
            ReadAuth(Child(root, "auth"), config),
            GatewaySettingsReader.Read(config),
            StringMap(root, "env", "").ToImmutableDictionary(StringComparer.Ordinal)) { Upstream = UpstreamSettings.Read(config), Dashboard = DashboardSettings.Read(config),
                Telemetry = TelemetrySettings.Read(config), Access = AccessSettings.Read(config),
                Compaction = CompactionSettings.Read(config),
                ImageModel = ImageModelSettings.Read(config),
                Copilot = CopilotSettings.Read(config),
                OAuth = OAuthLoginSettings.Read(config),
                GoogleCloud = GoogleCloudSettings.Read(config, StringMap(root, "env", "")) };
    }

    private static ModelsSettings ReadModels(Config config, HoconValue? models)
    {
        var modeText = RequiredString(config, "models.mode");
        var mode = modeText switch
        {
            "merge" => CatalogMode.Merge,
            "replace" => CatalogMode.Replace,
            _ => throw new DurarConfigException("models.mode", $"unknown mode \"{modeText}\" (expected merge or replace)"),
        };
        var providers = ImmutableDictionary.CreateBuilder<string, ProviderSettings>(StringComparer.Ordinal);
        foreach (var (rawId, value) in Children(Child(models, "providers"), "models.providers"))
        {
            var id = ModelRef.NormalizeProvider(rawId);
            var path = Join("models.providers", rawId);
            if (id.Length == 0 || id.Contains('/')) throw new DurarConfigException(path, "a provider id must be non-empty and contain no '/'");
            if (!value.IsObject()) throw new DurarConfigException(path, "expected an object { ... }");
            providers[id] = ReadProvider(id, value, path);
        }
        return new ModelsSettings(mode, providers.ToImmutable());
    }

    private static ProviderSettings ReadProvider(string id, HoconValue p, string path)
    {
        var baseUrl = String(p, "baseUrl", path);
        if (!string.IsNullOrWhiteSpace(baseUrl)
            && (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")))
            throw new DurarConfigException(Join(path, "baseUrl"), $"\"{baseUrl}\" is not an absolute http(s) URL");
        var api = String(p, "api", path);
        if (api is not null && !ApiKinds.All.Contains(api))
            throw new DurarConfigException(Join(path, "api"),
                $"unknown api \"{api}\" (expected one of: {string.Join(", ", ApiKinds.All.Order(StringComparer.Ordinal))})");
        var auth = String(p, "auth", path);
        if (auth is not null && auth is not ("api-key" or "token" or "oauth" or "aws-sdk" or "none" or "optional"))
            throw new DurarConfigException(Join(path, "auth"), $"unknown auth \"{auth}\" (expected api-key, token, oauth, aws-sdk, none or optional)");
        var timeout = Long(p, "timeoutSeconds", path);
        var maxTokens = Long(p, "maxTokens", path);
        var rpm = Long(p, "rpm", path);
        if (rpm is <= 0 or > int.MaxValue) throw new DurarConfigException(Join(path, "rpm"), $"expected a positive number of requests per minute, got {rpm}");
        var tpm = Long(p, "tpm", path);
        if (tpm is <= 0) throw new DurarConfigException(Join(path, "tpm"), $"expected a positive number of tokens per minute, got {tpm}");

        var models = ImmutableArray.CreateBuilder<ModelSettings>();
        var modelsValue = p.GetObject().Items.GetValueOrDefault("models");
        if (modelsValue is not null)
        {
            if (!IsList(modelsValue)) throw new DurarConfigException(Join(path, "models"), "expected a list [ { id = ... } ]");
            var i = 0;
            foreach (var m in ListItems(modelsValue))
            {
                models.Add(ReadModel(m, $"{Join(path, "models")}[{i}]"));
                i++;
            }
        }
        return new ProviderSettings(
            id,
            string.IsNullOrWhiteSpace(baseUrl) ? null : baseUrl.TrimEnd('/'),
            String(p, "apiKey", path),
            api,
            auth,
            StringMap(p, "headers", path),
            Bool(p, "authHeader", path),
            timeout is null ? null : checked((int)timeout.Value),
            maxTokens is null ? null : checked((int)maxTokens.Value),
            models.ToImmutable(),
            Child(p, "compat") is { } compat ? ToJson(compat) as JsonObject : null)
        {
            Rpm = rpm is null ? null : (int)rpm.Value,
            Tpm = tpm,
            Request = ProviderRequestSettings.Read(p, path),
        };
    }

    private static ModelSettings ReadModel(HoconValue m, string path)
    {
        if (!m.IsObject()) throw new DurarConfigException(path, "expected an object { id = ... }");
        var id = String(m, "id", path);
        if (string.IsNullOrWhiteSpace(id)) throw new DurarConfigException(Join(path, "id"), "a model needs an id");
        ImmutableArray<string>? input = Child(m, "input") is null ? null : StringList(m, "input", path);
        if (input is { } inputs)
            foreach (var kind in inputs)
                if (kind is not ("text" or "image"))
                    throw new DurarConfigException(Join(path, "input"), $"unknown input kind \"{kind}\" (expected text or image)");
        ModelCost? cost = null;
        if (Child(m, "cost") is { } c)
        {
            var cp = Join(path, "cost");
            cost = new ModelCost(Double(c, "input", cp) ?? 0, Double(c, "output", cp) ?? 0,
                Double(c, "cacheRead", cp) ?? 0, Double(c, "cacheWrite", cp) ?? 0);
        }
        return new ModelSettings(
            id,
            String(m, "name", path),
            Bool(m, "reasoning", path),
            input,
            cost,
            Long(m, "contextWindow", path),
            Long(m, "contextTokens", path),
            Long(m, "maxTokens", path),
            Child(m, "compat") is { } compat ? ToJson(compat) as JsonObject : null) { Kind = ModelKinds.Read(m, path) };
    }

    private static AgentDefaults ReadAgents(Config config, HoconValue? agents)
    {
        var defaults = Child(agents, "defaults");
        const string path = "agents.defaults";
        string? primary;
        ImmutableArray<string> fallbacks = [];
        var model = Child(defaults, "model");
        if (model is null || IsList(model)) primary = null;
        else if (model.IsString()) primary = model.GetString(); // agents.defaults.model as a plain string
        else
        {
            primary = String(model, "primary", $"{path}.model");
            fallbacks = StringList(model, "fallbacks", $"{path}.model");
        }
        if (!string.IsNullOrWhiteSpace(primary)) CheckRefSyntax(primary, $"{path}.model.primary", allowBare: true);
        else primary = null;
        for (var i = 0; i < fallbacks.Length; i++) CheckRefSyntax(fallbacks[i], $"{path}.model.fallbacks[{i}]", allowBare: true);

        var entries = ImmutableDictionary.CreateBuilder<string, ModelEntrySettings>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in Children(Child(defaults, "models"), $"{path}.models"))
        {
            var p = Join($"{path}.models", key);
            var parsed = CheckRefSyntax(key, p, allowBare: false);
            var alias = value.IsObject() ? String(value, "alias", p) : null;
            var prms = value.IsObject() && Child(value, "params") is { } pv ? ToJson(pv) as JsonObject ?? [] : [];
            entries[parsed.ToString()] = new ModelEntrySettings(parsed.ToString(), alias, prms);
        }

        var allow = StringList(Child(defaults, "modelPolicy"), "allow", $"{path}.modelPolicy");
        for (var i = 0; i < allow.Length; i++)
            if (!ModelPolicy.IsValidPattern(allow[i]))
                throw new DurarConfigException($"{path}.modelPolicy.allow[{i}]",
                    $"\"{allow[i]}\" is not a model ref (provider/model) or a provider wildcard (provider/*)");

        var timeout = RequiredLong(config, $"{path}.timeoutSeconds", 0, int.MaxValue);
        return new AgentDefaults(primary, fallbacks, entries.ToImmutable(), allow, checked((int)timeout))
        {
            ThinkingDefault = OneOf(defaults, "thinkingDefault", path, "off", "minimal", "low", "medium", "high", "xhigh", "adaptive", "max", "ultra"),
            FastModeDefault = OneOf(defaults, "fastModeDefault", path, "auto", "on", "off"),
            ResponseUsageDefault = OneOf(defaults, "responseUsageDefault", path, "off", "tokens", "full"),
        };
    }

    private static string? OneOf(HoconValue? obj, string key, string path, params string[] allowed)
    {
        var value = String(obj, key, path);
        if (string.IsNullOrWhiteSpace(value)) return null;
        value = value.Trim().ToLowerInvariant();
        return allowed.Contains(value) ? value
            : throw new DurarConfigException(Join(path, key), $"unknown value \"{value}\" (expected {string.Join(", ", allowed)})");
    }

    private static ModelRef CheckRefSyntax(string text, string path, bool allowBare)
    {
        if (ModelRef.TryParse(text, out var parsed)) return parsed;
        if (allowBare && ModelRef.IsValidBareName(text)) return default;
        throw new DurarConfigException(path, $"malformed model ref \"{text}\" (expected provider/model)");
    }

    private static AuthSettings ReadAuth(HoconValue? auth, Config config)
    {
        var profiles = ImmutableDictionary.CreateBuilder<string, AuthProfileSettings>(StringComparer.Ordinal);
        foreach (var (id, value) in Children(Child(auth, "profiles"), "auth.profiles"))
        {
            var p = Join("auth.profiles", id);
            var provider = String(value, "provider", p) ?? (id.Contains(':') ? id[..id.IndexOf(':')] : null)
                ?? throw new DurarConfigException(Join(p, "provider"), "a profile needs a provider");
            var mode = String(value, "mode", p) ?? "api_key";
            if (mode is not ("api_key" or "token" or "oauth"))
                throw new DurarConfigException(Join(p, "mode"), $"unknown mode \"{mode}\" (expected api_key, token or oauth)");
            profiles[id] = new AuthProfileSettings(id, ModelRef.NormalizeProvider(provider), mode, String(value, "email", p));
        }
        var order = ImmutableDictionary.CreateBuilder<string, ImmutableArray<string>>(StringComparer.Ordinal);
        foreach (var (provider, _) in Children(Child(auth, "order"), "auth.order"))
            order[ModelRef.NormalizeProvider(provider)] = StringList(Child(auth, "order"), provider, "auth.order");
        var cooldowns = ReadCooldowns(config);
        return new AuthSettings(profiles.ToImmutable(), order.ToImmutable(), cooldowns) { Keys = KeySettings.Read(config, cooldowns) };
    }

    private static CooldownSettings ReadCooldowns(Config config)
    {
        const string path = "auth.cooldowns";
        var scheduleValue = config.GetValue($"{path}.schedule");
        var schedule = ImmutableArray.CreateBuilder<TimeSpan>();
        if (scheduleValue is not null && IsList(scheduleValue))
        {
            var i = 0;
            foreach (var item in ListItems(scheduleValue))
            {
                var p = $"{path}.schedule[{i++}]";
                var t = Duration(ConfigurationFactory.ParseString($"v = {item.GetString()}"), "v", p);
                if (t <= TimeSpan.Zero) throw new DurarConfigException(p, "a cooldown must be positive");
                schedule.Add(t);
            }
        }
        if (schedule.Count == 0) throw new DurarConfigException($"{path}.schedule", "needs at least one duration");
        return new CooldownSettings(
            schedule.ToImmutable(),
            RequiredPositiveDuration(config, $"{path}.failureWindow"),
            RequiredPositiveDuration(config, $"{path}.billingBase"),
            RequiredPositiveDuration(config, $"{path}.billingMax"),
            RequiredPositiveDuration(config, $"{path}.authPermanentBase"),
            RequiredPositiveDuration(config, $"{path}.authPermanentMax"),
            RequiredPositiveDuration(config, $"{path}.lastUsedFlushInterval"),
            (int)RequiredLong(config, $"{path}.transientThreshold", 1, 1000));
    }

}
