using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Durar.Api.Tests.Cli;

/// <summary>
/// An <see cref="ILoggerProvider"/> that keeps every entry a host logs (category, level, rendered message), so a spec can
/// count what an embedding application would see through its own logging.
/// </summary>
internal sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public sealed record Entry(string Category, LogLevel Level, string Message)
    {
        public override string ToString() => $"{Level,-11} {Category}: {Message}";
    }

    public IReadOnlyList<Entry> Entries => _entries.ToArray();

    public IReadOnlyList<Entry> AtLeast(LogLevel level) => _entries.Where(e => e.Level >= level).ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new Entry(category, logLevel, formatter(state, exception)));
    }
}
