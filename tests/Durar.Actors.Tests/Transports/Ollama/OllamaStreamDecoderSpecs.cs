using System.Text;
using Durar.Actors.Chat;
using Durar.Actors.Transports.Ollama;

namespace Durar.Actors.Tests.Transports.Ollama;

/// <summary>
/// Ollama's NDJSON lines as neutral events: thinking and content pieces, whole tool calls (an id made up when an older server
/// sends none), the <c>done</c> line's reason and counts as the terminal event, and an error line as a failure.
/// </summary>
public sealed class OllamaStreamDecoderSpecs
{
    private static (List<ChatEvent> Events, Durar.Actors.Transports.FrameVerdict Verdict) Decode(OllamaStreamDecoder decoder, string json)
    {
        var events = new List<ChatEvent>();
        var verdict = decoder.Decode(OllamaLine.Parse(Encoding.UTF8.GetBytes(json)), events);
        return (events, verdict);
    }

    [Fact]
    public void Should_read_thinking_and_content_then_end_on_the_done_line_with_its_counts()
    {
        var decoder = new OllamaStreamDecoder();

        var (first, go) = Decode(decoder, """{"model":"m","message":{"role":"assistant","content":"Hi","thinking":"hmm"},"done":false}""");
        var (last, end) = Decode(decoder, """{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"length","prompt_eval_count":26,"eval_count":298}""");

        Assert.Equal([new ReasoningDelta("hmm"), new TextDelta("Hi")], first);
        Assert.False(go.Completes);
        Assert.Equal([new Finished("length"), new UsageReport(new TokenUsage(26, 298))], last);
        Assert.True(end.Stops);
    }

    [Fact]
    public void Should_send_each_whole_tool_call_with_object_arguments_as_json_text_and_finish_with_tool_calls()
    {
        var decoder = new OllamaStreamDecoder();

        var (calls, _) = Decode(decoder, """{"message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Tokyo"}}},{"id":"call_x","function":{"index":1,"name":"now","arguments":{}}}]},"done":false}""");
        var (done, _) = Decode(decoder, """{"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}""");

        Assert.Equal([new ToolCallDelta(0, "call_0", "get_weather", """{"city":"Tokyo"}"""), new ToolCallDelta(1, "call_x", "now", "{}")], calls);
        Assert.Equal([new Finished("tool_calls")], done);
    }

    [Fact]
    public void Should_fail_on_an_error_line_with_the_status_its_message_stands_for()
    {
        var (events, verdict) = Decode(new OllamaStreamDecoder(), """{"error":"model \"llama9\" not found, try pulling it first"}""");

        Assert.Empty(events);
        Assert.Equal(404, verdict.Failure!.Status);
        Assert.Contains("not found", verdict.Failure.Message, StringComparison.Ordinal);
    }
}
