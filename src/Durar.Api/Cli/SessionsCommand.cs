using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using static Durar.Api.Cli.CliOutput;

namespace Durar.Api.Cli;

/// <summary>
/// <c>durar sessions list</c> (<c>GET /v1/sessions</c>: a table, or the page as JSON with <c>--json</c>) and
/// <c>durar sessions show|reset|delete &lt;key&gt;</c> over the sessions API (<c>/v1/sessions/{key}</c>).
/// </summary>
internal static class SessionsCommand
{
    public static Command Create(CliConsole io)
    {
        var showKey = KeyArgument();
        var messages = new Option<int?>("--messages") { Description = "Also print the last N messages of the transcript" };
        var show = ClientCommand.Create("show", "Show a session: overrides, auth profile, usage, last model, transcript length.", io,
            c => ShowAsync(c, c.Parse.GetValue(showKey)!, c.Parse.GetValue(messages)), showKey, messages);

        var resetKey = KeyArgument();
        var reset = ClientCommand.Create("reset", "Start a session over: clear its transcript and overrides (like /reset).", io, async c =>
        {
            var key = c.Parse.GetValue(resetKey)!;
            using var doc = await c.Gateway.SendAsync(HttpMethod.Post, $"v1/sessions/{ClientCommand.Segment(key)}/reset", null, c.Cancel);
            if (c.Json) Json(c.Io, doc.RootElement);
            else c.Io.Ansi.Write(new Text($"Session {key} reset ({doc.RootElement.GetProperty("transcriptLength").GetInt64()} message(s) in its transcript).\n"));
            return ExitCodes.Ok;
        }, resetKey);

        var deleteKey = KeyArgument();
        var delete = ClientCommand.Create("delete", "Delete a session and its journal.", io, async c =>
        {
            var key = c.Parse.GetValue(deleteKey)!;
            using var doc = await c.Gateway.SendAsync(HttpMethod.Delete, $"v1/sessions/{ClientCommand.Segment(key)}", null, c.Cancel);
            if (c.Json) Json(c.Io, doc.RootElement);
            else c.Io.Ansi.Write(new Text($"Session {key} deleted.\n"));
            return ExitCodes.Ok;
        }, deleteKey);

        var prefix = new Option<string?>("--prefix") { Description = "Only sessions whose key starts with this" };
        var limit = new Option<int?>("--limit") { Description = "Sessions per page, 1-100 (default 20)" };
        var cursor = new Option<string?>("--cursor") { Description = "The page after the one that printed this cursor" };
        var list = ClientCommand.Create("list", "List sessions, newest activity first (a page at a time).", io,
            c => ListAsync(c, c.Parse.GetValue(prefix), c.Parse.GetValue(limit), c.Parse.GetValue(cursor)), prefix, limit, cursor);
        return new Command("sessions", "Conversations kept by the gateway (see the README's Sessions section).") { list, show, reset, delete };
    }

