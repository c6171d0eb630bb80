using System.Text;
using Durar.Actors.Chat;
using Durar.Actors.Transports;
using Durar.Actors.Transports.OpenAiResponses;

namespace Durar.Actors.Tests.Transports.OpenAiResponses;

/// <summary>
/// Responses API events as neutral events: text, reasoning summary and refusal deltas; function calls announced by an
/// output item and filled by argument deltas (or sent whole when a server streams no deltas); <c>response.incomplete</c>
/// as a cut answer; <c>response.failed</c> and <c>error</c> as failures with the status their code stands for.
/// </summary>
public sealed class ResponsesStreamDecoderSpecs
{
    private static List<ChatEvent> Run(ResponsesStreamDecoder decoder, params string[] frames)
    {
        var events = new List<ChatEvent>();
        foreach (var frame in frames) decoder.Decode(ResponsesEvent.Parse(Encoding.UTF8.GetBytes(frame)), events);
        return events;
    }

    [Fact]
    public void Should_read_text_reasoning_and_refusal_deltas_and_end_with_the_usage_of_response_completed()
    {
        var events = Run(new ResponsesStreamDecoder(),
            """{"type":"response.reasoning_summary_text.delta","output_index":0,"delta":"plan"}""",
            """{"type":"response.output_text.delta","output_index":1,"content_index":0,"delta":"Hi"}""",
            """{"type":"response.refusal.delta","output_index":1,"delta":"no"}""",
            """{"type":"response.completed","response":{"status":"completed","usage":{"input_tokens":50,"input_tokens_details":{"cached_tokens":40},"output_tokens":9,"output_tokens_details":{"reasoning_tokens":4},"total_tokens":59}}}""");

        Assert.Equal<ChatEvent>([new ReasoningDelta("plan"), new TextDelta("Hi"), new RefusalDelta("no"), new Finished("stop"),
            new UsageReport(new TokenUsage(10, 9, 40) { Reasoning = 4 })], events);
    }

    [Fact]
    public void Should_assemble_function_calls_by_output_index_and_send_unstreamed_arguments_whole()
    {
        var events = Run(new ResponsesStreamDecoder(),
            """{"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_a","name":"f","arguments":""}}""",
            """{"type":"response.function_call_arguments.delta","output_index":0,"delta":"{\"x\":"}""",
            """{"type":"response.function_call_arguments.delta","output_index":0,"delta":"1}"}""",
            """{"type":"response.output_item.done","output_index":1,"item":{"type":"function_call","id":"fc_2","call_id":"call_b","name":"g","arguments":"{}"}}""",
            """{"type":"response.completed","response":{"status":"completed"}}""");

        Assert.Equal<ChatEvent>([new ToolCallDelta(0, "call_a", "f", ""), new ToolCallDelta(0, null, null, "{\"x\":"), new ToolCallDelta(0, null, null, "1}"),
            new ToolCallDelta(1, "call_b", "g", "{}"), new Finished("tool_calls")], events);
    }

    [Fact]
    public void Should_finish_an_incomplete_response_as_cut_at_its_length()
    {
        var events = Run(new ResponsesStreamDecoder(),
            """{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}}""");

        Assert.Equal<ChatEvent>([new Finished("length")], events);
    }

    [Theory]
    [InlineData("""{"type":"response.failed","response":{"status":"failed","error":{"code":"rate_limit_exceeded","message":"slow down"}}}""", 429, "slow down")]
    [InlineData("""{"type":"error","code":"server_error","message":"boom","param":null,"sequence_number":3}""", 500, "boom")]
    public void Should_fail_with_the_status_the_error_code_stands_for(string frame, int status, string message)
    {
        var verdict = new ResponsesStreamDecoder().Decode(ResponsesEvent.Parse(Encoding.UTF8.GetBytes(frame)), []);

        Assert.Equal((status, message), (verdict.Failure!.Status, verdict.Failure.Message));
    }
}
