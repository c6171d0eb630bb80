using MelLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Durar.Actors.Hosting.Logging;

/// <summary>
/// The level an Akka log event gets in the host's logging. Akka's own Information lines (remoting and cluster start-up,
/// a single node joining itself, singleton and shard coordinator hand-overs, dead letters, the leave at shutdown: about
/// 40 lines on every start and stop) are Akka's bookkeeping, not the operator's news, so they go to Debug; warnings and
/// errors keep their level. Durar's own actors (and any actor of the host) keep Information. A host that wants Akka's
/// lines back enables Debug for the <c>Akka</c> category.
/// </summary>
internal static class AkkaLogLevels
{
    public static MelLevel Map(Akka.Event.LogLevel level, Type? logClass) => level switch
    {
        Akka.Event.LogLevel.DebugLevel => MelLevel.Debug,
        Akka.Event.LogLevel.InfoLevel => IsAkkaInternal(logClass) ? MelLevel.Debug : MelLevel.Information,
        Akka.Event.LogLevel.WarningLevel => MelLevel.Warning,
        _ => MelLevel.Error,
    };

    /// <summary>
    /// True for a class of Akka itself (namespace <c>Akka</c> or <c>Akka.*</c>), which includes Akka's stand-in class for
    /// events logged under a plain string source (remoting, the cluster daemon, coordinated shutdown), and an event without
    /// a class (which only Akka's own string sources produce).
    /// </summary>
    public static bool IsAkkaInternal(Type? logClass) =>
        logClass is null || (logClass.Namespace is { } ns && (ns == "Akka" || ns.StartsWith("Akka.", StringComparison.Ordinal)));

    /// <summary>Akka's level from its HOCON name (<c>akka.loglevel</c>: DEBUG, INFO, WARNING, ERROR, OFF; case-insensitive).</summary>
    public static Akka.Event.LogLevel Parse(string? name) => name?.Trim().ToUpperInvariant() switch
    {
        "DEBUG" => Akka.Event.LogLevel.DebugLevel,
        "WARNING" or "WARN" => Akka.Event.LogLevel.WarningLevel,
        "ERROR" or "OFF" => Akka.Event.LogLevel.ErrorLevel,
        _ => Akka.Event.LogLevel.InfoLevel,
    };
}
