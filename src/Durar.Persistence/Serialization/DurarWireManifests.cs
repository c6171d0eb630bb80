using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Durar.Actors;
using Durar.Actors.Serialization;
using Durar.Actors.Chat;

namespace Durar.Persistence.Serialization;

/// <summary>
/// The manifests of every <see cref="IDurarWireMessage"/> type, built by reflection over the scanned assemblies (always
/// Durar.Actors), plus the type discriminators of every abstract record hierarchy in them. Unlike the hand-written
/// <see cref="DurarManifests"/> of persisted types, nothing here is stored: a wire manifest only has to agree between the
/// nodes running at one time, so it is derived (<see cref="Derive"/>) instead of listed.
/// </summary>
/// <remarks>
/// Manifest rule: <see cref="WireManifestAttribute"/> when present, otherwise the names of the declaring types and the type's
/// own name joined by dots, without the namespace (<c>SessionCommands.SendMessage</c>, <c>TurnAccepted</c>,
/// <c>AttemptOutcome.Failed</c>). The same rule names the subtypes of an abstract record when a property is typed as the
/// abstract base (e.g. <c>AttemptOutcome</c>, <c>ChatEvent</c>): the JSON then carries <c>"$kind":"AttemptOutcome.Failed"</c>.
/// Building fails, naming both types, when two types derive the same name.
/// </remarks>
internal sealed class DurarWireManifests
{
    /// <summary>The JSON property that names the concrete subtype of an abstract record.</summary>
    public const string DiscriminatorProperty = "$kind";

    private readonly FrozenDictionary<Type, string> _byType;
    private readonly FrozenDictionary<string, Type> _byManifest;
    private readonly FrozenDictionary<Type, ImmutableArray<(Type Type, string Discriminator)>> _hierarchies;
    private readonly FrozenDictionary<Type, object> _singletons;

    private DurarWireManifests(
        FrozenDictionary<Type, string> byType,
        FrozenDictionary<Type, ImmutableArray<(Type Type, string Discriminator)>> hierarchies)
    {
        _byType = byType;
        _byManifest = byType.ToFrozenDictionary(e => e.Value, e => e.Key, StringComparer.Ordinal);
        _hierarchies = hierarchies;
        _singletons = byType.Keys.Select(t => (Type: t, Instance: SingletonOf(t))).Where(e => e.Instance is not null)
            .ToFrozenDictionary(e => e.Type, e => e.Instance!);
    }

    /// <summary>The assembly every build scans: the one that defines <see cref="IDurarWireMessage"/>.</summary>
    public static Assembly CoreAssembly => typeof(IDurarWireMessage).Assembly;

    /// <summary>Every wire type and its manifest.</summary>
    public IReadOnlyDictionary<Type, string> All => _byType;

    /// <summary>Every abstract base that has concrete subtypes, with each subtype's discriminator.</summary>
    public IReadOnlyDictionary<Type, ImmutableArray<(Type Type, string Discriminator)>> Hierarchies => _hierarchies;

    /// <summary>Scans <see cref="CoreAssembly"/> and <paramref name="extra"/> (e.g. a test assembly with its own wire types).</summary>
    /// <exception cref="InvalidOperationException">Two types derive the same manifest or discriminator, or a wire type is generic.</exception>
    public static DurarWireManifests Build(IEnumerable<Assembly>? extra = null)
    {
        var types = new[] { CoreAssembly }.Concat(extra ?? []).Distinct()
            .SelectMany(LoadableTypes)
            .Where(t => !t.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), false))
            .ToList();
        var concrete = types.Where(t => t is { IsAbstract: false, IsInterface: false }).ToList();

        var wire = new Dictionary<Type, string>();
        foreach (var type in concrete.Where(t => typeof(IDurarWireMessage).IsAssignableFrom(t)))
        {
            if (type.ContainsGenericParameters)
                throw new InvalidOperationException($"{type.FullName} is an {nameof(IDurarWireMessage)} but generic: wire messages must be closed, non-generic types.");
            wire.Add(type, Derive(type));
        }
        EnsureUnique(wire, "wire manifest");

        var hierarchies = new Dictionary<Type, ImmutableArray<(Type, string)>>();
        // Abstract, non-static classes (records) with concrete subtypes: a property of that type needs a discriminator.
        foreach (var root in types.Where(t => t is { IsClass: true, IsAbstract: true, IsSealed: false, ContainsGenericParameters: false }))
        {
            var derived = concrete.Where(t => root.IsAssignableFrom(t) && !t.ContainsGenericParameters).ToDictionary(t => t, Derive);
            if (derived.Count == 0) continue;
            EnsureUnique(derived, $"type discriminator under {root.FullName}");
            hierarchies.Add(root, [.. derived.OrderBy(e => e.Value, StringComparer.Ordinal).Select(e => (e.Key, e.Value))]);
        }

        return new DurarWireManifests(wire.ToFrozenDictionary(), hierarchies.ToFrozenDictionary());
    }

    /// <summary>The manifest of <paramref name="type"/> by the rule in the class remarks (whether or not it is a wire type).</summary>
    public static string Derive(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (type.GetCustomAttribute<WireManifestAttribute>() is { } pinned) return pinned.Manifest;
        var name = type.Name;
        for (var outer = type.DeclaringType; outer is not null; outer = outer.DeclaringType) name = outer.Name + "." + name;
        return name;
    }

    public bool TryGetManifest(Type type, [NotNullWhen(true)] out string? manifest) => _byType.TryGetValue(type, out manifest);

    public bool TryGetType(string manifest, [NotNullWhen(true)] out Type? type) => _byManifest.TryGetValue(manifest, out type);

    /// <summary>
    /// The instance of a singleton wire type (C4 ticks and signals: no public constructor, a public static <c>Instance</c>
    /// of the type). It travels as <c>{}</c> and is read back as that same instance.
    /// </summary>
    public bool TryGetSingleton(Type type, [NotNullWhen(true)] out object? instance) => _singletons.TryGetValue(type, out instance);

    /// <summary>The concrete subtypes of <paramref name="root"/> and their discriminators, when it is an abstract base.</summary>
    public bool TryGetHierarchy(Type root, out ImmutableArray<(Type Type, string Discriminator)> derived) => _hierarchies.TryGetValue(root, out derived);

    private static void EnsureUnique(Dictionary<Type, string> names, string what)
    {
        foreach (var clash in names.GroupBy(e => e.Value, StringComparer.Ordinal).Where(g => g.Count() > 1))
            throw new InvalidOperationException(
                $"The {what} \"{clash.Key}\" is derived for {string.Join(" and ", clash.Select(e => e.Key.FullName))}: " +
                $"pin one of them with [{nameof(WireManifestAttribute).Replace("Attribute", "", StringComparison.Ordinal)}(\"...\")].");
    }

    private static object? SingletonOf(Type type)
    {
        if (type.GetConstructors(BindingFlags.Public | BindingFlags.Instance).Length > 0) return null;
        const BindingFlags statics = BindingFlags.Public | BindingFlags.Static;
        var value = type.GetProperty("Instance", statics) is { } property && property.PropertyType == type ? property.GetValue(null)
            : type.GetField("Instance", statics) is { } field && field.FieldType == type ? field.GetValue(null)
            : null;
        return value;
    }

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.OfType<Type>();
        }
    }
}
