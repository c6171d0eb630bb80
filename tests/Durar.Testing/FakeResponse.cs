namespace Durar.Testing;

/// <summary>
/// One scripted answer of the <see cref="FakeProvider"/> to one upstream request (chat, or embeddings: statuses, errors,
/// latency, headers and raw bodies apply to both).
/// </summary>
/// <remarks>
/// It exists so integration tests can make the upstream misbehave in precisely the ways real
/// LLM providers do (rate limits, overload, slow first byte, streams that stall, break or carry
/// garbage) without touching the network. A response is wire-agnostic: the same script renders as an
/// OpenAI chat completion or as an Anthropic message depending on the endpoint the request hits,
/// so one script can drive a fail-over from one provider to another.
/// Chunk counts used by the streaming faults (<see cref="CutAfterChunks"/>, <see cref="StallAfterChunks"/>,
/// <see cref="ErrorEventAfterChunks"/>) count <em>content</em> chunks only (text pieces or tool-argument
/// fragments); a threshold at or beyond the number of pieces fires after the last piece, before the
/// stream's finish frames.
/// </remarks>
public sealed record FakeResponse
{
    /// <summary>HTTP status code. Anything &gt;= 400 produces the provider's error JSON (unless <see cref="RawBody"/> is set).</summary>
    public int Status { get; init; } = 200;

    /// <summary>
    /// Status used instead of <see cref="Status"/> when the request arrived on the Anthropic wire
    /// (null: use <see cref="Status"/>). Lets one response model provider-specific statuses such as
    /// overload: OpenAI 503 versus Anthropic 529 (see <see cref="Overloaded"/>).
    /// </summary>
    public int? AnthropicStatus { get; init; }

    /// <summary>Reply text; null means the default echo <c>"Hello from fake: " + last user message text</c>.</summary>
    public string? Text { get; init; }

    /// <summary>
    /// Split the reply (text, or tool-call arguments) into this many roughly equal pieces for streaming;
    /// null splits on spaces, keeping each space with the word that follows it.
    /// </summary>
    public int? Chunks { get; init; }

    /// <summary>Delay before the response headers are sent.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>
    /// When set, the response waits for this task (after <see cref="Latency"/>, before the headers), or until the client
    /// goes away: the request stays in flight exactly as long as the test wants, with no timing guess.
    /// </summary>
    public Task? HeldUntil { get; init; }

    /// <summary>Delay between streamed content chunks (and before the finish frames).</summary>
    public TimeSpan ChunkDelay { get; init; }

    /// <summary>Value of the <c>Retry-After</c> response header (delta seconds such as "7", or an HTTP date).</summary>
    public string? RetryAfter { get; init; }

    /// <summary>Extra response headers (x-ratelimit-*, retry-after-ms, ...); they override generated ones.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Message of the provider error JSON (for error statuses and mid-stream error events).</summary>
    public string? ErrorMessage { get; init; }

    /// <summary>OpenAI <c>error.type</c> / Anthropic <c>error.type</c>; null picks the provider's usual type for the status.</summary>
    public string? ErrorType { get; init; }

    /// <summary>OpenAI <c>error.code</c>; null picks the usual code for the status (401, 404 and 429 have one).</summary>
    public string? ErrorCode { get; init; }

    /// <summary>When set, sent verbatim as the body with the status; overrides all JSON/SSE generation.</summary>
    public string? RawBody { get; init; }

    /// <summary>Streaming: abort the TCP connection after this many content chunks, without any terminator.</summary>
    public int? CutAfterChunks { get; init; }

    /// <summary>Streaming: after this many content chunks, send nothing more until the client goes away (or the provider is disposed).</summary>
    public int? StallAfterChunks { get; init; }

    /// <summary>Streaming: the content chunk with this 1-based number is replaced by a frame whose data is <c>{not json</c>; the stream then goes on.</summary>
    public int? MalformedAtChunk { get; init; }

    /// <summary>Streaming: after this many content chunks send the provider's mid-stream error event and end the response.</summary>
    public int? ErrorEventAfterChunks { get; init; }

