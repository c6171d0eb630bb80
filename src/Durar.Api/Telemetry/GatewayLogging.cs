using System.Globalization;
using Durar.Actors.Configuration;
using Durar.Api.Extensions;
using Serilog;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;
using Serilog.Formatting.Display;

namespace Durar.Api.Telemetry;

/// <summary>
/// The gateway's Serilog pipeline: human-readable console lines by default, or JSON lines (Serilog's rendered compact
/// JSON: <c>@t</c>, <c>@m</c>, <c>@l</c>, <c>@tr</c>/<c>@sp</c> when a span is current, and every property) for log
/// collectors, chosen with <c>--log-format json</c> / <c>DURAR_LOG_FORMAT=json</c>. Both are written by a background
/// worker, so a request never waits on a slow stdout: on a terminal Serilog's (themed) console sink behind its async
/// wrapper; redirected, <see cref="BatchedStdoutSink"/> (the same text, a batch per write).
/// </summary>
public static class GatewayLogging
{
    /// <summary>The console format names <c>--log-format</c> accepts.</summary>
    public const string Text = "text", Json = "json";

    /// <summary>Whether <paramref name="format"/> (null = the default) asks for JSON lines.</summary>
    /// <exception cref="DurarConfigException">The format is neither text nor json.</exception>
    public static bool IsJson(string? format) => format?.Trim().ToLowerInvariant() switch
    {
        null or "" or Text => false,
        Json => true,
        _ => throw new DurarConfigException("--log-format", $"unknown log format \"{format}\" (expected text or json; env DURAR_LOG_FORMAT)"),
    };

    /// <summary>How long a log line may wait for its batch on a redirected stdout (<see cref="BatchedStdoutSink"/>).</summary>
    internal static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Serilog's console template, also used for redirected text output.</summary>
    private const string ConsoleTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}";

    private const int QueueLimit = 10_000;

    public static LoggerConfiguration Configure(LoggerConfiguration log, bool json) =>
        Configure(log, json, Console.IsOutputRedirected ? Console.OpenStandardOutput() : null);

    /// <param name="redirected">Where redirected output goes (stdout, or a test's stream); null = a terminal.</param>
    internal static LoggerConfiguration Configure(LoggerConfiguration log, bool json, Stream? redirected)
    {
        log.MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            // Off entirely (above Fatal): while this category is enabled at all, ASP.NET Core opens a log scope and starts an
            // Activity for every request just in case; it only logs request start/finish, which the Warning level drops
            // anyway. The gateway writes its own line per request (RequestTelemetry).
            .MinimumLevel.Override("Microsoft.AspNetCore.Hosting.Diagnostics", LogEventLevel.Fatal + 1)
            .MinimumLevel.Override("System.Net.Http.HttpClient", LogEventLevel.Warning)
            // The ready banner (ReadyBanner) says what these said (the URL), and what Data Protection's warning meant.
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Warning)
            .Filter.ByExcluding(ReadyBanner.IsUnencryptedKeyRingWarning)
            .Enrich.FromLogContext();
        // Bounded: past 10,000 waiting events new ones are dropped rather than blocking requests. The logger is disposed
        // with the host, which writes out what is still queued.
        ITextFormatter? plain = json ? new RenderedCompactJsonFormatter() : null;
        if (redirected is null)
            return plain is null
                ? log.WriteTo.Async(a => a.Console(formatProvider: CultureInfo.InvariantCulture), bufferSize: QueueLimit)
                : log.WriteTo.Async(a => a.Console(plain), bufferSize: QueueLimit);
        // Redirected (a pipe, a file, a log driver): the console sink's plain text, written in batches (BatchedStdoutSink).
        plain ??= new MessageTemplateTextFormatter(ConsoleTemplate, CultureInfo.InvariantCulture);
        return log.WriteTo.Sink(new BatchedStdoutSink(plain, redirected, FlushInterval, batchSize: 1_000, QueueLimit));
    }
}
