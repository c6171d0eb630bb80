using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using static Durar.Api.Cli.CliOutput;

namespace Durar.Api.Cli;

/// <summary>
/// <c>durar tokens create|list|rotate|revoke</c> over <c>/v1/admin/tokens</c>: client tokens ("virtual keys") with scopes,
/// a model allowlist, rpm/tpm limits, a spend budget and an expiry. The secret is printed once, at creation and rotation
/// (on its own line, so <c>durar tokens create ... | tail -1</c> captures it); the gateway keeps only its hash.
/// </summary>
internal static class TokensCommand
{
    public static Command Create(CliConsole io)
    {
        var name = new Option<string?>("--name") { Description = "A label for people (shown by durar tokens list)" };
        var scopes = new Option<string[]>("--scope") { Description = "chat, sessions or admin; repeat for several (default chat)", AllowMultipleArgumentsPerToken = true };
        var models = new Option<string[]>("--model") { Description = "A model it may use (provider/model or provider/*); repeat for several (default: all)", AllowMultipleArgumentsPerToken = true };
        var rpm = new Option<int?>("--rpm") { Description = "Requests per minute (cluster-wide)" };
        var tpm = new Option<long?>("--tpm") { Description = "Tokens per minute (cluster-wide)" };
        var budget = new Option<decimal?>("--budget") { Description = "Spend allowed per period (catalog currency, USD by default)" };
        var period = new Option<string?>("--period") { Description = "The budget's period: day or month (default month)" };
        var expires = new Option<string?>("--expires") { Description = "When it stops working: an ISO 8601 time (2026-12-31T00:00:00Z)" };
        var create = ClientCommand.Create("create", "Create a client token; its secret is shown once.", io, async c =>
        {
            var p = c.Parse;
            using var doc = await c.Gateway.SendAsync(HttpMethod.Post, "v1/admin/tokens",
                Body(p.GetValue(name), p.GetValue(scopes), p.GetValue(models), p.GetValue(rpm), p.GetValue(tpm), p.GetValue(budget), p.GetValue(period), p.GetValue(expires)),
                c.Cancel);
            WithSecret(c, doc.RootElement, "created");
            return ExitCodes.Ok;
        }, name, scopes, models, rpm, tpm, budget, period, expires);

        var list = ClientCommand.Create("list", "List client tokens with their limits, usage and spend.", io, ListAsync);

        var id = new Argument<string>("id") { Description = "The token id, as durar tokens list shows it" };
        var rotate = ClientCommand.Create("rotate", "Give a token a new secret (the old one stops at once); shown once.", io, async c =>
        {
            using var doc = await c.Gateway.SendAsync(HttpMethod.Post, $"v1/admin/tokens/{ClientCommand.Segment(c.Parse.GetValue(id)!)}/rotate", null, c.Cancel);
            WithSecret(c, doc.RootElement, "rotated");
            return ExitCodes.Ok;
        }, id);
        var revoke = ClientCommand.Create("revoke", "Revoke a token for good (its next request is a 401).", io, async c =>
        {
            var tokenId = c.Parse.GetValue(id)!;
            using var doc = await c.Gateway.SendAsync(HttpMethod.Delete, $"v1/admin/tokens/{ClientCommand.Segment(tokenId)}", null, c.Cancel);
            if (c.Json) Json(c.Io, doc.RootElement);
            else c.Io.Ansi.Write(new Text($"Client token {tokenId} revoked.\n"));
            return ExitCodes.Ok;
        }, id);
        return new Command("tokens", "Client tokens (virtual keys): scopes, model allowlist, limits and budgets per client.") { create, list, rotate, revoke };
    }

    private static void WithSecret(ClientContext c, JsonElement token, string done)
    {
        if (c.Json)
        {
            Json(c.Io, token);
            return;
        }
        c.Io.Ansi.Write(new Text($"Client token {Str(token, "id")} {done} ({string.Join(", ", token.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()))}). "
            + "Its secret is shown this once:\n"));
        c.Io.Ansi.Write(new Text(Str(token, "secret") + "\n"));
    }

    private static async Task<int> ListAsync(ClientContext c)
    {
        using var doc = await c.Gateway.GetAsync("v1/admin/tokens", c.Cancel);
        if (c.Json)
        {
            Json(c.Io, doc.RootElement);
            return ExitCodes.Ok;
        }
        var tokens = doc.RootElement.GetProperty("tokens").EnumerateArray().ToList();
        if (tokens.Count == 0)
        {
            c.Io.Ansi.Write(new Text("No client tokens (durar tokens create --name <name> creates one).\n"));
            return ExitCodes.Ok;
        }
        var table = Table(c.Io, "ID", "NAME", "STATUS", "SCOPES", "MODELS", "RPM", "TPM", "BUDGET", "SPENT", "REQUESTS", "COST", "EXPIRES");
        foreach (var t in tokens)
        {
            var usage = t.GetProperty("usage");
            Row(table, Cell(Str(t, "id")), Cell(Str(t, "name")), State(Str(t, "status") is "active" ? "ready" : Str(t, "status")),
                Cell(string.Join(",", t.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()))),
                Cell(string.Join(",", t.GetProperty("models").EnumerateArray().Select(s => s.GetString()))),
                Cell(Num(t, "rpm")), Cell(Num(t, "tpm")),
                Cell(t.GetProperty("budget").ValueKind == JsonValueKind.Number ? $"{Dollars(t.GetProperty("budget").GetDecimal())}/{Str(t, "budgetPeriod")}" : null),
                Cell(Dollars(t.GetProperty("period").GetProperty("spend").GetDecimal())),
                Cell(Number(usage.GetProperty("requests").GetInt64())), Cell(Dollars(usage.GetProperty("cost").GetDecimal())),
                Cell(Str(t, "expiresAt")));
        }
        c.Io.Ansi.Write(table);
        return ExitCodes.Ok;
    }

    private static string Body(string? name, string[]? scopes, string[]? models, int? rpm, long? tpm, decimal? budget, string? period, string? expires)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            if (name is not null) w.WriteString("name", name);
            if (scopes is { Length: > 0 }) Strings(w, "scopes", scopes);
            if (models is { Length: > 0 }) Strings(w, "models", models);
            if (rpm is { } r) w.WriteNumber("rpm", r);
            if (tpm is { } t) w.WriteNumber("tpm", t);
            if (budget is { } b) w.WriteNumber("budget", b);
            if (period is not null) w.WriteString("budgetPeriod", period);
            if (expires is not null) w.WriteString("expiresAt", expires);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static string? Num(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64().ToString(CultureInfo.InvariantCulture) : null;

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
