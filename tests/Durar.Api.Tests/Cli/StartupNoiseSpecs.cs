using Akka.Actor;
using Akka.Hosting;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.Providers.Messages;
using Durar.Api.Tests.Durability;
using Durar.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Durar.Api.Tests.Cli;

/// <summary>
/// A healthy start and stop says little: the gateway prints its ready banner and two shutdown lines (it printed 59 lines
/// before), and a host embedding Durar through <c>AddDurar</c> hears nothing from Akka or Durar at Information (it heard
/// 38 to 40 Akka lines on every start and stop before); Akka's lines are still there, at Debug.
/// </summary>
public sealed class StartupNoiseSpecs(ITestOutputHelper output)
{
    [Fact]
    public async Task Should_print_the_ready_banner_and_a_handful_of_lines_on_a_gateway_start_and_stop()
    {
        var dir = Directory.CreateTempSubdirectory("durar-banner-");
        var log = new GatewayLog();
        try
        {
            var config = Path.Combine(dir.FullName, "durar.conf");
            await File.WriteAllTextAsync(config, """
                models { providers { fakeoai { baseUrl = "http://127.0.0.1:9/v1", apiKey = "sk-banner-1234", models = [{ id = "m" }] } } }
                """);
            var dataDir = Path.Combine(dir.FullName, "data");
            await using (var gw = await GatewayProcess.StartAsync("gw", config, dataDir, dir.FullName, log, TimeSpan.FromSeconds(60)))
            {
                await Eventually.Until(() => Task.FromResult(log.Lines), lines => lines.Any(l => l.Contains("  try        curl", StringComparison.Ordinal)),
                    "the ready banner", TimeSpan.FromSeconds(30));
                var lines = Printed(log);
                var banner = lines.SkipWhile(l => !l.Contains("Durar gateway ready on", StringComparison.Ordinal)).Take(7).ToList();
                Assert.EndsWith($"INF] Durar gateway ready on {gw.BaseUri.ToString().TrimEnd('/')}", banner[0]);
                Assert.Equal($"  config     {config} over the built-in defaults", banner[1]);
                Assert.Equal("  providers  1 with keys: fakeoai", banner[2]);
                Assert.Equal($"  data       {dataDir} (journal: SQLite durar.db)", banner[3]);
                Assert.StartsWith($"  secrets    the key ring in {Path.Combine(dataDir, "keys")} is stored unencrypted; to protect auth-profile secrets, set gateway.secrets.key",
                    banner[4]);
                Assert.Equal($"  try        curl -N {gw.BaseUri}v1/chat/completions -H 'content-type: application/json' "
                    + """-d '{"model":"echo/echo","stream":true,"messages":[{"role":"user","content":"hello from durar"}]}'""", banner[5]);

                gw.Terminate();
                Assert.Equal(0, await gw.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            }

            var printed = Printed(log);
            foreach (var line in printed) output.WriteLine(line);
            // The request lines (RequestTelemetry) of the harness's readiness probes are requests like any other, not start-up noise.
            var events = printed.Where(l => l.StartsWith('[') && !IsReadinessProbe(l)).ToList();
            Assert.True(events.Count <= 4, $"{events.Count} log lines on a start and stop:\n{string.Join('\n', printed)}");
            Assert.DoesNotContain(events, e => !e.Contains(" INF] ", StringComparison.Ordinal));
            Assert.Contains(events, e => e.Contains("Shutdown: drained after", StringComparison.Ordinal));
            Assert.DoesNotContain(log.Lines, l => l.Contains("[gw!]", StringComparison.Ordinal));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static bool IsReadinessProbe(string line) => line.Contains("] GET /v1/admin/providers answered ", StringComparison.Ordinal);

    /// <summary>What the gateway wrote to standard output, without the log's time stamps and source tags.</summary>
    private static List<string> Printed(GatewayLog log) =>
        log.Lines.Where(l => l.Contains(" [gw] ", StringComparison.Ordinal)).Select(l => l[(l.IndexOf(" [gw] ", StringComparison.Ordinal) + 6)..]).ToList();

    [Fact]
    public async Task Should_log_nothing_from_akka_or_durar_at_information_when_embedded_through_AddDurar()
    {
        var log = new CapturedLog();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(log);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddDurar(DurarSettingsLoader.Defaults);
        using (var host = builder.Build())
        {
            await host.StartAsync();
            var registry = host.Services.GetRequiredService<IRequiredActor<ProvidersRegistryKey>>();
            await registry.ActorRef.Ask<ProviderStates>(new ProviderCommands.GetAllProviderStates(), TimeSpan.FromSeconds(30));
            await host.StopAsync();
        }

        var loud = log.AtLeast(LogLevel.Information);
        foreach (var e in loud) output.WriteLine(e.ToString());
        // What is left is the host's own lifetime lines ("Application started", ...), none of Akka's or Durar's.
        Assert.All(loud, e => Assert.Equal("Microsoft.Hosting.Lifetime", e.Category));
        Assert.True(loud.Count <= 4, $"{loud.Count} lines at Information or above");
        // Demoted, not lost: Akka's own lines are there at Debug, under the category of the class that logged them.
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Debug && e.Category == "Akka" && e.Message.Contains("is JOINING itself", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Debug && e.Category == "Akka.Cluster.Tools.Singleton.ClusterSingletonManager"
            && e.Message.Contains("Singleton manager started singleton actor", StringComparison.Ordinal));
    }
}
