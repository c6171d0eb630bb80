using Xunit.Sdk;

namespace Durar.Api.Tests.Gateway.Messages;

/// <summary>The grammar validator itself refuses the streams Anthropic never sends, so a pass of the stream specs means something.</summary>
public sealed class MessageStreamGrammarSpecs
{
    private const string Start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"usage\":{}}}\n\n";
    private const string BlockStart = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
    private const string Delta = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n";
    private const string BlockStop = "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n";
    private const string MessageDelta = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n";
    private const string Stop = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

    [Fact]
    public void Should_accept_a_complete_stream() =>
        Assert.Equal(6, MessageStreamGrammar.AssertComplete(Start + BlockStart + Delta + BlockStop + MessageDelta + Stop).Count);

    [Theory]
    [InlineData(Start + Delta + BlockStart + BlockStop + MessageDelta + Stop)] // a delta before its block starts
    [InlineData(Start + BlockStart + Delta + MessageDelta + Stop)] // a block never stopped
    [InlineData(Start + Start + BlockStart + Delta + BlockStop + MessageDelta + Stop)] // two message_start
    [InlineData(Start + BlockStart + Delta + BlockStop + MessageDelta + Stop + "data: [DONE]\n\n")] // OpenAI's terminator
    [InlineData(Start + BlockStart + Delta + BlockStop + MessageDelta)] // no message_stop
    public void Should_refuse_a_stream_Anthropic_never_sends(string sse) =>
        Assert.ThrowsAny<XunitException>(() => MessageStreamGrammar.AssertComplete(sse));
}
