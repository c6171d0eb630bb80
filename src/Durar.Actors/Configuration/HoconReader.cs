using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Durar.Actors.Configuration;

/// <summary>
/// Typed, path-aware reads of HOCON values. Every failure becomes a <see cref="DurarConfigException"/> naming the key path,
/// which is what a user needs to fix the file.
/// </summary>
internal static class HoconReader
{
    public static string Join(string path, string key) =>
        key.IndexOfAny(['.', '/', ':', ' ']) >= 0 ? $"{path}.\"{key}\"" : $"{path}.{key}";

    public static IReadOnlyDictionary<string, HoconValue> Children(HoconValue? value, string path)
    {
        if (value is null || value.IsEmpty) return ImmutableDictionary<string, HoconValue>.Empty;
        if (!value.IsObject()) throw new DurarConfigException(path, "expected an object { ... }");
        return value.GetObject().Items;
    }

    public static HoconValue? Child(HoconValue? obj, string key) =>
        obj is not null && obj.IsObject() && obj.GetObject().Items.TryGetValue(key, out var v) && !v.IsEmpty ? v : null;

    public static string? String(HoconValue? obj, string key, string path)
    {
        var v = Child(obj, key);
        if (v is null) return null;
        if (!v.IsString()) throw new DurarConfigException(Join(path, key), "expected a string");
        return v.GetString();
    }

    public static bool? Bool(HoconValue? obj, string key, string path)
    {
        var s = String(obj, key, path);
        if (s is null) return null;
        return s.ToLowerInvariant() switch
        {
            "true" or "on" or "yes" => true,
            "false" or "off" or "no" => false,
            _ => throw new DurarConfigException(Join(path, key), $"expected true or false, got \"{s}\""),
        };
    }

