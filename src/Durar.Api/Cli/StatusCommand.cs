using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using static Durar.Api.Cli.CliOutput;

namespace Durar.Api.Cli;

/// <summary>
/// <c>durar status</c>: the gateway at a glance, from <c>GET /v1/admin/cluster</c> and <c>GET /v1/admin/providers</c>: the
/// nodes, every key with its state and the time left on its cooldown, and what has been spent. Providers without a key are
/// summed up in one line (<c>--json</c> lists them all).
/// </summary>
internal static class StatusCommand
{
    public static Command Create(CliConsole io) => ClientCommand.Create("status",
        "Show the gateway's nodes, every provider key with its state and time left, and the spend so far.", io, RunAsync);

    private static async Task<int> RunAsync(ClientContext c)
    {
        var clusterTask = c.Gateway.GetAsync("v1/admin/cluster", c.Cancel);
        var providersTask = c.Gateway.GetAsync("v1/admin/providers", c.Cancel);
        using var cluster = await clusterTask;
        using var providers = await providersTask;
        var list = providers.RootElement.GetProperty("providers").EnumerateArray().ToList();
        var spend = Spend(list);
        if (c.Json)
        {
            Json(c.Io, w =>
            {
                w.WriteStartObject();
                w.WriteString("url", c.Gateway.BaseUri.ToString());
                w.WritePropertyName("cluster");
                cluster.RootElement.WriteTo(w);
                w.WritePropertyName("providers");
                providers.RootElement.GetProperty("providers").WriteTo(w);
                w.WriteStartObject("spend");
                w.WriteNumber("input", spend.Input);
                w.WriteNumber("output", spend.Output);
                w.WriteNumber("cacheRead", spend.CacheRead);
                w.WriteNumber("cacheWrite", spend.CacheWrite);
                w.WriteNumber("cost", spend.Cost);
                w.WriteEndObject();
                w.WriteEndObject();
            });
            return ExitCodes.Ok;
        }

        var keyed = list.Where(p => Keys(p).Any(k => !IsKeyless(k))).ToList();
        var keyCount = keyed.Sum(p => Keys(p).Count(k => !IsKeyless(k)));
        c.Io.Ansi.Write(Facts(c.Io,
        [
            ("Gateway", Cell(c.Gateway.BaseUri.ToString())),
            ("Spend", Cell($"{Dollars(spend.Cost)} over {keyCount} key(s) ({Number(spend.Input)} input, {Number(spend.Output)} output tokens)")),
        ]));
        WriteNodes(c, cluster.RootElement);

        Heading(c.Io, "Keys");
        if (keyCount == 0)
            c.Io.Ansi.Write(new Text("No provider has a key yet: set one (e.g. OPENAI_API_KEY) or add an auth profile (durar auth add).\n"));
        else
        {
            var table = Table(c.Io, "PROVIDER", "KEY", "SECRET", "SOURCE", "STATE", "TIME LEFT", "REASON", "REQUESTS", "FAILURES", "TOKENS IN", "TOKENS OUT", "COST");
            foreach (var p in keyed)
                foreach (var k in Keys(p).Where(k => !IsKeyless(k)))
                {
                    var usage = k.GetProperty("usage");
                    Row(table, Cell(p.GetProperty("id").GetString()), Cell(k.GetProperty("id").GetString()), Cell(k.GetProperty("key").GetString()),
                        Cell(k.GetProperty("source").GetString()), State(k.GetProperty("state").GetString()),
                        Cell(TimeLeft(Time(k, "until"), c.Now)), Cell(Str(k, "reason")),
                        Cell(Number(k.GetProperty("requests").GetInt64())), Cell(Number(k.GetProperty("failures").GetInt64())),
                        Cell(Number(usage.GetProperty("input").GetInt64())), Cell(Number(usage.GetProperty("output").GetInt64())),
                        Cell(Dollars(usage.GetProperty("cost").GetDecimal())));
                }
            c.Io.Ansi.Write(table);
        }

        var keyless = list.Where(p => Keys(p).Any() && Keys(p).All(IsKeyless)).Select(Id).ToList();
        var without = list.Where(p => !Keys(p).Any()).Select(Id).ToList();
        var rest = new List<(string, Spectre.Console.Rendering.IRenderable)>();
        if (keyless.Count > 0) rest.Add(("Keyless", Cell($"{string.Join(", ", keyless)} (served without a key)")));
        if (without.Count > 0) rest.Add(("No key", Cell($"{without.Count} other provider(s) (durar status --json lists them)")));
        if (rest.Count > 0)
        {
            c.Io.Ansi.WriteLine();
            c.Io.Ansi.Write(Facts(c.Io, rest));
        }
        return ExitCodes.Ok;
    }

    private static void WriteNodes(ClientContext c, JsonElement cluster)
    {
        Heading(c.Io, "Nodes");
        var leader = Str(cluster, "leader");
        var sessions = cluster.TryGetProperty("shards", out var shards) ? shards : default;
        var table = Table(c.Io, "ADDRESS", "STATUS", "LEADER", "REACHABLE", "SESSIONS", "ROLES");
        foreach (var m in cluster.GetProperty("members").EnumerateArray())
        {
            var address = m.GetProperty("address").GetString()!;
            var count = sessions.ValueKind == JsonValueKind.Object && sessions.TryGetProperty(address, out var s)
                ? Number(s.GetProperty("sessions").GetInt64()) : "-";
            Row(table, Cell(address), State(m.GetProperty("status").GetString()), Cell(address == leader ? "yes" : "no"),
                State(m.GetProperty("reachable").GetBoolean() ? "yes" : "no"), Cell(count),
                Cell(string.Join(",", m.GetProperty("roles").EnumerateArray().Select(r => r.GetString()))));
        }
        c.Io.Ansi.Write(table);
    }

    private sealed record Totals(long Input, long Output, long CacheRead, long CacheWrite, decimal Cost);

    private static Totals Spend(List<JsonElement> providers) => providers
        .Select(p => p.GetProperty("usage"))
        .Aggregate(new Totals(0, 0, 0, 0, 0m), (t, u) => new Totals(t.Input + u.GetProperty("input").GetInt64(),
            t.Output + u.GetProperty("output").GetInt64(), t.CacheRead + u.GetProperty("cacheRead").GetInt64(),
            t.CacheWrite + u.GetProperty("cacheWrite").GetInt64(), t.Cost + u.GetProperty("cost").GetDecimal()));

    private static IEnumerable<JsonElement> Keys(JsonElement provider) => provider.GetProperty("keys").EnumerateArray();

    /// <summary>The stand-in of a provider that needs no key (echo, a local server without one): not a key to show.</summary>
    private static bool IsKeyless(JsonElement key) => key.GetProperty("source").GetString() == "none";

    private static string Id(JsonElement provider) => provider.GetProperty("id").GetString()!;

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static DateTimeOffset? Time(JsonElement e, string name) =>
        Str(e, name) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;
}
