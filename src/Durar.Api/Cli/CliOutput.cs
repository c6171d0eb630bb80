using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Durar.Api.Cli;

/// <summary>
/// The few shapes every command prints: a table (rounded borders and a bold header on a terminal, bare aligned columns
/// otherwise), a two-column list of facts, a coloured state word, and JSON for <c>--json</c> (indented, written as the
/// gateway or the command produced it). All text goes through Spectre.Console's <see cref="Text"/>, never markup, so a
/// value with brackets is printed as it is.
/// </summary>
internal static class CliOutput
{
    public static Table Table(CliConsole io, params string[] headers)
    {
        var table = new Table { Border = io.IsTerminal ? TableBorder.Rounded : TableBorder.None, ShowHeaders = true };
        foreach (var header in headers)
        {
            var column = new TableColumn(new Text(header, io.IsTerminal ? new Style(decoration: Decoration.Bold) : Style.Plain)) { NoWrap = true };
            if (!io.IsTerminal) column.Padding = new Padding(0, 0, 2, 0);
            table.AddColumn(column);
        }
        return table;
    }

    public static void Row(Table table, params IRenderable[] cells) => table.AddRow(cells);

    public static IRenderable Cell(string? text, Style? style = null) => new Text(string.IsNullOrEmpty(text) ? "-" : text, style ?? Style.Plain);

    /// <summary>Label and value pairs, aligned: <c>Gateway  http://...</c>.</summary>
    public static Grid Facts(CliConsole io, IEnumerable<(string Label, IRenderable Value)> facts)
    {
        var grid = new Grid();
        grid.AddColumn(new GridColumn { NoWrap = true, Padding = new Padding(0, 0, 2, 0) });
        grid.AddColumn(new GridColumn { Padding = new Padding(0, 0, 0, 0) });
        foreach (var (label, value) in facts)
            grid.AddRow(new Text(label, io.IsTerminal ? new Style(decoration: Decoration.Bold) : Style.Plain), value);
        return grid;
    }

    /// <summary>A section title before a table (<c>Keys</c>); bold on a terminal.</summary>
    public static void Heading(CliConsole io, string title)
    {
        io.Ansi.WriteLine();
        io.Ansi.Write(new Text(title + "\n", io.IsTerminal ? new Style(decoration: Decoration.Bold) : Style.Plain));
    }

    /// <summary>A key, node or profile state, coloured by what it means to the operator (colours only where enabled).</summary>
    public static IRenderable State(string? state) => Cell(state, state switch
    {
        "ready" or "up" or "yes" or "eligible" or "valid" => new Style(Color.Green),
        "cooling" or "limited" or "joining" or "leaving" or "exiting" or "weakly-up" => new Style(Color.Yellow),
        "disabled" or "down" or "removed" or "no" or "unreachable" or "ineligible" => new Style(Color.Red),
        not null when state.EndsWith("error(s)", StringComparison.Ordinal) => new Style(Color.Red),
        _ => Style.Plain,
    });

    /// <summary>Writes one JSON document to standard output, indented.</summary>
    public static void Json(CliConsole io, Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            write(w);
        io.Out.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }

    public static void Json(CliConsole io, JsonElement element) => Json(io, element.WriteTo);

    /// <summary>An error for the operator: one line on standard error, never a stack trace.</summary>
    public static void Error(CliConsole io, string message) => io.Err.WriteLine($"durar: {message}");

    /// <summary>How long until <paramref name="until"/>: <c>45s</c>, <c>4m 12s</c>, <c>2h 05m</c>, <c>3d 4h</c>; null = <c>-</c>.</summary>
    public static string TimeLeft(DateTimeOffset? until, DateTimeOffset now)
    {
        if (until is not { } end) return "-";
        var left = end - now;
        if (left <= TimeSpan.Zero) return "0s";
        left = TimeSpan.FromSeconds(Math.Ceiling(left.TotalSeconds));
        return left.TotalDays >= 1 ? $"{(int)left.TotalDays}d {left.Hours}h"
            : left.TotalHours >= 1 ? $"{(int)left.TotalHours}h {left.Minutes:00}m"
            : left.TotalMinutes >= 1 ? $"{(int)left.TotalMinutes}m {left.Seconds:00}s"
            : $"{left.Seconds}s";
    }

    /// <summary>US dollars with four decimals (<c>$0.0123</c>): spend per key is often well below a cent.</summary>
    public static string Dollars(decimal amount) => "$" + amount.ToString("0.0000", CultureInfo.InvariantCulture);

    public static string Number(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
