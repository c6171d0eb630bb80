using System.Text;
using Amazon.Runtime.EventStreams;
using Durar.Actors.Transports;

namespace Durar.Actors.Tests.Transports;

/// <summary>
/// The AWS event-stream framing over the SDK's decoder: frames split across reads of any size come out whole and in order
/// (the SDK decoder's <c>length</c> argument is an end index, so every read must reach it from offset 0), and a frame whose
/// checksum is wrong ends the stream with one malformed frame after the good ones.
/// </summary>
public sealed class AwsEventStreamFramingSpecs
{
    private static readonly AwsEventStreamFraming<string> Framing = new(
        m => m.Headers[":event-type"].AsString() + "=" + Encoding.UTF8.GetString(m.Payload), why => "MALFORMED " + why);

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(13)]
    [InlineData(4096)]
    public async Task Should_read_frames_split_across_reads_whole_and_in_order(int readSize)
    {
        var bytes = Frame("messageStart", "{\"role\":\"assistant\"}").Concat(Frame("contentBlockDelta", "{\"delta\":{\"text\":\"hi\"}}"))
            .Concat(Frame("messageStop", "{\"stopReason\":\"end_turn\"}")).ToArray();

        var frames = await ReadAllAsync(new TrickleStream(bytes, readSize));

        Assert.Equal(["messageStart={\"role\":\"assistant\"}", "contentBlockDelta={\"delta\":{\"text\":\"hi\"}}", "messageStop={\"stopReason\":\"end_turn\"}"], frames);
    }

    [Fact]
    public async Task Should_end_with_one_malformed_frame_after_the_good_ones_when_a_checksum_fails()
    {
        var bad = Frame("contentBlockDelta", "{\"delta\":{\"text\":\"x\"}}");
        bad[^1] ^= 0xFF;
        var bytes = Frame("messageStart", "{}").Concat(bad).Concat(Frame("messageStop", "{}")).ToArray();

        var frames = await ReadAllAsync(new TrickleStream(bytes, 7));

        Assert.Equal(2, frames.Count);
        Assert.Equal("messageStart={}", frames[0]);
        Assert.StartsWith("MALFORMED ", frames[1]);
    }

    private static async Task<List<string>> ReadAllAsync(Stream body)
    {
        var frames = new List<string>();
        await using var e = Framing.Open(body, CancellationToken.None);
        while (await e.MoveNextAsync()) frames.Add(e.Current);
        return frames;
    }

    private static byte[] Frame(string type, string json)
    {
        var header = new EventStreamHeader(":event-type");
        header.SetString(type);
        return new EventStreamMessage([header], Encoding.UTF8.GetBytes(json)).ToByteArray();
    }

    /// <summary>A body that hands out at most <c>readSize</c> bytes per read, as a network does.</summary>
    private sealed class TrickleStream(byte[] bytes, int readSize) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, readSize)], cancellationToken);
    }
}
