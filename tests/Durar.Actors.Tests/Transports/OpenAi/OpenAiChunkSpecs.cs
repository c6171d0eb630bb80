using System.Text;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Transports.OpenAi;

namespace Durar.Actors.Tests.Transports.OpenAi;

/// <summary>
/// The OpenAI SSE chunk parser reads each frame in one forward pass (no document per token) and loses nothing: the first
/// choice's plain text stays on the token path; every other choice, reasoning, refusal, logprobs, tool call and unknown
/// field comes out as canonical events, unknown fields verbatim.
/// </summary>
public sealed class OpenAiChunkSpecs
{
    private static OpenAiChunk Parse(string data) => OpenAiChunk.Parse(Encoding.UTF8.GetBytes(data));

    private static string Json(JsonElement? e) => e?.GetRawText() ?? "null";

    [Fact]
    public void Should_keep_the_first_choices_plain_text_on_the_token_path()
    {
        var chunk = Parse("""{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi \"there\" é","refusal":null},"logprobs":null,"finish_reason":null}]}""");
        Assert.Equal("Hi \"there\" é", chunk.Text);
        Assert.Null(chunk.Events);
        Assert.False(chunk.Finishes);
        Assert.Null(chunk.Usage);
        Assert.Null(chunk.Extra);
        Assert.Null(chunk.Error);
        Assert.Null(chunk.Malformed);
    }

    [Fact]
    public void Should_read_every_choice_with_its_index()
    {
        var chunk = Parse("""{"choices":[{"index":0,"delta":{"content":"one"}},{"index":1,"delta":{"content":"two"},"finish_reason":"stop"}]}""");
        Assert.Equal("one", chunk.Text);
        Assert.Equal([new TextDelta("two") { Choice = 1 }, new Finished("stop") { Choice = 1 }], chunk.Events!);
        Assert.True(chunk.Finishes);
    }

    [Fact]
    public void Should_read_tool_call_fragments_with_their_index_id_name_and_arguments()
    {
        var chunk = Parse("""{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":"}},{"index":2,"function":{"arguments":"1}"}}]}}]}""");
        Assert.Equal([new ToolCallDelta(1, "call_1", "lookup", "{\"q\":"), new ToolCallDelta(2, null, null, "1}")], chunk.Events!);
        Assert.Null(chunk.Text);
    }

    [Fact]
    public void Should_read_reasoning_fields_of_compatible_servers_apart_from_the_answer()
    {
        var deepseek = Parse("""{"choices":[{"index":0,"delta":{"reasoning_content":"thinking","content":null}}]}""");
        Assert.Equal([new ReasoningDelta("thinking")], deepseek.Events!);
        Assert.Null(deepseek.Text);
        var openrouter = Parse("""{"choices":[{"index":0,"delta":{"reasoning":"hmm","content":"ok"}}]}""");
        Assert.Equal([new ReasoningDelta("hmm"), new TextDelta("ok")], openrouter.Events!);
    }

    [Fact]
    public void Should_read_a_refusal_and_logprobs_verbatim()
    {
        var chunk = Parse("""{"choices":[{"index":0,"delta":{"refusal":"I can't"},"logprobs":{"refusal":[{"token":"I","logprob":-0.5,"bytes":[73],"top_logprobs":[]}],"content":null}}]}""");
        var refusal = Assert.IsType<RefusalDelta>(Assert.Single(chunk.Events!));
        Assert.Equal("I can't", refusal.Text);
        Assert.Equal("""{"refusal":[{"token":"I","logprob":-0.5,"bytes":[73],"top_logprobs":[]}],"content":null}""", Json(refusal.Logprobs));

        var text = Parse("""{"choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":{"content":[{"token":"Hi","logprob":-1e-05}]}}]}""");
        var delta = Assert.IsType<TextDelta>(Assert.Single(text.Events!));
        Assert.Equal("Hi", delta.Text);
        Assert.Equal("""{"content":[{"token":"Hi","logprob":-1e-05}]}""", Json(delta.Logprobs)); // number formatting kept
    }

    [Fact]
    public void Should_keep_unknown_delta_choice_and_top_level_fields_verbatim()
    {
        var chunk = Parse("""{"x":{"a":[1,{"b":null}],"c":"d"},"choices":[{"native_finish_reason":"STOP","delta":{"role":"assistant","content":"ok","annotations":[{"type":"url_citation"}],"extra":[[]]}}],"system_fingerprint":"fp_1","service_tier":"default","obfuscation":"pad"}""");
        Assert.Equal([new TextDelta("ok"), Assert.IsType<DeltaExtra>(chunk.Events![1])], chunk.Events!);
        var extra = (DeltaExtra)chunk.Events![1];
        Assert.Equal("""{"annotations":[{"type":"url_citation"}],"extra":[[]]}""", Json(extra.Fields));
        Assert.Equal("""{"native_finish_reason":"STOP"}""", Json(extra.ChoiceFields));
        Assert.Equal(("fp_1", "default"), (chunk.SystemFingerprint, chunk.ServiceTier));
        Assert.Equal("""{"x":{"a":[1,{"b":null}],"c":"d"},"obfuscation":"pad"}""", Json(chunk.Extra));
    }

    [Fact]
    public void Should_read_the_finish_reason_and_the_usage_with_its_details_and_the_upstream_object()
    {
        var chunk = Parse("""{"choices":[{"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19,"prompt_tokens_details":{"cached_tokens":5,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":3,"accepted_prediction_tokens":1}}}""");
        Assert.Equal([new Finished("length")], chunk.Events!);
        Assert.True(chunk.Finishes);
        Assert.Equal(new TokenUsage(7, 7, 5) { Reasoning = 3 }, chunk.Usage!.Usage); // prompt_tokens includes the cached ones: the buckets do not overlap
        Assert.Equal("""{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19,"prompt_tokens_details":{"cached_tokens":5,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":3,"accepted_prediction_tokens":1}}""",
            Json(chunk.Usage.Raw));
    }

    [Fact]
    public void Should_read_responses_style_usage_names()
    {
        var chunk = Parse("""{"choices":[],"usage":{"input_tokens":3,"output_tokens":4}}""");
        Assert.Equal(new TokenUsage(3, 4), chunk.Usage!.Usage);
        Assert.Null(chunk.Text);
    }

    [Fact]
    public void Should_mark_a_finish_reason_of_error()
    {
        var chunk = Parse("""{"choices":[{"delta":{},"finish_reason":"error"}]}""");
        Assert.True(chunk.Finishes);
        Assert.True(chunk.FinishedWithError);
    }

    [Theory]
    [InlineData("""{"error":{"message":"Rate limit reached","type":"requests","code":429}}""", 429, "Rate limit reached", "requests", null)]
    [InlineData("""{"choices":[],"error":{"message":"overloaded","type":"server_error","code":"overloaded","param":"model"}}""", null, "overloaded", "server_error", "model")]
    [InlineData("""{"error":"plain text failure"}""", null, "plain text failure", null, null)]
    public void Should_turn_a_mid_stream_error_object_into_a_failure(string data, int? status, string message, string? type, string? param)
    {
        var chunk = Parse(data);
        Assert.NotNull(chunk.Error);
        Assert.Equal(status, chunk.Error!.Status);
        Assert.Equal(message, chunk.Error.Message);
        Assert.Equal(type, chunk.Error.ErrorType);
        Assert.Equal(param, chunk.Error.Param);
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