    private static async Task<int> ListAsync(ClientContext c, string? prefix, int? limit, string? cursor)
    {
        if (limit is < 1 or > 100)
        {
            Error(c.Io, "--limit must be from 1 to 100");
            return ExitCodes.Usage;
        }
        var query = new List<string>();
        if (!string.IsNullOrEmpty(prefix)) query.Add("prefix=" + Uri.EscapeDataString(prefix));
        if (limit is { } n) query.Add("limit=" + n.ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(cursor)) query.Add("cursor=" + Uri.EscapeDataString(cursor));
        using var doc = await c.Gateway.GetAsync("v1/sessions" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), c.Cancel);
        var page = doc.RootElement;
        if (c.Json)
        {
            Json(c.Io, page);
            return ExitCodes.Ok;
        }
        var items = page.GetProperty("data");
        if (items.GetArrayLength() == 0)
        {
            c.Io.Ansi.Write(new Text(string.IsNullOrEmpty(prefix) ? "No sessions.\n" : $"No sessions with the prefix {prefix}.\n"));
            return ExitCodes.Ok;
        }
        var table = Table(c.Io, "KEY", "LAST ACTIVITY", "LAST MODEL", "MODEL OVERRIDE");
        foreach (var s in items.EnumerateArray())
        {
            var at = DateTimeOffset.Parse(s.GetProperty("lastActivity").GetString()!, CultureInfo.InvariantCulture).ToUniversalTime();
            Row(table, Cell(s.GetProperty("key").GetString()), Cell($"{at:yyyy-MM-dd HH:mm:ss}Z"), Cell(Str(s, "lastModel")), Cell(Str(s, "modelOverride")));
        }
        c.Io.Ansi.Write(table);
        if (Str(page, "nextCursor") is { } next) c.Io.Ansi.Write(new Text($"More: durar sessions list --cursor {next}\n"));
        return ExitCodes.Ok;
    }

    /// <summary>The session's context: the last input against the budget, the tokenizer, the compactions (issue 18).</summary>
    private static string ContextLine(JsonElement v)
    {
        if (!v.TryGetProperty("context", out var context)) return "-";
        var last = context.GetProperty("lastInputTokens") is { ValueKind: JsonValueKind.Number } n ? Number(n.GetInt64()) : "-";
        var compactions = v.GetProperty("compactionCount").GetInt32();
        return $"{last} of {Number(context.GetProperty("inputBudget").GetInt64())} input tokens ({context.GetProperty("tokenizer").GetString()}), "
            + $"{compactions} compaction{(compactions == 1 ? "" : "s")}";
    }

    private static Argument<string> KeyArgument() =>
        new("key") { Description = "The session key (1-200 letters, digits or : . _ - @)" };

    private static async Task<int> ShowAsync(ClientContext c, string key, int? last)
    {
        if (last is < 1)
        {
            Error(c.Io, "--messages must be at least 1");
            return ExitCodes.Usage;
        }
        using var view = await c.Gateway.GetAsync($"v1/sessions/{ClientCommand.Segment(key)}", c.Cancel);
        var v = view.RootElement;
        JsonDocument? page = null;
        try
        {
            if (last is { } n)
            {
                var offset = Math.Max(0, v.GetProperty("transcriptLength").GetInt64() - n);
                page = await c.Gateway.GetAsync($"v1/sessions/{ClientCommand.Segment(key)}/messages?offset={offset}&limit={n}", c.Cancel);
            }
            if (c.Json)
            {
                Json(c.Io, w =>
                {
                    w.WriteStartObject();
                    foreach (var p in v.EnumerateObject()) p.WriteTo(w);
                    if (page is not null)
                    {
                        w.WritePropertyName("messages");
                        page.RootElement.GetProperty("messages").WriteTo(w);
                    }
                    w.WriteEndObject();
                });
                return ExitCodes.Ok;
            }
            var o = v.GetProperty("overrides");
            var auth = v.GetProperty("authProfile");
            var usage = v.GetProperty("usage");
            c.Io.Ansi.Write(Facts(c.Io,
            [
                ("Session", Cell(v.GetProperty("key").GetString())),
                ("Model", Cell(Str(o, "model") is { } m ? $"{m} (set by {Str(o, "modelSource") ?? "the session"})" : "default")),
                ("Thinking", Cell(Str(o, "thinkingLevel") ?? "default")),
                ("Fast mode", Cell(Str(o, "fastMode") ?? "default")),
                ("Usage line", Cell(Str(o, "responseUsage") ?? "default")),
                ("Queue mode", Cell(Str(o, "queueMode") ?? "default")),
                ("Auth profile", Cell(Str(auth, "id") is { } id ? $"{id} ({Str(auth, "source") ?? "pinned"})" : "-")),
                ("Last model", Cell(Str(v, "lastModel"))),
                ("Transcript", Cell($"{Number(v.GetProperty("transcriptLength").GetInt64())} message(s)")),
                ("Running", Cell($"{(v.GetProperty("running").GetBoolean() ? "yes" : "no")}, {v.GetProperty("queued").GetInt32()} queued")),
                ("Context", Cell(ContextLine(v))),
                ("Usage", Cell($"{Number(usage.GetProperty("input").GetInt64())} input, {Number(usage.GetProperty("output").GetInt64())} output, "
                    + $"{Number(usage.GetProperty("cacheRead").GetInt64())} cache read, {Number(usage.GetProperty("cacheWrite").GetInt64())} cache write tokens "
                    + $"({Dollars(usage.GetProperty("cost").GetDecimal())})")),
            ]));
            if (page is not null) WriteMessages(c.Io, page.RootElement);
            return ExitCodes.Ok;
        }
        finally
        {
            page?.Dispose();
        }
    }

    private static void WriteMessages(CliConsole io, JsonElement page)
    {
        Heading(io, "Messages");
        foreach (var m in page.GetProperty("messages").EnumerateArray())
        {
            var at = DateTimeOffset.Parse(m.GetProperty("at").GetString()!, CultureInfo.InvariantCulture).ToUniversalTime();
            var model = Str(m, "model") is { } name ? $" ({name})" : "";
            io.Ansi.Write(new Text($"#{m.GetProperty("seq").GetInt64()} {m.GetProperty("role").GetString()}{model} at {at:yyyy-MM-dd HH:mm:ss}Z\n",
                io.IsTerminal ? new Style(decoration: Decoration.Bold) : Style.Plain));
            foreach (var line in (m.GetProperty("content").GetString() ?? "").Split('\n')) io.Ansi.Write(new Text($"  {line}\n"));
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
