using Spectre.Console;

namespace Durar.Api.Cli;

/// <summary>
/// Where a <c>durar</c> command reads and writes: the process's console, or (in tests) string writers and a fixed
/// environment. Output is rich (tables with borders, colours) only on a terminal; redirected, it is plain text: aligned
/// columns without borders or colours, wide enough that nothing wraps. <c>NO_COLOR</c> turns colours off on a terminal too.
/// </summary>
public sealed class CliConsole
{
    /// <summary>Plain output is this wide, so a table row never wraps in a file or a pipe.</summary>
    private const int PlainWidth = 512;

    public required TextWriter Out { get; init; }
    public required TextWriter Err { get; init; }
    public TextReader In { get; init; } = TextReader.Null;

    /// <summary>True when standard output is a terminal (borders, colours, the terminal's width).</summary>
    public bool IsTerminal { get; init; }

    /// <summary>Reads an environment variable (<c>DURAR_GATEWAY_TOKEN</c>, <c>DURAR_URL</c>, <c>NO_COLOR</c>, a <c>${VAR}</c>).</summary>
    public Func<string, string?> Env { get; init; } = Environment.GetEnvironmentVariable;

    public static CliConsole FromProcess() => new()
    {
        Out = Console.Out,
        Err = Console.Error,
        In = Console.In,
        IsTerminal = !Console.IsOutputRedirected,
    };

    /// <summary>Colours only on a terminal, and not when <c>NO_COLOR</c> is set (https://no-color.org).</summary>
    public bool Colors => IsTerminal && string.IsNullOrEmpty(Env("NO_COLOR"));

    private IAnsiConsole? _ansi;
    private TrailingSpaceTrimmingWriter? _plain;

    /// <summary>Writes out what the plain-text writer still holds (a last line without a newline).</summary>
    public void Flush()
    {
        _plain?.Flush();
        Out.Flush();
    }

    /// <summary>The Spectre.Console renderer over <see cref="Out"/>.</summary>
    public IAnsiConsole Ansi => _ansi ??= CreateAnsi();

    private IAnsiConsole CreateAnsi()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(IsTerminal ? Out : _plain = new TrailingSpaceTrimmingWriter(Out)),
            Ansi = IsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = Colors ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!IsTerminal) console.Profile.Width = PlainWidth;
        return console;
    }
}

/// <summary>
/// Plain output without the spaces Spectre.Console pads the last column of a table with: a file or a pipe gets lines
/// that end where their text ends.
/// </summary>
internal sealed class TrailingSpaceTrimmingWriter(TextWriter inner) : TextWriter
{
    private readonly System.Text.StringBuilder _line = new();

    public override System.Text.Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        if (value == '\n')
        {
            var end = _line.Length;
            while (end > 0 && _line[end - 1] is ' ' or '\r') end--;
            inner.Write(_line.ToString(0, end));
            inner.Write('\n');
            _line.Clear();
        }
        else _line.Append(value);
    }

    public override void Flush()
    {
        inner.Write(_line.ToString());
        _line.Clear();
        inner.Flush();
    }
}
