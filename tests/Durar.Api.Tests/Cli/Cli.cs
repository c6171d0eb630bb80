using System.Text.Json;
using System.Text.RegularExpressions;
using Durar.Api.Cli;

namespace Durar.Api.Tests.Cli;

/// <summary>What one run of the <c>durar</c> command line printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Err)
{
    public JsonElement Json()
    {
        using var doc = JsonDocument.Parse(Out);
        return doc.RootElement.Clone();
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
}

/// <summary>
/// Runs the real command line (<see cref="DurarCommandLine.RunAsync(string[], CliConsole)"/>) in-process, as a script would
/// run it: standard output is not a terminal (plain text), the environment is only what the spec gives it.
/// </summary>
internal static partial class Cli
{
    /// <summary>A run with its own environment variables and standard input.</summary>
    public static async Task<CliResult> RunWithAsync(IReadOnlyDictionary<string, string>? env, string? stdin, params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var io = new CliConsole
        {
            Out = output,
            Err = error,
            In = new StringReader(stdin ?? ""),
            IsTerminal = false,
            Env = name => env?.GetValueOrDefault(name),
        };
        var code = await DurarCommandLine.RunAsync(args, io);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public static Task<CliResult> RunAsync(params string[] args) => RunWithAsync(null, null, args);

    /// <summary>A command against the harness's gateway (<c>--url</c> added).</summary>
    public static Task<CliResult> AgainstAsync(GatewayHarness gw, params string[] args) =>
        RunWithAsync(null, null, [.. args, "--url", gw.BaseUri.ToString()]);

    /// <summary>
    /// Plain output made comparable: the gateway's URL and node addresses (random ports) replaced by placeholders, and the
    /// column padding (which follows their length) folded into two spaces.
    /// </summary>
    public static string Normalize(string text, GatewayHarness? gw = null)
    {
        if (gw is not null) text = text.Replace(gw.BaseUri.ToString(), "{url}/", StringComparison.Ordinal);
        text = AkkaAddress().Replace(text, "{node}");
        text = Padding().Replace(text, "  ");
        return string.Join('\n', text.Split('\n').Select(l => l.TrimEnd())).Trim('\n');
    }

    [GeneratedRegex(@"akka\.tcp://durar@127\.0\.0\.1:\d+")]
    private static partial Regex AkkaAddress();

    [GeneratedRegex(@"(?<=\S) {2,}(?=\S)")]
    private static partial Regex Padding();
}
