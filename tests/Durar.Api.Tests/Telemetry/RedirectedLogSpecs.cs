using System.Text;
using System.Text.Json;
using Durar.Api.Telemetry;
using Serilog;
using Serilog.Formatting.Display;

namespace Durar.Api.Tests.Telemetry;

/// <summary>
/// The gateway's log pipeline when stdout is redirected (<see cref="BatchedStdoutSink"/>): every line arrives whole, once
/// and in order, across batches; a line logged alone is out without waiting for more; disposing the logger writes out
/// what is still queued; JSON lines stay one object per line; the writer wakes for a full batch, not once per line; past
/// the queue's bound lines are dropped, never waited for.
/// </summary>
public sealed class RedirectedLogSpecs
{
    [Fact]
    public void Should_write_every_line_once_in_order_across_batches_and_drain_on_dispose()
    {
        var output = new CapturedStream();
        var logger = GatewayLogging.Configure(new LoggerConfiguration(), json: false, output).CreateLogger();

        // More than one batch (1,000 events) and fewer than the queue's bound (10,000), so nothing may be dropped.
        for (var i = 0; i < 2_500; i++) logger.Information("line {Index} of {Total:l}", i, "the batch");
        logger.Dispose();

        var lines = output.Lines();
        Assert.Equal(2_500, lines.Length);
        for (var i = 0; i < lines.Length; i++)
            Assert.Matches($@"^\[\d\d:\d\d:\d\d INF\] line {i} of the batch$", lines[i]);
    }

    [Fact]
    public async Task Should_write_a_line_logged_alone_without_waiting_for_more()
    {
        var output = new CapturedStream();
        using var logger = GatewayLogging.Configure(new LoggerConfiguration(), json: false, output).CreateLogger();

        logger.Information("first");
        await output.WaitForLinesAsync(1);
        logger.Warning("second, {N} seconds later", 0);
        await output.WaitForLinesAsync(2);

        Assert.Equal(["first", "second, 0 seconds later"], output.Lines().Select(l => l[(l.IndexOf("] ", StringComparison.Ordinal) + 2)..]));
        Assert.Contains(" WRN] ", output.Lines()[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Should_write_json_lines_one_object_per_line_with_the_rendered_message()
    {
        var output = new CapturedStream();
        var logger = GatewayLogging.Configure(new LoggerConfiguration(), json: true, output).CreateLogger();

        logger.Information("POST {Path:l} answered {Status}", "/v1/chat/completions", 200);
        logger.Error(new InvalidOperationException("upstream went away"), "request {Id:l} failed", "r-1");
        logger.Dispose();

        var lines = output.Lines();
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal("POST /v1/chat/completions answered 200", first.RootElement.GetProperty("@m").GetString());
        Assert.Equal(200, first.RootElement.GetProperty("Status").GetInt32());
        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal("Error", second.RootElement.GetProperty("@l").GetString());
        Assert.Contains("upstream went away", second.RootElement.GetProperty("@x").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Should_wake_for_full_batches_only_however_the_lines_trickle_in()
    {
        var output = new CapturedStream();
        // No interval: the writer may wake only when 1,000 lines wait, and once more at dispose.
        var sink = new BatchedStdoutSink(new MessageTemplateTextFormatter("{Message}{NewLine}"), output, Timeout.InfiniteTimeSpan,
            batchSize: 1_000, queueLimit: 10_000);
        var logger = new LoggerConfiguration().WriteTo.Sink(sink).CreateLogger();

        // Lines come a few at a time, as requests log them: the pause after every ten is the trickle itself (it gives a
        // writer that woke per line the chance to, which would write hundreds of small batches here), not a wait for a result.
        for (var i = 0; i < 3_000; i++)
        {
            logger.Information("line {Index}", i);
            if (i % 10 == 9) Thread.Sleep(1);
        }
        logger.Dispose();

        Assert.Equal(Enumerable.Range(0, 3_000).Select(i => $"line {i}"), output.Lines());
        // About one batch per 1,000 lines and the rest at dispose; a little slack for a full batch that a concurrent drain
        // crossed twice.
        Assert.InRange(sink.Batches, 1, 8);
    }

    [Fact]
    public void Should_drop_lines_past_the_queue_limit_and_write_the_rest()
    {
        var output = new CapturedStream();
        // The writer never wakes on its own here: everything waits until dispose.
        var sink = new BatchedStdoutSink(new MessageTemplateTextFormatter("{Message}{NewLine}"), output, Timeout.InfiniteTimeSpan,
            batchSize: 1_000, queueLimit: 10);
        var logger = new LoggerConfiguration().WriteTo.Sink(sink).CreateLogger();

        for (var i = 0; i < 15; i++) logger.Information("line {Index}", i);
        Assert.Empty(output.Lines());
        logger.Dispose();

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"line {i}"), output.Lines());
        Assert.Equal(1, sink.Batches);
    }

    /// <summary>A write-only stream whose bytes can be read while the sink writes from its own thread.</summary>
    private sealed class CapturedStream : Stream
    {
        private readonly MemoryStream _bytes = new();
        private readonly Lock _gate = new();

        public string[] Lines()
        {
            string text;
            lock (_gate) text = Encoding.UTF8.GetString(_bytes.GetBuffer(), 0, (int)_bytes.Length);
            return text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        public async Task WaitForLinesAsync(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Lines().Length < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} lines after 10 s: {string.Join(" | ", Lines())}");
                await Task.Delay(10);
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_gate) _bytes.Write(buffer, offset, count);
        }

        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
