using System.Collections.Immutable;
using Durar.Actors.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Durar.Actors.Hosting;

/// <summary>
/// Says at start-up, once, what <see cref="ConfigLint"/> found in the configuration (an unknown key, an unset
/// <c>${VAR}</c>): one warning per mistake, in the same key-path form as configuration errors. Registered by
/// <see cref="DurarHostingExtensions.AddDurarCore"/>, so an embedding host hears it too; it runs before the actor system
/// starts, so the warnings come first.
/// </summary>
internal sealed partial class ConfigWarnings(ImmutableArray<ConfigProblem> problems, ILogger<ConfigWarnings> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var problem in problems) Warn(log, problem.Path, problem.Message);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, EventName = "configuration_warning", Message = "Configuration warning at {Path:l}: {Problem:l}")]
    private static partial void Warn(ILogger log, string path, string problem);
}
