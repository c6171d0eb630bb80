using System.CommandLine;
using Durar.Api.Cli;

namespace Durar.Api.Tests.Cli;

/// <summary>
/// The command line as a whole: every command's help ends with examples and the exit codes, a usage error is exit 2, a
/// gateway that is not there is exit 3, a gateway token comes from DURAR_GATEWAY_TOKEN or --token.
/// </summary>
public sealed class CommandLineSpecs
{
    private static IEnumerable<Command> All(Command command) => new[] { command }.Concat(command.Subcommands.SelectMany(All));

    [Fact]
    public async Task Should_end_every_commands_help_with_examples_and_the_exit_codes()
    {
        var commands = All(DurarCommandLine.Build(new CliConsole { Out = TextWriter.Null, Err = TextWriter.Null })).ToList();
        Assert.True(commands.Count >= 17, $"{commands.Count} commands");
        foreach (var command in commands)
        {
            var path = DurarCommandLine.CommandPath(command).Skip(1).ToArray();
            var run = await Cli.RunAsync([.. path, "--help"]);
            var name = string.Join(' ', ["durar", .. path]);
            Assert.True(run.ExitCode == 0, $"{name}: {run}");
            Assert.Contains($"Usage:\n  {name}", run.Out);
            var examples = run.Out.Split("Examples:\n").ElementAtOrDefault(1)?.Split("\n\n")[0] ?? "";
            Assert.True(examples.Contains(name, StringComparison.Ordinal), $"{name} --help has no example of it:\n{run.Out}");
            Assert.Contains("""
                Exit codes:
                  0  ok
                  1  the gateway answered with an error
                  2  usage or configuration error
                  3  cannot reach the gateway
                  4  not supported by the gateway yet
                """, run.Out);
        }
    }

    [Fact]
    public async Task Should_exit_with_2_on_a_usage_error_without_a_stack_trace()
    {
        var typo = await Cli.RunAsync("modles", "list");
        var missing = await Cli.RunAsync("keys", "reset");
        var badUrl = await Cli.RunAsync("status", "--url", "ftp://gateway");

        Assert.Equal((2, ""), (typo.ExitCode, typo.Out));
        Assert.Equal("durar: Unrecognized command or argument 'modles'.\ndurar: Unrecognized command or argument 'list'.\nRun 'durar --help' for usage.",
            typo.Err.Trim());
        Assert.Equal(2, missing.ExitCode);
        Assert.Equal("durar: Required argument missing for command: 'reset'.\nRun 'durar keys reset --help' for usage.", missing.Err.Trim());
        Assert.Equal((2, "durar: --url \"ftp://gateway\" is not an http(s) URL"), (badUrl.ExitCode, badUrl.Err.Trim()));
    }

    [Fact]
    public async Task Should_exit_with_3_when_no_gateway_answers()
    {
        var port = Durability.GatewayProcess.FreePort();

        var run = await Cli.RunAsync("status", "--url", $"http://127.0.0.1:{port}");

        Assert.Equal((3, ""), (run.ExitCode, run.Out));
        Assert.Equal($"durar: cannot reach the gateway at http://127.0.0.1:{port}/ (connection refused). Is it running (durar serve), and is --url right?",
            run.Err.Trim());
    }

    [Fact]
    public async Task Should_send_the_gateway_token_from_the_environment_or_the_option()
    {
        await using var gw = await GatewayHarness.StartAsync(GatewayHarness.TwoFakeProviders + "\ngateway { auth { token = \"cli-secret-token-0123456789abcdef0123456\" } }");
        var url = gw.BaseUri.ToString();

        var without = await Cli.RunAsync("models", "list", "--url", url);
        var fromEnv = await Cli.RunWithAsync(new Dictionary<string, string> { ["DURAR_GATEWAY_TOKEN"] = "cli-secret-token-0123456789abcdef0123456" }, null, "models", "list", "--url", url);
        var fromOption = await Cli.RunAsync("models", "list", "--url", url, "--token", "cli-secret-token-0123456789abcdef0123456", "--json");

        Assert.Equal(1, without.ExitCode);
        Assert.Equal("durar: Invalid or missing gateway token. Send Authorization: Bearer <token>. (invalid_api_key, HTTP 401) "
            + "Set DURAR_GATEWAY_TOKEN or pass --token.", without.Err.Trim());
        Assert.Equal(0, fromEnv.ExitCode);
        Assert.Contains("fakeoai/gpt-fake", fromEnv.Out);
        Assert.Equal(0, fromOption.ExitCode);
        Assert.Contains(fromOption.Json().GetProperty("models").EnumerateArray(), m => m.GetProperty("id").GetString() == "fakeant/claude-fake");
    }

    [Fact]
    public async Task Should_take_the_gateway_url_from_DURAR_URL()
    {
        await using var gw = await GatewayHarness.StartAsync();

        var run = await Cli.RunWithAsync(new Dictionary<string, string> { ["DURAR_URL"] = gw.BaseUri.ToString().TrimEnd('/') }, null, "models", "list", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(run.Json().GetProperty("models").EnumerateArray(), m => m.GetProperty("id").GetString() == "fakeoai/gpt-fake");
    }
}