    /// <summary>Reply with this tool call instead of text.</summary>
    public FakeToolCall? ToolCall { get; init; }

    /// <summary>
    /// Overrides the finish reason. OpenAI and Anthropic names are translated to the wire's own vocabulary
    /// (stop/end_turn, length/max_tokens, tool_calls/tool_use); anything else is sent verbatim.
    /// </summary>
    public string? FinishReason { get; init; }

    /// <summary>Reported prompt/input tokens; null counts the whitespace-separated words of all messages (at least 1).</summary>
    public int? PromptTokens { get; init; }

    /// <summary>Reported completion/output tokens; null uses the number of streamed pieces.</summary>
    public int? CompletionTokens { get; init; }

    /// <summary>Leave usage out of responses and streams (even when the request asks for it).</summary>
    public bool OmitUsage { get; init; }

    /// <summary>
    /// Embeddings: answer every vector in this encoding (<c>"float"</c> or <c>"base64"</c>) whatever the request's
    /// <c>encoding_format</c> says, as servers that ignore it do; null follows the request (float when it sets none).
    /// </summary>
    public string? EmbeddingEncoding { get; init; }

    /// <summary>Embeddings: the vector length when the request sets no <c>dimensions</c>; null = <see cref="FakeEmbeddings.DefaultDimensions"/>.</summary>
    public int? EmbeddingDimensions { get; init; }

    /// <summary>
    /// A thinking block before the answer, with this text (streamed as <c>thinking_delta</c> pieces, split on spaces) and
    /// <see cref="ReasoningSignature"/> (a <c>signature_delta</c> just before the block ends); on the OpenAI wire, the
    /// message's <c>reasoning_content</c> (streamed in pieces before the answer, no signature).
    /// </summary>
    public string? Reasoning { get; init; }

    /// <summary>Anthropic wire only: the thinking block's signature (default <c>sig-fake</c> when <see cref="Reasoning"/> is set).</summary>
    public string? ReasoningSignature { get; init; }

    /// <summary>Anthropic wire only: a <c>redacted_thinking</c> block with this opaque data, after the thinking block.</summary>
    public string? RedactedReasoning { get; init; }

    /// <summary>
    /// Anthropic wire only: the answer ended on this stop sequence (<c>stop_sequence</c> set, with
    /// <see cref="FinishReason"/> <c>stop_sequence</c>); null = none.
    /// </summary>
    public string? StopSequence { get; init; }

    /// <summary>Anthropic wire only: <c>cache_read_input_tokens</c> (default 0).</summary>
    public int? CacheReadTokens { get; init; }

    /// <summary>Anthropic wire only: <c>cache_creation_input_tokens</c> (default 0).</summary>
    public int? CacheWriteTokens { get; init; }

    /// <summary>A 200 reply with the given text.</summary>
    public static FakeResponse Ok(string text) => new() { Text = text };

    /// <summary>A 429 with the provider's rate-limit error and an optional <c>Retry-After</c> header.</summary>
    public static FakeResponse RateLimited(string? retryAfter = null, string? message = null) =>
        new() { Status = 429, RetryAfter = retryAfter, ErrorMessage = message };

    /// <summary>An error status with the provider's error JSON.</summary>
    public static FakeResponse Error(int status, string? message = null, string? type = null, string? code = null) =>
        new() { Status = status, ErrorMessage = message, ErrorType = type, ErrorCode = code };

    /// <summary>Provider overload: OpenAI 503 <c>server_error</c>, Anthropic 529 <c>overloaded_error</c>.</summary>
    public static FakeResponse Overloaded(string? message = null) =>
        new() { Status = 503, AnthropicStatus = 529, ErrorMessage = message };
}

/// <summary>
/// A tool (function) call the <see cref="FakeProvider"/> answers with, so tests can check that tool calls
/// survive translation and streaming. <paramref name="ArgumentsJson"/> is sent as-is (it may be invalid JSON on
/// purpose). On the Anthropic wire an id starting with <c>call_</c> is sent with the prefix <c>toolu_</c> instead.
/// </summary>
public sealed record FakeToolCall(string Name, string ArgumentsJson, string Id = "call_fake_1");
