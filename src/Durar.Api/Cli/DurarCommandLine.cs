using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Durar.Api.Cli;

/// <summary>
/// The <c>durar</c> executable: <c>serve</c> (the default), the operator commands against a running gateway
/// (<c>status</c>, <c>models</c>, <c>keys</c>, <c>sessions</c>, <c>auth</c>) and the offline ones (<c>config check</c>,
/// <c>models list --offline</c>). Parsed with System.CommandLine, printed with Spectre.Console. A usage error prints the
/// problem and exits with <see cref="ExitCodes.Usage"/>; <c>--help</c> on every command ends with examples and the exit codes.
/// </summary>
public static class DurarCommandLine
{
    public static Task<int> RunAsync(string[] args) => RunAsync(args, CliConsole.FromProcess());

    public static async Task<int> RunAsync(string[] args, CliConsole io)
    {
        var root = Build(io);
        var parse = root.Parse(args);
        var invocation = new InvocationConfiguration
        {
            Output = io.Out,
            Error = io.Err,
            // No termination handling here: System.CommandLine would end the process 2 s after SIGTERM. The host's console
            // lifetime owns SIGTERM/Ctrl+C instead: drain, cluster leave, exit code 0 (see GatewayHost.AddGracefulShutdown).
            ProcessTerminationTimeout = null,
        };
        if (parse.Action is ParseErrorAction)
        {
            foreach (var error in parse.Errors) CliOutput.Error(io, error.Message);
            var command = string.Join(' ', CommandPath(parse.CommandResult.Command));
            io.Err.WriteLine($"Run '{command} --help' for usage.");
            return ExitCodes.Usage;
        }
        try
        {
            return await parse.InvokeAsync(invocation);
        }
        finally
        {
            io.Flush();
        }
    }

    /// <summary>The command tree (public for the help snapshot specs).</summary>
    public static Command Build(CliConsole io)
    {
        // A plain command named "durar" rather than a RootCommand, which takes its name from the executable: Durar.Api
        // under dotnet run, the tool's shim when installed; the help should say what the operator types.
        var help = new HelpOption();
        help.Action = new ExamplesHelpAction((HelpAction)help.Action!);
        var root = new Command("durar", "durar: an OpenAI-compatible LLM gateway on Akka.NET. With no command, runs the gateway (durar serve).")
        {
            help,
            new VersionOption(),
        };
        ServeCommand.Configure(root, io);
        var serve = new Command("serve", "Run the gateway (the default when no command is given).");
        ServeCommand.Configure(serve, io);
        root.Add(serve);
        root.Add(StatusCommand.Create(io));
        root.Add(ModelsCommand.Create(io));
        root.Add(KeysCommand.Create(io));
        root.Add(SessionsCommand.Create(io));
        root.Add(AuthCommand.Create(io));
        root.Add(TokensCommand.Create(io));
        root.Add(ConfigCommand.Create(io));
        return root;
    }

    internal static IEnumerable<string> CommandPath(Command command)
    {
        var names = new Stack<string>();
        for (Symbol? s = command; s is not null; s = s.Parents.OfType<Command>().FirstOrDefault())
            names.Push(s.Name);
        return names;
    }
}
