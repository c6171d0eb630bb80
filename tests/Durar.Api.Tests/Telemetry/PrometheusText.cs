using System.Globalization;
using System.Text.RegularExpressions;

namespace Durar.Api.Tests.Telemetry;

/// <summary>One sample of a Prometheus text exposition: the series name, its labels and its value.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// Reads the Prometheus text format (what <c>GET /metrics</c> serves) into samples, and finds the one sample with a name
/// and a set of labels, so a spec asserts on the exposition exactly as a Prometheus server would read it.
/// </summary>
internal static partial class PrometheusText
{
    public static IReadOnlyList<PrometheusSample> Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var m = SampleLine().Match(line);
            Assert.True(m.Success, $"not a Prometheus sample line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match l in Label().Matches(m.Groups["labels"].Value))
                labels[l.Groups[1].Value] = l.Groups[2].Value.Replace("\\\"", "\"").Replace("\\n", "\n").Replace("\\\\", "\\");
            var value = m.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add(new PrometheusSample(m.Groups["name"].Value, labels, value));
        }
        return samples;
    }

    /// <summary>The samples named <paramref name="name"/> whose labels include every pair of <paramref name="labels"/>.</summary>
    public static IReadOnlyList<PrometheusSample> Find(this IReadOnlyList<PrometheusSample> samples, string name, params (string Key, string Value)[] labels) =>
        samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList();

    /// <summary>The value of the one sample named <paramref name="name"/> with exactly these labels (besides the scope's); fails otherwise.</summary>
    public static double Value(this IReadOnlyList<PrometheusSample> samples, string name, params (string Key, string Value)[] labels)
    {
        var found = samples.Find(name, labels)
            .Where(s => s.Labels.Keys.Count(k => !k.StartsWith("otel_scope_", StringComparison.Ordinal) && k != "le") == labels.Count(l => l.Key != "le"))
            .ToList();
        Assert.True(found.Count == 1, $"expected one {name}{{{string.Join(",", labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}}, found {found.Count}: "
            + string.Join(" | ", samples.Where(s => s.Name == name).Select(s => string.Join(",", s.Labels.Select(kv => $"{kv.Key}={kv.Value}")) + " " + s.Value)));
        return found[0].Value;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\S+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(""""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"""")]
    private static partial Regex Label();
}
