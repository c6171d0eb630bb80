using System.Text.Json;
using System.Text.Json.Nodes;

namespace Durar.Api.Tests.Gateway.Fidelity;

/// <summary>
/// Structural JSON comparison for the fidelity specs: objects as unordered maps, arrays in order, strings by value (escaping
/// may differ), numbers by their exact text (<c>1.0</c> is not <c>1</c>: number formatting must survive the gateway). Every
/// difference is listed with its path, so a failing spec says what was lost or changed.
/// </summary>
internal static class JsonDiff
{
    public static List<string> Differences(JsonElement expected, JsonElement actual)
    {
        var found = new List<string>();
        Compare("$", expected, actual, found);
        return found;
    }

    /// <summary>Asserts the two documents are equal as above; the failure lists every difference.</summary>
    public static void AssertEqual(string expected, string actual)
    {
        using var e = JsonDocument.Parse(expected);
        using var a = JsonDocument.Parse(actual);
        var differences = Differences(e.RootElement, a.RootElement);
        Assert.True(differences.Count == 0, "JSON differs:\n  " + string.Join("\n  ", differences) + "\nactual: " + actual);
    }

    /// <summary>A mutable copy of <paramref name="json"/> for building an expected body (numbers keep their text).</summary>
    public static JsonObject Edit(string json) => JsonNode.Parse(json)!.AsObject();

    private static void Compare(string path, JsonElement e, JsonElement a, List<string> found)
    {
        if (e.ValueKind != a.ValueKind)
        {
            found.Add($"{path}: expected {Show(e)}, got {Show(a)}");
            return;
        }
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var actualNames = a.EnumerateObject().Select(p => p.Name).ToHashSet();
                foreach (var p in e.EnumerateObject())
                {
                    if (!a.TryGetProperty(p.Name, out var av)) found.Add($"{path}.{p.Name}: missing (expected {Show(p.Value)})");
                    else Compare($"{path}.{p.Name}", p.Value, av, found);
                    actualNames.Remove(p.Name);
                }
                foreach (var extra in actualNames) found.Add($"{path}.{extra}: unexpected {Show(a.GetProperty(extra))}");
                break;
            case JsonValueKind.Array:
                if (e.GetArrayLength() != a.GetArrayLength()) found.Add($"{path}: expected {e.GetArrayLength()} items, got {a.GetArrayLength()}");
                var i = 0;
                foreach (var (ei, ai) in e.EnumerateArray().Zip(a.EnumerateArray())) Compare($"{path}[{i++}]", ei, ai, found);
                break;
            case JsonValueKind.String:
                if (e.GetString() != a.GetString()) found.Add($"{path}: expected {Show(e)}, got {Show(a)}");
                break;
            case JsonValueKind.Number:
                if (e.GetRawText() != a.GetRawText()) found.Add($"{path}: expected the number {e.GetRawText()}, got {a.GetRawText()}");
                break;
        }
    }

    private static string Show(JsonElement e)
    {
        var text = e.GetRawText();
        return text.Length > 120 ? text[..120] + "…" : text;
    }
}
