using System.IO.Compression;
using System.Text;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;
using Durar.Testing;
using Piece = Durar.Testing.RawUpstream.Piece;

namespace Durar.Actors.Tests.Transports;

/// <summary>
/// What an upstream body may cost the node (<see cref="GuardedBody"/>): a whole answer is bounded after decompression
/// (<c>gateway.upstream.maxResponseBytes</c>, so a compressed bomb stops early), a streamed line is bounded
/// (<c>gateway.upstream.maxLineBytes</c>), a stream as a whole is not, and bytes that carry no event (SSE keep-alive
/// comments) still count as progress for the idle timer. Each limit ends in a classified failure the run fails over from.
/// </summary>
public sealed class GuardedBodySpecs
{
    private const string OpenAi = ApiKinds.OpenAiCompletions;
    private const int Limit = 64 * 1024;

    private static readonly UpstreamSettings Tight = UpstreamSettings.Defaults with { MaxResponseBytes = Limit, MaxLineBytes = Limit };

    private static string Completion(string text) =>
        $$$"""{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"{{{text}}}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}""";

    private static string Chunk(string content, string? finish = null) =>
        $$$"""data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"{{{content}}}"},"finish_reason":{{{(finish is null ? "null" : $"\"{finish}\"")}}}}]}""" + "\n\n";

    private static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize)) gzip.Write(Encoding.UTF8.GetBytes(text));
        return output.ToArray();
    }

    private static IReadOnlyList<Piece> GzipJson(string json)
    {
        var body = Gzip(json);
        return [RawUpstream.Head(200, ("Content-Type", "application/json"), ("Content-Encoding", "gzip"), ("Content-Length", body.Length.ToString())), new Piece(body)];
    }

    private static IReadOnlyList<Piece> Sse(params Piece[] body) =>
        [RawUpstream.Head(200, ("Content-Type", "text/event-stream")), .. body];

    private static async Task<(UpstreamHarness Harness, UpstreamCall Call)> CallAsync(RawUpstream raw, bool stream, TimeSpan? idle = null)
    {
        var h = await UpstreamHarness.StartAsync(Tight);
        return (h, h.Call(OpenAi, stream, idle, baseUrl: raw.BaseUrl));
    }

    [Fact]
    public async Task Should_stop_reading_a_compressed_answer_that_decodes_past_the_limit()
    {
        // 16 MiB of JSON that gzips to a few KiB: the handler decodes it, the guard stops at 64 KiB.
        var bomb = Completion(new string('a', 16 * 1024 * 1024));
        await using var raw = RawUpstream.Start(() => GzipJson(bomb));
        var (h, call) = await CallAsync(raw, stream: false);
        await using var _ = h;

        var e = await Assert.ThrowsAsync<UpstreamException>(() => h.Transport(OpenAi).CompleteAsync(call, default));

        Assert.Equal(UpstreamTransportError.MalformedStream, e.Failure.Transport);
        Assert.Contains("gateway.upstream.maxResponseBytes", e.Failure.Message);
        Assert.Equal(UpstreamHarness.ProviderId, e.Failure.ProviderId);
    }

    [Fact]
    public async Task Should_read_a_compressed_answer_within_the_limit()
    {
        var text = new string('b', 40 * 1024);
        await using var raw = RawUpstream.Start(() => GzipJson(Completion(text)));
        var (h, call) = await CallAsync(raw, stream: false);
        await using var _ = h;

        var completion = await h.Transport(OpenAi).CompleteAsync(call, default);

        Assert.Equal(text, completion.Text);
    }

    [Fact]
    public async Task Should_fail_a_stream_whose_line_passes_the_limit()
    {
        var longLine = Chunk(new string('c', Limit + 1024)); // one SSE data line longer than the limit
        await using var raw = RawUpstream.Start(() => Sse(Piece.Text(Chunk("before ")), Piece.Text(longLine)));
        var (h, call) = await CallAsync(raw, stream: true);
        await using var _ = h;

        var (events, failure) = await UpstreamHarness.DrainAsync(h.Transport(OpenAi).StreamAsync(call, default));

        var e = Assert.IsType<UpstreamException>(failure);
        Assert.Equal(UpstreamTransportError.MalformedStream, e.Failure.Transport);
        Assert.Contains("gateway.upstream.maxLineBytes", e.Failure.Message);
        Assert.Equal("before ", Assert.Single(events.OfType<TextDelta>()).Text);
    }

    [Fact]
    public async Task Should_not_bound_a_stream_as_a_whole()
    {
        // Eight lines of 40 KiB each: every line within the limit, the stream five times past it.
        var piece = new string('d', 40 * 1024);
        var body = Enumerable.Range(0, 8).Select(_ => Piece.Text(Chunk(piece)))
            .Append(Piece.Text(Chunk("", "stop"))).Append(Piece.Text("data: [DONE]\n\n")).ToArray();
        await using var raw = RawUpstream.Start(() => Sse(body));
        var (h, call) = await CallAsync(raw, stream: true);
        await using var _ = h;

        var (events, failure) = await UpstreamHarness.DrainAsync(h.Transport(OpenAi).StreamAsync(call, default));

        Assert.Null(failure);
        Assert.Equal(8 * piece.Length, events.OfType<TextDelta>().Sum(t => t.Text.Length));
    }

    [Fact]
    public async Task Should_count_keep_alive_comments_as_progress_for_the_idle_timer()
    {
        // Three seconds of ": ping" every 200 ms under a 2 s idle timeout: no event arrives for longer than the timeout,
        // yet the upstream is alive, so the stream must not time out.
        var pings = Enumerable.Range(0, 15).Select(_ => Piece.Text(": ping\n\n", TimeSpan.FromMilliseconds(200)));
        var body = pings.Append(Piece.Text(Chunk("alive"))).Append(Piece.Text(Chunk("", "stop"))).Append(Piece.Text("data: [DONE]\n\n")).ToArray();
        await using var raw = RawUpstream.Start(() => Sse(body));
        var (h, call) = await CallAsync(raw, stream: true, idle: TimeSpan.FromSeconds(2));
        await using var _ = h;

        var (events, failure) = await UpstreamHarness.DrainAsync(h.Transport(OpenAi).StreamAsync(call, default));

        Assert.Null(failure);
        Assert.Equal("alive", Assert.Single(events.OfType<TextDelta>()).Text);
    }

    [Fact]
    public async Task Should_still_time_out_a_stream_that_sends_nothing()
    {
        var body = new[] { Piece.Text(Chunk("first")), Piece.Text(Chunk("late"), TimeSpan.FromSeconds(5)) };
        await using var raw = RawUpstream.Start(() => Sse(body));
        var (h, call) = await CallAsync(raw, stream: true, idle: TimeSpan.FromSeconds(1));
        await using var _ = h;

        var (_, failure) = await UpstreamHarness.DrainAsync(h.Transport(OpenAi).StreamAsync(call, default));

        Assert.Equal(UpstreamTransportError.Timeout, Assert.IsType<UpstreamException>(failure).Failure.Transport);
    }
}
