using System.Collections;
using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Akka.Hosting.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durar.Actors.Hosting.Logging;

/// <summary>
/// Akka's logger for Durar: every Akka log event into the host's <see cref="ILoggerFactory"/> (the one Akka.Hosting hands
/// the actor system), under the category of the class that logged it (<c>Akka.Cluster.Tools.Singleton.ClusterSingletonManager</c>,
/// <c>Durar.Actors.Providers.KeyActor</c>; what Akka logs under a plain string source goes under <c>Akka</c>), with the
/// message text alone and the level from <see cref="AkkaLogLevels"/>.
/// It replaces Akka.Hosting's <c>LoggerFactoryLogger</c>, which logs everything under one category at Akka's level with
/// Akka's own text prefix, so that a host embedding Durar is not handed Akka's start/stop chatter at Information.
/// </summary>
internal sealed class DurarAkkaLogger : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly ILoggerFactory _factory;
    private readonly Dictionary<Type, ILogger> _loggers = [];

    public DurarAkkaLogger()
    {
        var setup = Context.System.Settings.Setup.Get<LoggerFactorySetup>();
        _factory = setup.HasValue ? setup.Value.LoggerFactory : NullLoggerFactory.Instance;
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent e:
                Write(e);
                return true;
            default:
                return false;
        }
    }

    private void Write(LogEvent e)
    {
        var logClass = e.LogClass ?? typeof(DummyClassForStringSources);
        if (!_loggers.TryGetValue(logClass, out var logger))
            _loggers[logClass] = logger = _factory.CreateLogger(Category(logClass));
        var level = AkkaLogLevels.Map(e.LogLevel(), e.LogClass);
        if (!logger.IsEnabled(level)) return;
        var text = (e.Message is LogMessage m ? m.ToString() : e.Message?.ToString()) ?? "";
        logger.Log(level, default, new State(text, e.LogSource), e.Cause, static (s, _) => s.Text);
    }

    /// <summary>
    /// The class's full name; events Akka logs under a plain string source (remoting, the cluster daemon, coordinated
    /// shutdown) have no class of their own and go under <c>Akka</c>.
    /// </summary>
    internal static string Category(Type logClass) =>
        logClass == typeof(DummyClassForStringSources) ? "Akka" : logClass.FullName ?? logClass.Name;

    /// <summary>
    /// The event as structured state: the rendered text as a template with no holes (braces escaped, so a provider that
    /// parses templates prints it verbatim) and Akka's log source (the actor path) as a property.
    /// </summary>
    private readonly struct State(string text, string? source) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Text => text;

        public int Count => 2;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("AkkaSource", source),
            1 => new("{OriginalFormat}", text.Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal)),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++) yield return this[i];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => text;
    }
}
