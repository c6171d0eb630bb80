using System.Collections.Frozen;
using System.Collections.Immutable;
using Akka.Configuration.Hocon;

namespace Durar.Actors.Configuration;

/// <summary>
/// Which keys Durar reads at each level of its configuration, so a key it would silently ignore can be named
/// (<see cref="ConfigLint"/>). Sections with fixed keys take them from the defaults file itself (every such key has a
/// default in <c>config/hocon/durar.conf</c>), so a setting added there is known here at once. Only the entries whose keys
/// the defaults cannot list are spelled out: a provider, a provider's model and its cost, an <c>agents.defaults.models</c>
/// entry and an auth profile (the keys <see cref="DurarSettingsLoader"/> reads from them); maps keyed by ids, headers,
/// <c>compat</c>, <c>params</c>, <c>auth.order</c> and <c>env</c> are free.
/// </summary>
internal abstract record ConfigShape
{
    /// <summary>The keys allowed at this level; null = any key.</summary>
    public abstract IReadOnlyCollection<string>? Known { get; }

    public abstract ConfigShape Child(string key);

    public static readonly ConfigShape Free = new FreeShape();

    /// <summary>The Durar roots, in the defaults file's order; any other top-level key belongs to someone else (<c>akka</c>, a library's own section).</summary>
    public static readonly ImmutableArray<string> Roots = ["models", "agents", "auth", "gateway", "env"];

    private static readonly ConfigShape Cost = Fixed(["input", "output", "cacheRead", "cacheWrite"]);

    private static readonly ConfigShape Model = Fixed(
        ["id", "name", "reasoning", "input", "cost", "contextWindow", "contextTokens", "maxTokens", "compat"],
        ("cost", Cost));

    private static readonly ConfigShape Provider = Fixed(
        ["baseUrl", "apiKey", "api", "auth", "headers", "authHeader", "timeoutSeconds", "maxTokens", "rpm", "tpm", "models", "compat", "request"],
        ("models", Model),
        ("request", Fixed(["headers", "auth", "proxy", "tls", "allowPrivateNetwork"], ("tls", Fixed(["ca", "cert", "key", "password", "minVersion"])))));

    /// <summary>Where the defaults file has an empty map or a value whose keys it cannot list.</summary>
    private static readonly FrozenDictionary<string, ConfigShape> Overrides = new Dictionary<string, ConfigShape>(StringComparer.Ordinal)
    {
        ["models.providers"] = new MapShape(Provider),
        ["agents.defaults.models"] = new MapShape(Fixed(["alias", "params"])),
        ["agents.defaults.imageModel"] = Fixed(["primary", "fallbacks"]),
        ["auth.profiles"] = new MapShape(Fixed(["provider", "mode", "email"])),
        ["auth.order"] = Free,
        ["env"] = Free,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The shape of the Durar root <paramref name="root"/>, read from <paramref name="defaults"/>.</summary>
    public static ConfigShape ForRoot(string root, HoconValue? defaults) =>
        Overrides.GetValueOrDefault(root) ?? (defaults is not null && defaults.IsObject() ? new DefaultsShape(defaults, root) : Free);

    private static ConfigShape Fixed(string[] keys, params (string Key, ConfigShape Shape)[] children) =>
        new FixedShape(FrozenSet.Create(StringComparer.Ordinal, keys), children.ToFrozenDictionary(c => c.Key, c => c.Shape, StringComparer.Ordinal));

    private sealed record FreeShape : ConfigShape
    {
        public override IReadOnlyCollection<string>? Known => null;
        public override ConfigShape Child(string key) => this;
    }

    private sealed record MapShape(ConfigShape Value) : ConfigShape
    {
        public override IReadOnlyCollection<string>? Known => null;
        public override ConfigShape Child(string key) => Value;
    }

    private sealed record FixedShape(FrozenSet<string> Keys, FrozenDictionary<string, ConfigShape> Children) : ConfigShape
    {
        public override IReadOnlyCollection<string>? Known => Keys;
        public override ConfigShape Child(string key) => Children.GetValueOrDefault(key) ?? Free;
    }

    private sealed record DefaultsShape(HoconValue Defaults, string Path) : ConfigShape
    {
        public override IReadOnlyCollection<string>? Known => Defaults.GetObject().Items.Keys.ToArray();

        public override ConfigShape Child(string key)
        {
            var path = $"{Path}.{key}";
            if (Overrides.TryGetValue(path, out var shape)) return shape;
            return Defaults.GetObject().Items.TryGetValue(key, out var child) && child.IsObject() ? new DefaultsShape(child, path) : Free;
        }
    }
}
