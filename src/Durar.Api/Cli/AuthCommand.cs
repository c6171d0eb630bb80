using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using static Durar.Api.Cli.CliOutput;

namespace Durar.Api.Cli;

/// <summary>
/// <c>durar auth add|list|remove</c> over <c>/v1/admin/auth-profiles</c>: credentials kept (encrypted) in the gateway's
/// journal, served as keys of their provider. A secret given as <c>-</c> is read from standard input, so it stays out of
/// the shell history and the process list; secrets are only ever shown masked.
/// </summary>
internal static class AuthCommand
{
    public static Command Create(CliConsole io)
    {
        var list = ClientCommand.Create("list", "List the auth profiles (secrets masked) and the stored key orders.", io, ListAsync);

        var provider = new Option<string>("--provider") { Description = "The provider the credential is for (e.g. openai)", Required = true };
        var type = new Option<string?>("--type") { Description = "api_key, token or oauth (default: from the secret given: --key, --bearer-token, --access/--refresh)" };
        var email = new Option<string?>("--email") { Description = "The account's email: the profile id becomes provider:<email> (default provider:default)" };
        var key = new Option<string?>("--key") { Description = "The API key of an api_key profile (- reads it from standard input)" };
        var token = new Option<string?>("--bearer-token") { Description = "The bearer token of a token profile (- reads it from standard input)" };
        var access = new Option<string?>("--access") { Description = "An oauth profile's access token (- reads it from standard input)" };
        var refresh = new Option<string?>("--refresh") { Description = "An oauth profile's refresh token (- reads it from standard input)" };
        var expires = new Option<string?>("--expires") { Description = "When the token expires: epoch milliseconds or an ISO 8601 time" };
        var tokenUrl = new Option<string?>("--token-url") { Description = "An oauth profile's token endpoint (needed to refresh)" };
        var clientId = new Option<string?>("--client-id") { Description = "An oauth profile's client id, if its token endpoint wants one" };
        var add = ClientCommand.Create("add", "Add an auth profile, or replace the one with the same provider and email.", io, async c =>
        {
            var p = c.Parse;
            string? Secret(Option<string?> option) => p.GetValue(option) is "-" ? c.Io.In.ReadLine()?.Trim() : p.GetValue(option);
            var values = new[]
            {
                ("provider", p.GetValue(provider)), ("type", p.GetValue(type) ?? Infer(p.GetValue(key), p.GetValue(token), p.GetValue(access), p.GetValue(refresh))),
                ("email", p.GetValue(email)), ("key", Secret(key)), ("token", Secret(token)), ("access", Secret(access)), ("refresh", Secret(refresh)),
                ("tokenUrl", p.GetValue(tokenUrl)), ("clientId", p.GetValue(clientId)),
            };
            var (status, doc) = await c.Gateway.SendWithStatusAsync(HttpMethod.Post, "v1/admin/auth-profiles", Body(values, p.GetValue(expires)), c.Cancel);
            using (doc)
            {
                var profile = doc.RootElement;
                if (c.Json) Json(c.Io, profile);
                else
                    c.Io.Ansi.Write(new Text($"Auth profile {profile.GetProperty("id").GetString()} {(status == 201 ? "created" : "replaced")} "
                        + $"({profile.GetProperty("type").GetString()}, {Masked(profile)}, "
                        + $"{(profile.GetProperty("eligible").GetBoolean() ? "eligible" : "not eligible: " + Str(profile, "reason"))}).\n"));
            }
            return ExitCodes.Ok;
        }, provider, type, email, key, token, access, refresh, expires, tokenUrl, clientId);

        var id = new Argument<string>("id") { Description = "The profile id (provider:default or provider:<email>)" };
        var remove = ClientCommand.Create("remove", "Remove an auth profile (its key stops being served at once).", io, async c =>
        {
            var profileId = c.Parse.GetValue(id)!;
            using var doc = await c.Gateway.SendAsync(HttpMethod.Delete, $"v1/admin/auth-profiles/{ClientCommand.Segment(profileId)}", null, c.Cancel);
            if (c.Json) Json(c.Io, doc.RootElement);
            else c.Io.Ansi.Write(new Text($"Auth profile {profileId} removed.\n"));
            return ExitCodes.Ok;
        }, id);
        return new Command("auth", "Auth profiles: API keys, tokens and OAuth credentials stored by the gateway.") { list, add, remove, Login.LoginCommand.Create(io) };
    }

    private static string? Infer(string? key, string? token, string? access, string? refresh) =>
        key is not null ? "api_key" : token is not null ? "token" : access is not null || refresh is not null ? "oauth" : null;

    /// <summary>The request body with the fields that were given (the gateway names any it refuses).</summary>
    internal static string Body(IEnumerable<(string Name, string? Value)> values, string? expires)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            foreach (var (name, value) in values)
                if (value is not null) w.WriteString(name, value);
            if (expires is not null)
            {
                if (long.TryParse(expires, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)) w.WriteNumber("expires", ms);
                else w.WriteString("expires", expires);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static async Task<int> ListAsync(ClientContext c)
    {
        using var doc = await c.Gateway.GetAsync("v1/admin/auth-profiles", c.Cancel);
        if (c.Json)
        {
            Json(c.Io, doc.RootElement);
            return ExitCodes.Ok;
        }
        var profiles = doc.RootElement.GetProperty("profiles").EnumerateArray().ToList();
        if (profiles.Count == 0) c.Io.Ansi.Write(new Text("No auth profiles (durar auth add --provider <id> --key - adds one).\n"));
        else
        {
            var table = Table(c.Io, "ID", "PROVIDER", "TYPE", "EMAIL", "SECRET", "EXPIRES", "ELIGIBLE", "REASON");
            foreach (var p in profiles)
                Row(table, Cell(Str(p, "id")), Cell(Str(p, "provider")), Cell(Str(p, "type")), Cell(Str(p, "email")), Cell(Masked(p)),
                    Cell(p.TryGetProperty("expires", out var e) && e.ValueKind == JsonValueKind.Number
                        ? DateTimeOffset.FromUnixTimeMilliseconds(e.GetInt64()).ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : null),
                    State(p.GetProperty("eligible").GetBoolean() ? "yes" : "no"), Cell(Str(p, "reason")));
            c.Io.Ansi.Write(table);
        }
        var orders = doc.RootElement.GetProperty("order").EnumerateObject().ToList();
        if (orders.Count > 0)
        {
            Heading(c.Io, "Stored key orders");
            c.Io.Ansi.Write(Facts(c.Io, orders.Select(o => (o.Name, Cell(string.Join(", ", o.Value.EnumerateArray().Select(x => x.GetString())))))));
        }
        return ExitCodes.Ok;
    }

    /// <summary>The profile's secrets as the gateway shows them (masked), e.g. <c>key …abcd</c>.</summary>
    internal static string Masked(JsonElement profile) =>
        string.Join(", ", new[] { "key", "token", "access", "refresh" }.Where(n => Str(profile, n) is not null).Select(n => $"{n} {Str(profile, n)}"));

    internal static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
