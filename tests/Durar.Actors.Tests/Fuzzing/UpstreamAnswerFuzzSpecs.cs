using System.Text;
using Durar.Actors.Configuration;
using Durar.Actors.Transports;
using Durar.Actors.Tests.Transports;
using Durar.Testing;
using Durar.Testing.Fuzz;
using Piece = Durar.Testing.RawUpstream.Piece;

namespace Durar.Actors.Tests.Fuzzing;

/// <summary>
/// What a provider sends back, broken in every way <see cref="JsonMutator"/> knows, read by the real transports over real
/// HTTP (framing, decoder, whole-answer parser, error-body reader, body guard): every call either completes or fails with
/// an <see cref="UpstreamException"/> (a classified failure the run fails over from), never any other exception, and
/// within a bound. Streams, whole answers and error answers, on the OpenAI, Anthropic, Gemini (SSE) and Ollama (NDJSON)
/// wires; the recorded answers themselves are read whole (so a transport that failed everything could not pass).
/// </summary>
public sealed class UpstreamAnswerFuzzSpecs : IAsyncLifetime
{
    private const int FixedCases = 400, RandomCases = 200;

    private static readonly string[] OpenAiFrames =
    [
        """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}""",
        """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"reasoning_content":"think"},"logprobs":{"content":[{"token":"a","logprob":-0.1,"top_logprobs":[]}]},"finish_reason":null}]}""",
        """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]},"finish_reason":null}]}""",
        """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
        """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":1}}}""",
    ];