    public static long? Long(HoconValue? obj, string key, string path, bool allowNegative = false)
    {
        var s = String(obj, key, path);
        if (s is null) return null;
        if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            && !(double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == Math.Floor(d) && (n = (long)d) == d))
            throw new DurarConfigException(Join(path, key), $"expected a whole number, got \"{s}\"");
        if (!allowNegative && n < 0) throw new DurarConfigException(Join(path, key), $"must not be negative (got {n})");
        return n;
    }

    public static double? Double(HoconValue? obj, string key, string path)
    {
        var s = String(obj, key, path);
        if (s is null) return null;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || double.IsNaN(d) || double.IsInfinity(d))
            throw new DurarConfigException(Join(path, key), $"expected a number, got \"{s}\"");
        if (d < 0) throw new DurarConfigException(Join(path, key), $"must not be negative (got {s})");
        return d;
    }

    public static TimeSpan Duration(Config config, string path) => Duration(config, path, path);

    public static TimeSpan Duration(Config config, string path, string reportedPath)
    {
        try
        {
            var t = config.GetTimeSpan(path, null, allowInfinite: false);
            if (t < TimeSpan.Zero) throw new DurarConfigException(reportedPath, "must not be negative");
            return t;
        }
        catch (Exception e) when (e is not DurarConfigException)
        {
            throw new DurarConfigException(reportedPath, $"expected a duration such as 5s or 2m ({e.Message})");
        }
    }

    /// <summary>A duration that must be set and above zero (the defaults file sets every such key).</summary>
    public static TimeSpan RequiredPositiveDuration(Config config, string path)
    {
        if (!config.HasPath(path)) throw new DurarConfigException(path, "is required");
        var t = Duration(config, path);
        return t > TimeSpan.Zero ? t : throw new DurarConfigException(path, "must be a positive duration");
    }

    /// <summary>A whole number at <paramref name="path"/> within [<paramref name="min"/>, <paramref name="max"/>]; it must be there.</summary>
    public static long RequiredLong(Config config, string path, long min = 0, long max = long.MaxValue)
    {
        var (parent, key) = Split(path);
        var n = Long(config.GetValue(parent), key, parent, allowNegative: min < 0)
            ?? throw Missing(path);
        return n >= min && n <= max ? n : throw new DurarConfigException(path, $"must be between {min} and {max} (got {n})");
    }

    /// <summary>A number at <paramref name="path"/> within [<paramref name="min"/>, <paramref name="max"/>]; it must be there.</summary>
    public static double RequiredDouble(Config config, string path, double min, double max)
    {
        var (parent, key) = Split(path);
        var d = Double(config.GetValue(parent), key, parent)
            ?? throw Missing(path);
        return d >= min && d <= max ? d : throw new DurarConfigException(path, $"must be between {min} and {max} (got {d})");
    }

    /// <summary>A string at <paramref name="path"/>; it must be there (empty is a value).</summary>
    public static string RequiredString(Config config, string path)
    {
        var (parent, key) = Split(path);
        return String(config.GetValue(parent), key, parent) ?? (config.HasPath(path) ? "" : throw Missing(path));
    }

    /// <summary>true or false (also on/off, yes/no) at <paramref name="path"/>; it must be there.</summary>
    public static bool RequiredBool(Config config, string path)
    {
        var (parent, key) = Split(path);
        return Bool(config.GetValue(parent), key, parent) ?? throw Missing(path);
    }

    /// <summary>One of <paramref name="allowed"/> (case-insensitive) at <paramref name="path"/>; it must be there.</summary>
    public static string RequiredOneOf(Config config, string path, params string[] allowed)
    {
        var value = RequiredString(config, path).Trim().ToLowerInvariant();
        return allowed.Contains(value) ? value
            : throw new DurarConfigException(path, $"unknown value \"{value}\" (expected {string.Join(", ", allowed)})");
    }

    private static DurarConfigException Missing(string path) =>
        new(path, "is missing (it has a default in config/hocon/durar.conf: was the defaults file replaced?)");

    private static (string Parent, string Key) Split(string path)
    {
        var dot = path.LastIndexOf('.');
        return (path[..dot], path[(dot + 1)..]);
    }

    /// <summary>
    /// True for a list value. Akka.Hocon reads an empty <c>[]</c> as neither array, string nor object, <c>[ ]</c> as a list
    /// holding one empty element, and a list followed by blanks before the end of its object (<c>"fallbacks": [] }</c>,
    /// plain JSON) as a concatenation of the list and a whitespace literal; all of these are lists here.
    /// </summary>
    public static bool IsList(HoconValue v) =>
        v.IsArray() || (!v.IsObject() && v.Values.Any(x => x is HoconArray) && v.Values.All(x => x is HoconArray || IsBlank(x)));

    private static bool IsBlank(IHoconElement e) => e is HoconLiteral l && string.IsNullOrWhiteSpace(l.Value);

    /// <summary>The elements of a list value, without Akka.Hocon's phantom empty elements or the blanks around it.</summary>
    public static IReadOnlyList<HoconValue> ListItems(HoconValue v) =>
        v.IsArray() ? v.GetArray().Where(e => !e.IsEmpty).ToList()
        : IsList(v) ? v.Values.OfType<HoconArray>().SelectMany(a => a).Where(e => !e.IsEmpty).ToList()
        : [];

    public static ImmutableArray<string> StringList(HoconValue? obj, string key, string path)
    {
        var v = obj is not null && obj.IsObject() && obj.GetObject().Items.TryGetValue(key, out var raw) ? raw : null;
        if (v is null) return [];
        if (IsList(v)) return StringItems(v, Join(path, key));
        if (v.IsEmpty) return [];
        if (v.IsString()) return [v.GetString()];
        throw new DurarConfigException(Join(path, key), "expected a list [ ... ]");
    }

    private static ImmutableArray<string> StringItems(HoconValue v, string path)
    {
        var list = ImmutableArray.CreateBuilder<string>();
        var i = 0;
        foreach (var item in ListItems(v))
        {
            if (!item.IsString()) throw new DurarConfigException($"{path}[{i}]", "expected a string");
            list.Add(item.GetString());
            i++;
        }
        return list.ToImmutable();
    }

    public static ImmutableDictionary<string, string> StringMap(HoconValue? obj, string key, string path)
    {
        var v = Child(obj, key);
        var p = Join(path, key);
        var b = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (k, item) in Children(v, p))
        {
            if (item.IsEmpty) continue;
            if (!item.IsString()) throw new DurarConfigException(Join(p, k), "expected a string");
            b[k] = item.GetString();
        }
        return b.ToImmutable();
    }

    /// <summary>Converts a HOCON subtree to JSON (for free-form <c>params</c> and <c>compat</c> blocks).</summary>
    public static JsonNode? ToJson(HoconValue value)
    {
        if (IsList(value))
        {
            var a = new JsonArray();
            foreach (var v in ListItems(value)) a.Add(ToJson(v));
            return a;
        }
        if (value.IsEmpty) return null;
        if (value.IsObject())
        {
            var o = new JsonObject();
            foreach (var (k, v) in value.GetObject().Items) o[k] = ToJson(v);
            return o;
        }
        if (IsList(value))
        {
            var a = new JsonArray();
            foreach (var v in ListItems(value)) a.Add(ToJson(v));
            return a;
        }
        var s = value.GetString();
        if (s is null) return null;
        if (s is "true" or "false") return JsonValue.Create(s == "true");
        if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return JsonValue.Create(d);
        return JsonValue.Create(s);
    }
}
