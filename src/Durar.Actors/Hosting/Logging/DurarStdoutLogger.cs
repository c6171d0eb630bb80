using Akka.Event;

namespace Durar.Actors.Hosting.Logging;

/// <summary>
/// Akka's last-resort logger (<c>akka.stdout-logger-class</c>): it prints what arrives before the real loggers start and
/// after they stop. When <see cref="DurarAkkaLogger"/> stops at shutdown, Akka hands the events still in its mailbox to
/// this logger whatever their level, so Akka's own "Remoting shut down" lines used to reach the console as the last
/// words of a healthy stop. This one prints only what would be a warning or an error in the host's logging
/// (<see cref="AkkaLogLevels"/>, Akka's default <c>stdout-loglevel</c>), in Akka's own format.
/// </summary>
internal sealed class DurarStdoutLogger : MinimalLogger
{
    protected override void Log(object message)
    {
        switch (message)
        {
            case LogEvent e when AkkaLogLevels.Map(e.LogLevel(), e.LogClass) >= Microsoft.Extensions.Logging.LogLevel.Warning:
                Console.WriteLine(e.ToString());
                break;
            case LogEvent:
                break;
            default:
                Console.WriteLine(message);
                break;
        }
    }
}
