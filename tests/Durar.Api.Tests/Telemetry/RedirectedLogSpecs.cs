using System.Text;
using System.Text.Json;
using Durar.Api.Telemetry;
using Serilog;

namespace Durar.Api.Tests.Telemetry;

/// <summary>
/// The gateway's log pipeline when stdout is redirected (<see cref="BatchedStdoutSink"/> behind Serilog's batching): every
/// line arrives whole, once and in order, across batches; a line logged alone is out without waiting for more; disposing
/// the logger writes out what is still queued; JSON lines stay one object per line.
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
