using Akka.Cluster.Tools.Singleton;
using Akka.Event;
using Durar.Actors.Hosting.Logging;
using Durar.Actors.Providers;
using MelLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Durar.Actors.Tests.Hosting.Logging;

/// <summary><see cref="AkkaLogLevels"/>: Akka's own Information lines go to Debug, everything else keeps its level.</summary>
public sealed class AkkaLogLevelsSpecs
{
    [Fact]
    public void Should_put_akkas_own_information_at_debug()
    {
        Assert.Equal(MelLevel.Debug, AkkaLogLevels.Map(LogLevel.InfoLevel, typeof(ClusterSingletonManager)));
        Assert.Equal(MelLevel.Debug, AkkaLogLevels.Map(LogLevel.InfoLevel, typeof(DummyClassForStringSources)));
        Assert.Equal(MelLevel.Debug, AkkaLogLevels.Map(LogLevel.InfoLevel, typeof(Akka.Actor.CoordinatedShutdown)));
        Assert.Equal(MelLevel.Debug, AkkaLogLevels.Map(LogLevel.InfoLevel, null));
    }

    [Fact]
    public void Should_keep_durars_information_and_everyones_warnings_and_errors()
    {
        Assert.Equal(MelLevel.Information, AkkaLogLevels.Map(LogLevel.InfoLevel, typeof(KeyActor)));
        Assert.Equal(MelLevel.Warning, AkkaLogLevels.Map(LogLevel.WarningLevel, typeof(ClusterSingletonManager)));
        Assert.Equal(MelLevel.Error, AkkaLogLevels.Map(LogLevel.ErrorLevel, typeof(DummyClassForStringSources)));
        Assert.Equal(MelLevel.Debug, AkkaLogLevels.Map(LogLevel.DebugLevel, typeof(KeyActor)));
    }

    [Theory]
    [InlineData("DEBUG", LogLevel.DebugLevel)]
    [InlineData("info", LogLevel.InfoLevel)]
    [InlineData("WARNING", LogLevel.WarningLevel)]
    [InlineData("ERROR", LogLevel.ErrorLevel)]
    [InlineData(null, LogLevel.InfoLevel)]
    public void Should_read_akkas_level_names(string? name, LogLevel level) => Assert.Equal(level, AkkaLogLevels.Parse(name));
}
