using System.Text;
using Durar.Actors.Transports;
using Durar.Actors.Transports.OpenAi;
using Durar.Actors.Chat;

namespace Durar.Actors.Tests.Transports.OpenAi;

/// <summary>
/// The OpenAI SSE chunk parser reads each frame in one forward pass (no document per token): every shape the transport
/// relies on must come out as the document-based parser read it.
/// </summary>
public sealed class OpenAiChunkSpecs
{
    private static OpenAiChunk Parse(string data) => OpenAiChunk.Parse(Encoding.UTF8.GetBytes(data));

    [Fact]
    public void Should_read_the_content_delta_of_the_first_choice()
    {
        var chunk = Parse("""{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi \"there\" é"},"finish_reason":null},{"index":1,"delta":{"content":"other"}}]}""");
        Assert.Equal("Hi \"there\" é", chunk.Text);
        Assert.Null(chunk.FinishReason);
        Assert.Null(chunk.ToolCalls);
        Assert.Null(chunk.Usage);
        Assert.Null(chunk.Error);
        Assert.Null(chunk.Malformed);
        Assert.False(chunk.Done);
    }

    [Fact]
    public void Should_read_tool_call_fragments_with_their_index_id_name_and_arguments()
    {
        var chunk = Parse("""{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":"}},{"index":2,"function":{"arguments":"1}"}}]}}]}""");
        Assert.Equal([new ToolCallDelta(1, "call_1", "lookup", "{\"q\":"), new ToolCallDelta(2, null, null, "1}")], chunk.ToolCalls!);
        Assert.Null(chunk.Text);
    }

    [Fact]
    public void Should_read_the_finish_reason_and_the_usage_with_cached_tokens()
    {
        var chunk = Parse("""{"choices":[{"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19,"prompt_tokens_details":{"cached_tokens":5}}}""");
        Assert.Equal("length", chunk.FinishReason);
        Assert.Equal(new TokenUsage(12, 7, 5), chunk.Usage);
    }

    [Fact]
    public void Should_read_responses_style_usage_names()
    {
        var chunk = Parse("""{"choices":[],"usage":{"input_tokens":3,"output_tokens":4}}""");
        Assert.Equal(new TokenUsage(3, 4), chunk.Usage);
        Assert.Null(chunk.Text);
    }

    [Fact]
    public void Should_skip_unknown_and_nested_fields_of_any_shape()
    {
        var chunk = Parse("""{"x":{"a":[1,{"b":null}],"c":"d"},"choices":[{"logprobs":{"content":[{"token":"t"}]},"delta":{"role":"assistant","refusal":null,"content":"ok","extra":[[]]}}],"system_fingerprint":"fp"}""");
        Assert.Equal("ok", chunk.Text);
    }

    [Theory]
    [InlineData("""{"error":{"message":"Rate limit reached","type":"requests","code":429}}""", 429, "Rate limit reached", "requests")]
    [InlineData("""{"choices":[],"error":{"message":"overloaded","type":"server_error","code":"overloaded"}}""", null, "overloaded", "server_error")]
    [InlineData("""{"error":"plain text failure"}""", null, "plain text failure", null)]
    public void Should_turn_a_mid_stream_error_object_into_a_failure(string data, int? status, string message, string? type)
    {
        var chunk = Parse(data);
        Assert.NotNull(chunk.Error);
        Assert.Equal(status, chunk.Error!.Status);
        Assert.Equal(message, chunk.Error.Message);
        Assert.Equal(type, chunk.Error.ErrorType);
        Assert.Null(chunk.Text);
    }

    [Theory]
    [InlineData("[DONE]")]
    [InlineData(" [DONE]\r\n")]
    public void Should_recognize_the_end_marker(string data) => Assert.True(Parse(data).Done);

    [Theory]
    [InlineData("""{"choices":[{"delta":{"content":"cut""")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("""{"choices":[{"delta":{"content":"a"}}]""")]
    public void Should_report_a_malformed_frame_with_a_preview(string data)
    {
        var chunk = Parse(data);
        Assert.NotNull(chunk.Malformed);
        Assert.StartsWith(data.Trim()[..Math.Min(3, data.Trim().Length)], chunk.Malformed);
        Assert.Null(chunk.Text);
    }
}
