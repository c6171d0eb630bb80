using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Configuration;
using Durar.Actors.Resilience;
using Durar.Actors.Transports;
using Durar.Testing;

namespace Durar.Actors.Tests.Transports;

/// <summary>
/// <see cref="NdjsonFraming{TFrame}"/>: line cutting over bodies that arrive in any read sizes, and the framing plugged
/// into the transport skeleton by a minimal Ollama-shaped probe wire, against the fake provider over HTTP.
/// </summary>
public sealed class NdjsonFramingSpecs
{
    private static readonly NdjsonFraming<string> Text = new(static line => Encoding.UTF8.GetString(line));

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    public async Task Should_cut_lines_whatever_the_read_sizes(int readSize)
    {
        var frames = await ReadAllAsync("{\"a\":1}\n{\"b\":2}\r\n\n  \n{\"c\":3}", readSize);

        Assert.Equal(["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"], frames);
    }

    [Fact]
    public async Task Should_read_a_line_longer_than_its_initial_buffer()
    {
        var longLine = "{\"t\":\"" + new string('y', 10_000) + "\"}";

        var frames = await ReadAllAsync($"{longLine}\nnext\n", readSize: 700);

        Assert.Equal([longLine, "next"], frames);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\r\n \n")]
    public async Task Should_yield_nothing_for_a_body_without_content(string body)
    {
        Assert.Empty(await ReadAllAsync(body, readSize: 2));
    }

    [Fact]
    public async Task Should_stream_through_the_skeleton_and_ask_for_ndjson()
    {
        await using var h = await UpstreamHarness.StartAsync();
        h.Fake.Enqueue(new FakeResponse
        {
            RawBody = "{\"message\":{\"content\":\"Hel\"},\"done\":false}\n{\"message\":{\"content\":\"lo\"},\"done\":false}\r\n\n"
                + "{\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":3,\"eval_count\":2}\n",
        });
        var wire = new OllamaProbeWire(h.HttpClients, h.Settings);

        var (events, failure) = await UpstreamHarness.DrainAsync(wire.StreamAsync(h.Call(ApiKinds.Ollama, stream: true), default));

        Assert.Null(failure);
        Assert.Equal([typeof(StreamOpened), typeof(TextDelta), typeof(TextDelta), typeof(Finished), typeof(UsageReport)],
            events.Select(e => e.GetType()));
        Assert.Equal("Hello", string.Concat(events.OfType<TextDelta>().Select(t => t.Text)));
        Assert.Equal(new TokenUsage(3, 2), events.OfType<UsageReport>().Single().Usage);
        Assert.Equal("application/x-ndjson", Assert.Single(h.Fake.Requests).Headers["accept"]);
    }

    [Theory]
    [InlineData("{\"message\":{\"content\":\"Hel\"},\"done\":false}\n", UpstreamTransportError.StreamCut)]
    [InlineData("{\"message\":{\"content\":\"Hel\"},\"done\":false}\n{\"message\":\n", UpstreamTransportError.MalformedStream)]
    public async Task Should_fail_an_ndjson_stream_like_any_other(string body, Enum expected) // Enum: the internal enum cannot be a public parameter
    {
        await using var h = await UpstreamHarness.StartAsync();
        h.Fake.Enqueue(new FakeResponse { RawBody = body });
        var wire = new OllamaProbeWire(h.HttpClients, h.Settings);

        var (events, failure) = await UpstreamHarness.DrainAsync(wire.StreamAsync(h.Call(ApiKinds.Ollama, stream: true), default));

        Assert.Equal("Hel", Assert.Single(events.OfType<TextDelta>()).Text);
        var e = Assert.IsType<UpstreamException>(failure);
        Assert.Equal((UpstreamTransportError)expected, e.Failure.Transport);
        Assert.Equal(UpstreamHarness.ProviderId, e.Failure.ProviderId);
    }

    private static async Task<List<string>> ReadAllAsync(string body, int readSize)
    {
        var frames = new List<string>();
        await using var reader = Text.Open(new TrickleStream(Encoding.UTF8.GetBytes(body), readSize), default);
        while (await reader.MoveNextAsync()) frames.Add(reader.Current);
        return frames;
    }

    /// <summary>A body that hands out at most a few bytes per read, as a slow network does.</summary>
    private sealed class TrickleStream(byte[] data, int readSize) : MemoryStream(data, writable: false)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, readSize)], cancellationToken);
    }

    /// <summary>
    /// A wire reduced to its mapping, Ollama-shaped (<c>{"message":{"content"}}</c> lines, a <c>done</c> line with counts):
    /// only what <see cref="HttpChatTransport{TFrame}"/> asks of a wire. It posts to the fake's chat-completions route.
    /// </summary>
    private sealed class OllamaProbeWire(IHttpClientFactory httpClients, UpstreamSettings upstream)
        : HttpChatTransport<ProbeLine>(httpClients, upstream)
    {
        private static readonly NdjsonFraming<ProbeLine> Lines = new(static line => ProbeLine.Parse(line));

        protected override IStreamFraming<ProbeLine> Framing => Lines;

        protected override string RequestPath(UpstreamCall call, bool stream) => "/chat/completions";

        protected override void WriteBody(Utf8JsonWriter w, UpstreamCall call, bool stream)
        {
            w.WriteStartObject();
            w.WriteString("model", call.Target.Model.Id);
            w.WriteStartArray("messages");
            foreach (var m in call.Request.Messages)
            {
                w.WriteStartObject();
                w.WriteString("role", m.Role);
                w.WriteString("content", m.AllText);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteBoolean("stream", stream);
            w.WriteEndObject();
        }

        protected override IStreamDecoder<ProbeLine> NewStreamDecoder(UpstreamCall call) => ProbeDecoder.Instance;

        protected override ChatCompletion ParseCompletion(JsonElement root, UpstreamCall call) =>
            new(root.GetProperty("message").GetProperty("content").GetString(), [], "stop", null, null);
    }

    private sealed class ProbeDecoder : IStreamDecoder<ProbeLine>
    {
        public static readonly ProbeDecoder Instance = new();

        public FrameVerdict Decode(in ProbeLine line, List<ChatEvent> events)
        {
            if (line.Malformed) return FrameVerdict.Malformed("malformed line from upstream");
            if (line.Text is { Length: > 0 } text) events.Add(new TextDelta(text));
            if (!line.Done) return FrameVerdict.Continue;
            events.Add(new Finished(line.DoneReason ?? "stop"));
            events.Add(new UsageReport(line.Usage ?? TokenUsage.Zero));
            return FrameVerdict.EndOfStream;
        }
    }

    private readonly record struct ProbeLine(string? Text, bool Done, string? DoneReason, TokenUsage? Usage, bool Malformed)
    {
        public static ProbeLine Parse(ReadOnlySpan<byte> line)
        {
            try
            {
                var reader = new Utf8JsonReader(line);
                using var doc = JsonDocument.ParseValue(ref reader);
                var root = doc.RootElement;
                var done = root.TryGetProperty("done", out var d) && d.ValueKind == JsonValueKind.True;
                var text = root.TryGetProperty("message", out var m) && m.TryGetProperty("content", out var c) ? c.GetString() : null;
                var reason = root.TryGetProperty("done_reason", out var r) ? r.GetString() : null;
                TokenUsage? usage = done && root.TryGetProperty("prompt_eval_count", out var p) && root.TryGetProperty("eval_count", out var e)
                    ? new TokenUsage(p.GetInt64(), e.GetInt64())
                    : null;
                return new ProbeLine(text, done, reason, usage, false);
            }
            catch (JsonException)
            {
                return new ProbeLine(null, false, null, null, true);
            }
        }
    }
}
