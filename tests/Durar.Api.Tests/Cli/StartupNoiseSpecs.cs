using Akka.Actor;
using Akka.Hosting;
using Durar.Actors.Configuration;
using Durar.Actors.Hosting;
using Durar.Actors.Providers.Messages;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Durar.Api.Tests.Cli;

public sealed class StartupNoiseSpecs(ITestOutputHelper output)
{
    [Fact]
    public async Task Should_log_a_handful_of_lines_when_embedded_through_AddDurar()
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
            var sys = host.Services.GetRequiredService<ActorSystem>();
            output.WriteLine($"loggers={string.Join(";", sys.Settings.Loggers)} stdout={sys.Settings.StdoutLogLevel} loglevel={sys.Settings.LogLevel} cfg={sys.Settings.Config.GetString("akka.stdout-loglevel")}");
            var registry = host.Services.GetRequiredService<IRequiredActor<ProvidersRegistryKey>>();
            await registry.ActorRef.Ask<ProviderStates>(new ProviderCommands.GetAllProviderStates(), TimeSpan.FromSeconds(30));
            await host.StopAsync();
        }
        var loud = log.AtLeast(LogLevel.Information);
        foreach (var e in loud) output.WriteLine(e.ToString());
        output.WriteLine($"{loud.Count} lines at Information or above");
        Assert.True(loud.Count <= 0, $"{loud.Count} lines");
    }
}