    private static readonly (string Event, string Data)[] AnthropicFrames =
    [
        ("message_start", """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1,"cache_read_input_tokens":0}}}"""),
        ("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"""),
        ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"""),
        ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}"""),
        ("content_block_stop", """{"type":"content_block_stop","index":0}"""),
        ("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}"""),
        ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}}"""),
        ("content_block_stop", """{"type":"content_block_stop","index":1}"""),
        ("message_delta", """{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":7}}"""),
        ("message_stop", """{"type":"message_stop"}"""),
    ];

    private static readonly string[] GeminiFrames =
    [
        """{"candidates":[{"content":{"parts":[{"text":"think","thought":true}],"role":"model"},"index":0}],"modelVersion":"m"}""",
        """{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],"modelVersion":"m"}""",
        """{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":1}}}],"role":"model"},"index":0}],"modelVersion":"m"}""",
        """{"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5,"cachedContentTokenCount":1},"modelVersion":"m"}""",
    ];

    private static readonly string[] OllamaLines =
    [
        """{"model":"m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"","thinking":"hmm"},"done":false}""",
        """{"model":"m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"Hel"},"done":false}""",
        """{"model":"m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},"done":false}""",
        """{"model":"m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":2}""",
    ];

    private const string GeminiWhole = """
        {"candidates":[{"content":{"parts":[{"text":"t","thought":true},{"text":"hi"},{"functionCall":{"name":"f","args":{"a":1}}}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":2,"totalTokenCount":3}}
        """;

    private const string OllamaWhole = """
        {"model":"m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"hi","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},"done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":2}
        """;

    private const string OpenAiWhole = """
        {"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}
        """;

    private const string AnthropicWhole = """
        {"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text","text":"hi"},{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}}
        """;

    private const string ErrorBody = """
        {"error":{"message":"Rate limit reached","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"},"type":"error"}
        """;

    private static readonly int[] ErrorStatuses = [400, 401, 403, 404, 408, 413, 422, 429, 500, 502, 503, 529];

    private IReadOnlyList<Piece> _script = [];
    private RawUpstream _raw = null!;
    private UpstreamHarness _h = null!;

    public async Task InitializeAsync()
    {
        _raw = RawUpstream.Start(() => _script);
        _h = await UpstreamHarness.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        await _raw.DisposeAsync();
    }

    [Theory]
    [InlineData(ApiKinds.OpenAiCompletions)]
    [InlineData(ApiKinds.AnthropicMessages)]
    [InlineData(ApiKinds.GoogleGenerativeAi)]
    [InlineData(ApiKinds.Ollama)]
    public Task Should_end_every_mutated_stream_complete_or_with_a_classified_failure(string api) =>
        FuzzCases.RunAsync(FixedCases, RandomCases, i => StreamAsync(api, StreamBody(api, i)), i => StreamBody(api, i));

    [Theory]
    [InlineData(ApiKinds.OpenAiCompletions)]
    [InlineData(ApiKinds.AnthropicMessages)]
    [InlineData(ApiKinds.GoogleGenerativeAi)]
    [InlineData(ApiKinds.Ollama)]
    public Task Should_read_every_mutated_whole_answer_or_fail_it_classified(string api) =>
        FuzzCases.RunAsync(FixedCases, RandomCases, i => CompleteAsync(api, 200, WholeBody(api, i)), i => WholeBody(api, i));

    [Theory]
    [InlineData(ApiKinds.OpenAiCompletions)]
    [InlineData(ApiKinds.AnthropicMessages)]
    [InlineData(ApiKinds.GoogleGenerativeAi)]
    [InlineData(ApiKinds.Ollama)]
    public Task Should_classify_every_mutated_error_answer(string api) =>
        FuzzCases.RunAsync(FixedCases, RandomCases, async i =>
        {
            var failure = await CompleteAsync(api, ErrorStatuses[i % ErrorStatuses.Length], JsonMutator.MutateText(ErrorBody, i));
            Assert.NotNull(failure); // an error status is never an answer
        }, i => JsonMutator.MutateText(ErrorBody, i));

    [Theory]
    [InlineData(ApiKinds.OpenAiCompletions)]
    [InlineData(ApiKinds.AnthropicMessages)]
    [InlineData(ApiKinds.GoogleGenerativeAi)]
    [InlineData(ApiKinds.Ollama)]
    public async Task Should_read_the_recorded_answers_whole(string api)
    {
        _script = [RawUpstream.Head(200, ("Content-Type", StreamType(api))), Piece.Text(StreamBody(api, -1))];
        var (events, failure) = await UpstreamHarness.DrainAsync(_h.Transport(api).StreamAsync(Call(api, stream: true), CancellationToken.None));
        Assert.Null(failure);
        Assert.Contains(events, e => e is Durar.Actors.Chat.TextDelta or Durar.Actors.Chat.ReasoningDelta);
        Assert.Null(await CompleteAsync(api, 200, WholeBody(api, -1)));
    }

    private static string StreamType(string api) => api == ApiKinds.Ollama ? "application/x-ndjson" : "text/event-stream";

    /// <summary>Case <paramref name="i"/>'s stream; case -1 is the recorded one, unmutated.</summary>
    private static string StreamBody(string api, int i)
    {
        var random = new Random(i);
        var sse = new StringBuilder();
        if (api is ApiKinds.GoogleGenerativeAi or ApiKinds.Ollama)
        {
            var ndjson = api == ApiKinds.Ollama;
            var frames = ndjson ? OllamaLines : GeminiFrames;
            for (var k = 0; k < frames.Length; k++)
            {
                var frame = i < 0 ? frames[k] : Maybe(frames[k], i, k, random);
                sse.Append(ndjson ? "" : "data: ").Append(frame).Append(ndjson ? "\n" : "\n\n");
            }
        }
        else if (api == ApiKinds.OpenAiCompletions)
        {
            for (var k = 0; k < OpenAiFrames.Length; k++)
                sse.Append("data: ").Append(i < 0 ? OpenAiFrames[k] : Maybe(OpenAiFrames[k], i, k, random)).Append("\n\n");
            if (i < 0 || random.Next(4) != 0) sse.Append("data: [DONE]\n\n");
        }
        else
        {
            for (var k = 0; k < AnthropicFrames.Length; k++)
            {
                var (name, data) = AnthropicFrames[k];
                sse.Append("event: ").Append(i >= 0 && random.Next(25) == 0 ? "mystery" : name).Append('\n')
                    .Append("data: ").Append(i < 0 ? data : Maybe(data, i, k, random)).Append("\n\n");
            }
        }
        var text = sse.ToString();
        if (i < 0) return text;
        return random.Next(6) == 0 ? text[..random.Next(text.Length)] : text; // sometimes cut anywhere
    }

    /// <summary>A frame's data: as recorded, or mutated (one line: SSE data cannot hold a raw newline).</summary>
    private static string Maybe(string frame, int i, int k, Random random) =>
        random.Next(3) == 0 ? JsonMutator.MutateText(frame, i * 31 + k).Replace('\n', ' ').Replace('\r', ' ') : frame;

    private static string WholeBody(string api, int i)
    {
        var whole = api switch
        {
            ApiKinds.OpenAiCompletions => OpenAiWhole,
            ApiKinds.GoogleGenerativeAi => GeminiWhole,
            ApiKinds.Ollama => OllamaWhole,
            _ => AnthropicWhole,
        };
        return i < 0 ? whole : JsonMutator.MutateText(whole, i);
    }

    private async Task StreamAsync(string api, string body)
    {
        _script = [RawUpstream.Head(200, ("Content-Type", StreamType(api))), Piece.Text(body)];
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (_, failure) = await UpstreamHarness.DrainAsync(_h.Transport(api).StreamAsync(Call(api, stream: true), bound.Token));
        Assert.False(bound.IsCancellationRequested, "the stream did not end within 30 s (a hang)");
        if (failure is not null) Assert.IsType<UpstreamException>(failure);
    }

    private async Task<UpstreamException?> CompleteAsync(string api, int status, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        _script = [RawUpstream.Head(status, ("Content-Type", "application/json"), ("Content-Length", bytes.Length.ToString())), new Piece(bytes)];
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var failure = await Record.ExceptionAsync(() => _h.Transport(api).CompleteAsync(Call(api, stream: false), bound.Token));
        Assert.False(bound.IsCancellationRequested, "the answer was not read within 30 s (a hang)");
        return failure is null ? null : Assert.IsType<UpstreamException>(failure);
    }

    private UpstreamCall Call(string api, bool stream) => _h.Call(api, stream, baseUrl: _raw.BaseUrl);
}
