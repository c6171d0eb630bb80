using System.Collections.Concurrent;
using System.Text;
using Serilog.Core;
using Serilog.Debugging;
using Serilog.Events;
using Serilog.Formatting;

namespace Durar.Api.Telemetry;

/// <summary>
/// Log lines for a redirected stdout (a pipe, a file, a container's log driver), written in batches by a thread of the
/// sink's own: it wakes every <c>interval</c> (or at once when a full batch is waiting), formats every event queued
/// since the last batch straight into one buffered writer, and the batch leaves in one flush. The console sink it replaces
/// there formatted each event into a string of its own and wrote and flushed it alone: one <c>write</c> system call and
/// about 3 KB of garbage per request log line.
/// </summary>
/// <remarks>
/// <para>Logging a line never wakes a thread (issue 17). Serilog's batching sink, which this replaced, waits on its
/// channel between batches, so under load each line that found the channel empty woke a thread-pool worker for a batch
/// of a few lines: 0.1 work items per stateless request, and each woken worker spun before it slept again (8
/// <c>sched_yield</c> per request, bench/RESULTS.md). Here a line only goes into a queue; the writer thread polls.</para>
/// <para>A batch is flushed whole, so lines are never split between batches; a line is out at most <c>interval</c> after
/// it was logged. Past <c>queueLimit</c> waiting lines, new ones are dropped rather than blocking requests. Disposing
/// the sink (the logger does, with the host) writes out what is still queued. On a terminal the themed console sink stays
/// (colours, a person reading).</para>
/// </remarks>
internal sealed class BatchedStdoutSink : ILogEventSink, IDisposable
{
    private readonly ITextFormatter _formatter;
    private readonly StreamWriter _writer;
    private readonly TimeSpan _interval;
    private readonly int _batchSize;
    private readonly int _queueLimit;
    private readonly ConcurrentQueue<LogEvent> _queue = new();
    private readonly SemaphoreSlim _fullBatch = new(0);
    private readonly Thread _thread;
    private int _queued;
    private volatile bool _stopping;

    /// <param name="interval">How long a line may wait for its batch.</param>
    /// <param name="batchSize">Lines waiting that wake the writer before the interval is over.</param>
    /// <param name="queueLimit">Lines waiting past which new ones are dropped.</param>
    public BatchedStdoutSink(ITextFormatter formatter, Stream output, TimeSpan interval, int batchSize, int queueLimit)
    {
        _formatter = formatter;
        _writer = new StreamWriter(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 64 * 1024) { AutoFlush = false };
        _interval = interval;
        _batchSize = batchSize;
        _queueLimit = queueLimit;
        _thread = new Thread(Run) { IsBackground = true, Name = "durar-log-writer" };
        _thread.Start();
    }

    /// <summary>Batches written so far (the specs' view of how often the writer woke with work).</summary>
    internal int Batches { get; private set; }

    public void Emit(LogEvent logEvent)
    {
        if (_stopping) return;
        var waiting = Interlocked.Increment(ref _queued);
        if (waiting > _queueLimit)
        {
            Interlocked.Decrement(ref _queued);
            return;
        }
        _queue.Enqueue(logEvent);
        if (waiting == _batchSize) _fullBatch.Release();
    }

    private void Run()
    {
        while (true)
        {
            _fullBatch.Wait(_interval);
            var last = _stopping; // read before the drain: a line queued before Dispose set it is written
            WriteWaiting();
            if (last) return;
        }
    }

    private void WriteWaiting()
    {
        var any = false;
        while (_queue.TryDequeue(out var e))
        {
            Interlocked.Decrement(ref _queued);
            any = true;
            try
            {
                _formatter.Format(e, _writer);
            }
            catch (Exception ex)
            {
                SelfLog.WriteLine("The log line could not be formatted and was left out: {0}", ex);
            }
        }
        if (!any) return;
        Batches++;
        try
        {
            _writer.Flush();
        }
        catch (Exception ex)
        {
            // stdout closed or full: the batch is lost, the gateway goes on (logging never fails a request).
            SelfLog.WriteLine("A batch of log lines could not be written: {0}", ex);
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _fullBatch.Release();
        _thread.Join();
        _fullBatch.Dispose();
        try
        {
            _writer.Dispose();
        }
        catch (Exception ex)
        {
            SelfLog.WriteLine("The log's output could not be closed: {0}", ex);
        }
    }
}
