using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Durar.Api.Cli;

/// <summary>
/// System.CommandLine's help, followed by examples of the command and the exit codes (<see cref="ExitCodes.Help"/>), so
/// that <c>durar &lt;command&gt; --help</c> answers "how do I call it" and "what does its exit code mean" in one screen.
/// </summary>
internal sealed class ExamplesHelpAction(HelpAction inner) : SynchronousCommandLineAction
{
    private static readonly Dictionary<string, string[]> Examples = new(StringComparer.Ordinal)
    {
        ["durar"] = ["durar --config durar.conf", "durar status", "durar models list --offline --provider anthropic", "durar config check --config durar.conf"],
        ["durar serve"] = ["durar serve --config durar.conf --port 18789 --data-dir data", "durar serve --log-format json > durar.log",
            "durar serve --config cluster.conf --cluster-port 4053 --seed akka.tcp://durar@127.0.0.1:4053"],
        ["durar status"] = ["durar status", "DURAR_GATEWAY_TOKEN=secret durar status --url http://gateway:18789", "durar status --json | jq '.providers[].keys[]'"],
        ["durar models"] = ["durar models list", "durar models list --offline --config durar.conf"],
        ["durar models list"] = ["durar models list --provider openai", "durar models list --offline --config durar.conf --json"],
        ["durar keys"] = ["durar keys reset openai:key-1a2b3c4d"],
        ["durar keys reset"] = ["durar keys reset openai:key-1a2b3c4d", "durar keys reset anthropic:work@example.com --url http://gateway:18789"],
        ["durar sessions"] = ["durar sessions show demo --messages 10", "durar sessions reset demo", "durar sessions delete demo"],
        ["durar sessions list"] = ["durar sessions list   # exits with 4: the gateway has no session list yet"],
        ["durar sessions show"] = ["durar sessions show demo", "durar sessions show demo --messages 20 --json"],
        ["durar sessions reset"] = ["durar sessions reset demo"],
        ["durar sessions delete"] = ["durar sessions delete demo"],
        ["durar auth"] = ["durar auth list", "printf %s \"$OPENAI_KEY\" | durar auth add --provider openai --key -", "durar auth remove openai:default"],
        ["durar auth list"] = ["durar auth list", "durar auth list --json"],
        ["durar auth add"] = ["printf %s \"$OPENAI_KEY\" | durar auth add --provider openai --key -",
            "durar auth add --provider anthropic --email me@example.com --bearer-token - < token.txt",
            "durar auth add --provider openai-codex --access - --refresh \"$REFRESH\" --token-url https://auth.example.com/token --expires 2026-07-01T00:00:00Z"],
        ["durar auth login"] = ["durar auth login github-copilot", "durar auth login openai-codex --no-browser",
            "durar auth login google-gemini-cli --provider gemini-work --url http://gateway:18789"],
        ["durar auth remove"] = ["durar auth remove openai:default"],
        ["durar tokens"] = ["durar tokens create --name ci --scope chat --model openai/* --rpm 60 --budget 20 --period month", "durar tokens list",
            "durar tokens rotate 0123456789abcdef", "durar tokens revoke 0123456789abcdef"],
        ["durar tokens create"] = ["durar tokens create --name ci --scope chat --model openai/* --rpm 60 --budget 20 --period month",
            "durar tokens create --name agent --scope chat --scope sessions --tpm 100000 --expires 2026-12-31T00:00:00Z --json"],
        ["durar tokens list"] = ["durar tokens list", "durar tokens list --json | jq '.tokens[] | {id, usage}'"],
        ["durar tokens rotate"] = ["durar tokens rotate 0123456789abcdef"],
        ["durar tokens revoke"] = ["durar tokens revoke 0123456789abcdef"],
        ["durar config"] = ["durar config check --config durar.conf"],
        ["durar config check"] = ["durar config check", "durar config check --config durar.conf", "DURAR_CONFIG=durar.conf durar config check --json"],
    };

    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        var code = inner.Invoke(parseResult);
        var output = parseResult.InvocationConfiguration.Output;
        var path = string.Join(' ', DurarCommandLine.CommandPath(parseResult.CommandResult.Command));
        if (Examples.TryGetValue(path, out var examples))
        {
            output.WriteLine("Examples:");
            foreach (var example in examples) output.WriteLine($"  {example}");
            output.WriteLine();
        }
        output.WriteLine(ExitCodes.Help);
        return code;
    }
}
