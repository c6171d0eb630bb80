using System.CommandLine;
using Durar.Actors.Configuration;
using Durar.Api.Extensions;

namespace Durar.Api.Cli;

/// <summary>
/// The <c>durar</c> command line: run the gateway. A configuration error is printed as one line naming the key path and
/// the process exits with code 2, without a stack trace.
/// </summary>
public static class DurarCommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        var config = new Option<string?>("--config") { Description = "HOCON/JSON5 config file layered over the defaults (env DURAR_CONFIG)" };
        var port = new Option<int?>("--port") { Description = "HTTP port (env DURAR_PORT; default gateway.port = 18789)" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Directory for the SQLite file and other state (env DURAR_DATA_DIR; default ./data)" };
        var clusterPort = new Option<int?>("--cluster-port") { Description = "Akka remoting port of this node (env DURAR_CLUSTER_PORT; default gateway.cluster.port = 0)" };
        var seed = new Option<string[]>("--seed") { Description = "Seed node akka.tcp://durar@host:port; repeat for several (env DURAR_SEED_NODES, comma-separated)", AllowMultipleArgumentsPerToken = true };
        var logFormat = new Option<string?>("--log-format") { Description = "Console log format: text (default) or json, one JSON object per line (env DURAR_LOG_FORMAT)" };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var root = new RootCommand("Durar.Actors gateway: an OpenAI-compatible LLM gateway on Akka.NET") { config, port, dataDir, clusterPort, seed, logFormat };
        root.SetAction(async (parse, ct) =>
        {
            var options = GatewayOptions.FromEnvironment(parse.GetValue(config), parse.GetValue(port), parse.GetValue(dataDir),
                parse.GetValue(clusterPort), parse.GetValue(seed), parse.GetValue(logFormat));
            WebApplication app;
            try
            {
                app = GatewayHost.Build(options);
            }
            catch (DurarConfigException e)
            {
                await Console.Error.WriteLineAsync($"durar: configuration error at {e.Path}: {e.Problem}");
                return 2;
            }
            await app.RunAsync(ct);
            return 0;
        });
        // No termination handling here: System.CommandLine would end the process 2 s after SIGTERM. The host's console
        // lifetime owns SIGTERM/Ctrl+C instead: drain, cluster leave, exit code 0 (see GatewayHost.AddGracefulShutdown).
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }
}
