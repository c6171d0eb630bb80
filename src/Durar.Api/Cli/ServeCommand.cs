using System.CommandLine;
using Durar.Actors.Configuration;
using Durar.Api.Extensions;
using Durar.Api.Telemetry;

namespace Durar.Api.Cli;

/// <summary>
/// <c>durar serve</c>: run the gateway. Also what <c>durar</c> does with no command, so <c>dotnet run --project
/// src/Durar.Api -- --config f --port n</c> and every process the tests start keep working. A configuration error is one
/// line naming the key path, and exit code 2, without a stack trace.
/// </summary>
internal static class ServeCommand
{
    /// <summary>The gateway's options, added to <paramref name="command"/>, and the action that runs it.</summary>
    public static void Configure(Command command, CliConsole io)
    {
        var config = new Option<string?>("--config") { Description = "HOCON/JSON5 config file layered over the defaults (env DURAR_CONFIG)" };
        var port = new Option<int?>("--port") { Description = "HTTP port (env DURAR_PORT; default gateway.port = 18789)" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Directory for the SQLite file and other state (env DURAR_DATA_DIR; default ./data)" };
        var clusterPort = new Option<int?>("--cluster-port") { Description = "Akka remoting port of this node (env DURAR_CLUSTER_PORT; default gateway.cluster.port = 0)" };
        var seed = new Option<string[]>("--seed") { Description = "Seed node akka.tcp://durar@host:port; repeat for several (env DURAR_SEED_NODES, comma-separated)", AllowMultipleArgumentsPerToken = true };
        var logFormat = new Option<string?>("--log-format") { Description = "Console log format: text (default) or json, one JSON object per line (env DURAR_LOG_FORMAT)" };
        logFormat.AcceptOnlyFromAmong(GatewayLogging.Text, GatewayLogging.Json);
        command.Add(config);
        command.Add(port);
        command.Add(dataDir);
        command.Add(clusterPort);
        command.Add(seed);
        command.Add(logFormat);
        command.SetAction(async (parse, ct) =>
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
                CliOutput.Error(io, $"configuration error at {e.Path}: {e.Problem}");
                return ExitCodes.Usage;
            }
            await app.RunAsync(ct);
            return ExitCodes.Ok;
        });
    }
}
