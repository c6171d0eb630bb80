using System.CommandLine;

namespace Durar.Api.Cli;

/// <summary>What a command that talks to a running gateway gets: the output, the client, <c>--json</c>, the parse.</summary>
internal sealed record ClientContext(CliConsole Io, GatewayClient Gateway, bool Json, ParseResult Parse, CancellationToken Cancel)
{
    public DateTimeOffset Now { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>
/// The options every gateway command shares (<c>--url</c>, <c>--token</c>, <c>--json</c>) and the one place their failures
/// become exit codes: the gateway's <c>{"error":{...}}</c> is printed as its message and code (exit 1), an unreachable
/// gateway as one line (exit 3), a malformed <c>--url</c> as a usage error (exit 2). Never a stack trace.
/// </summary>
internal static class ClientCommand
{
    public const string DefaultUrl = "http://127.0.0.1:18789";

    public static Command Create(string name, string description, CliConsole io, Func<ClientContext, Task<int>> run,
        params Symbol[] symbols)
    {
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Argument a: command.Add(a); break;
                case Option o: command.Add(o); break;
            }
        }
        var url = new Option<string?>("--url") { Description = $"Gateway URL (env DURAR_URL; default {DefaultUrl})" };
        var token = new Option<string?>("--token") { Description = "Gateway token, if the gateway requires one (default: env DURAR_GATEWAY_TOKEN)" };
        var json = new Option<bool>("--json") { Description = "Print JSON (stable property names) instead of text" };
        command.Add(url);
        command.Add(token);
        command.Add(json);
        command.SetAction(async (parse, ct) =>
        {
            var target = parse.GetValue(url) ?? NonEmpty(io.Env("DURAR_URL")) ?? DefaultUrl;
            if (!Uri.TryCreate(target.EndsWith('/') ? target : target + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                CliOutput.Error(io, $"--url \"{target}\" is not an http(s) URL");
                return ExitCodes.Usage;
            }
            using var client = new GatewayClient(uri, parse.GetValue(token) ?? NonEmpty(io.Env("DURAR_GATEWAY_TOKEN")));
            try
            {
                return await run(new ClientContext(io, client, parse.GetValue(json), parse, ct));
            }
            catch (GatewayErrorException e)
            {
                var hint = e.Status == 401 ? " Set DURAR_GATEWAY_TOKEN or pass --token." : "";
                CliOutput.Error(io, $"{e.Message} ({(e.Code is null ? "" : e.Code + ", ")}HTTP {e.Status}){hint}");
                return ExitCodes.GatewayError;
            }
            catch (GatewayUnreachableException e)
            {
                CliOutput.Error(io, e.Message);
                return ExitCodes.Unreachable;
            }
        });
        return command;
    }

    public static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    /// <summary>A path segment: ids such as <c>openai:key-1a2b3c4d</c> or a session key, escaped for the URL.</summary>
    public static string Segment(string value) => Uri.EscapeDataString(value);
}
