using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using Durar.Actors.Chat;
using Durar.Actors.Transports.OpenAi;

namespace Durar.Api.Apis;

/// <summary>
/// Writes chat completions in OpenAI's exact wire shapes: one <c>chat.completion</c> JSON object, or the SSE chunk
/// sequence (the role first, content, reasoning, refusal and tool-call deltas per choice, a chunk with each choice's
/// <c>finish_reason</c>, the usage chunk when asked for, then <c>data: [DONE]</c>). JSON is written straight into the
/// response pipe; nothing is built as a string. An upstream of the same dialect is passed on with minimal edits: its
/// completion object as it answered with only <c>model</c> renamed, and in a stream its <c>system_fingerprint</c>,
/// <c>service_tier</c>, logprobs, usage details and unknown fields verbatim.
/// </summary>
public sealed class ChatCompletionWriter(string id, long created, string model)
{
    // OpenAI writes `\"` and raw non-ASCII; the default encoder would write \u0022 and \uXXXX. Relaxed escaping is safe here:
    // the output is JSON for API clients, never embedded in HTML.
    internal static readonly JsonWriterOptions Options = new() { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Completion ids only need to be unique, not secret: a random per-process prefix and a counter (one string, no syscall
    // per id, unlike Guid.NewGuid). Same length as "chatcmpl-" + a 32-digit GUID.
    private static readonly string IdPrefix = "chatcmpl-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    private static long _idCounter = Random.Shared.NextInt64();

    /// <summary>When this many bytes are waiting in the pipe, they are flushed even if more events are ready.</summary>
    private const int MaxUnflushedBytes = 16 * 1024;

    /// <summary>A completion body is built here first, so it goes out with a Content-Length in one write (see <see cref="WriteCompletionAsync"/>).</summary>
    [ThreadStatic] private static ArrayBufferWriter<byte>? _completionBuffer;

    private const int MaxRetainedCompletionBuffer = 64 * 1024;

    public static string NewId() =>
        string.Create(IdPrefix.Length + 16, Interlocked.Increment(ref _idCounter), static (span, n) =>
        {
            IdPrefix.CopyTo(span);
            n.TryFormat(span[IdPrefix.Length..], out _, "x16", CultureInfo.InvariantCulture);
        });

    /// <summary>
    /// Writes one <c>chat.completion</c> object. The body is built in a per-thread buffer first, so the response carries a
    /// Content-Length and leaves in a single write (a chunked body would take a second send for its terminator). Once it is
    /// written the request's answer is complete (<see cref="Telemetry.RequestFacts.Answered"/>).
    /// </summary>
    public async Task WriteCompletionAsync(HttpResponse response, ChatCompletion completion)
    {
        response.ContentType = "application/json";
        var buffer = _completionBuffer ??= new ArrayBufferWriter<byte>(1024);
        // Filled and copied into the response pipe synchronously: no await in between, so the per-thread buffer is safe.
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            if (completion.Raw is { ValueKind: JsonValueKind.Object } raw) WriteUpstreamCompletion(w, raw);
            else WriteCompletion(w, completion);
        }
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > MaxRetainedCompletionBuffer) _completionBuffer = null; // an unusually large answer: let it go
        else buffer.ResetWrittenCount();
        await response.BodyWriter.FlushAsync();
        Telemetry.RequestFacts.Of(response.HttpContext)?.Answered();
    }

    /// <summary>The upstream's own completion object, every field as it answered, with the gateway's name for the model.</summary>
    private void WriteUpstreamCompletion(Utf8JsonWriter w, JsonElement raw)
    {
        w.WriteStartObject();
        var named = false;
        foreach (var p in raw.EnumerateObject())
        {
            if (p.NameEquals("model"))
            {
                w.WriteString("model", model);
                named = true;
            }
            else p.WriteTo(w);
        }
        if (!named) w.WriteString("model", model);
        w.WriteEndObject();
    }

    private void WriteCompletion(Utf8JsonWriter w, ChatCompletion completion)
    {
        w.WriteStartObject();
        WriteHeader(w, "chat.completion");
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        OpenAiWire.WriteTextContent(w, completion.Text, completion.ToolCalls);
        // refusal and logprobs are null when there are none, as in OpenAI's own answers.
        if (completion.Refusal is not null) w.WriteString("refusal", completion.Refusal);
        else w.WriteNull("refusal");
        if (completion.Reasoning is not null) w.WriteString("reasoning_content", completion.Reasoning);
        OpenAiWire.WriteToolCalls(w, completion.ToolCalls);
        w.WriteEndObject();
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", completion.FinishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        WriteUsage(w, completion.Usage ?? TokenUsage.Zero, null);
        w.WriteEndObject();
    }

    /// <summary>
    /// Streams <paramref name="events"/> as SSE into <paramref name="response"/>'s body. Returns normally at the end, once
    /// <c>data: [DONE]</c> is written (the request's answer is then complete: <see cref="Telemetry.RequestFacts.Answered"/>);
    /// mid-stream upstream failures propagate.
    /// Frames are written to the pipe as events arrive and flushed whenever the next event is not ready yet (or
    /// <see cref="MaxUnflushedBytes"/> are waiting): a token is never held back while the upstream is quiet, and frames that
    /// arrive together (the first content with the role, the finish, usage and <c>[DONE]</c>) leave in one write. The flush
    /// also applies the client's back-pressure to the upstream reads.
    /// </summary>
    /// <param name="includeUsage">
    /// The client asked for usage (<c>stream_options.include_usage</c>): every chunk carries <c>"usage": null</c> and a last
    /// chunk the usage, as OpenAI's do; otherwise neither (the gateway asks the upstream for usage either way).
    /// </param>
    /// <param name="flushAtEnd">
    /// false when the caller returns right after: the closing frames then go out with the server's end of the response
    /// (the chunked terminator) in one write instead of two.
    /// </param>
    /// <returns>The usage the upstream reported, if any.</returns>
    public async Task<TokenUsage?> WriteStreamAsync(HttpResponse response, IAsyncEnumerable<ChatEvent> events, bool includeUsage, CancellationToken ct,
        bool flushAtEnd = true)
    {
        var pipe = response.BodyWriter;
        using var chunks = new ChunkWriter(pipe, id, created, model, includeUsage);
        UsageReport? usage = null;
        StreamContinued? continued = null;
        var finished = false;
        var unflushed = 0L;
        var e = events.GetAsyncEnumerator(ct);
        var next = default(ValueTask<bool>);
        var pending = false;
        try
        {
            while (true)
            {
                next = e.MoveNextAsync();
                if (!next.IsCompleted || unflushed >= MaxUnflushedBytes)
                {
                    // Nothing more is ready: what is written goes to the client now, while the upstream is awaited.
                    pending = true;
                    await pipe.FlushAsync(ct).ConfigureAwait(false);
                    pending = false;
                    unflushed = 0;
                }
                if (!await next.ConfigureAwait(false)) break;
                switch (e.Current)
                {
                    case UsageReport u:
                        usage = u;
                        break;
                    case StreamContinued c:
                        continued = c;
                        break;
                    case Finished f:
                        finished = true;
                        unflushed += chunks.Write(f);
                        break;
                    default:
                        unflushed += chunks.Write(e.Current);
                        break;
                }
            }
        }
        finally
        {
            // A failed flush (the client went away) leaves a read in flight: an async stream cannot be disposed under it.
            if (pending) await Settle(next).ConfigureAwait(false);
            await e.DisposeAsync().ConfigureAwait(false);
        }
        // A cancelled Akka stream (RunAsAsyncEnumerable) just ends: a stream cut that way must not look finished.
        ct.ThrowIfCancellationRequested();
        if (!finished) chunks.Write(new Finished("stop"));
        // The last chunk notes a continuation (x-durar-continued): the usage chunk when the client asked for usage, else its own.
        if (includeUsage) chunks.WriteUsage(usage, continued);
        else if (continued is not null) chunks.WriteContinued(continued);
        pipe.Write("data: [DONE]\n\n"u8);
        if (flushAtEnd) await pipe.FlushAsync(ct).ConfigureAwait(false);
        Telemetry.RequestFacts.Of(response.HttpContext)?.Answered();
        return usage?.Usage;
    }

    private static async ValueTask Settle(ValueTask<bool> next)
    {
        try
        {
            await next.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The read's own outcome does not matter any more: the flush's failure is what propagates.
        }
    }

    /// <summary>
    /// The one contract for a stream that cannot finish (an upstream break after output, the run timeout, a lost session, a
    /// draining node): an error frame <c>data: {"error":{...}}</c>, the shape of an OpenAI error, and then the stream ends
    /// without <c>[DONE]</c>. The official SDKs (openai-python, openai-node, the AI SDK's OpenAI provider) raise an error on
    /// that frame, and a reader of the raw stream never mistakes it for a complete answer: only a complete answer ends
    /// with <c>[DONE]</c>.
    /// </summary>
    public static async Task WriteStreamErrorAsync(PipeWriter pipe, ApiError error, CancellationToken ct)
    {
        pipe.Write("data: "u8);
        using (var w = new Utf8JsonWriter(pipe, Options)) error.Write(w);
        pipe.Write("\n\n"u8);
        await pipe.FlushAsync(ct);
    }

    private void WriteHeader(Utf8JsonWriter w, string objectType)
    {
        w.WriteString("id", id);
        w.WriteString("object", objectType);
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        if (RunId is not null) w.WriteString("runId", RunId);
    }

    /// <summary>The session run this answer belongs to, written as <c>runId</c> beside <c>id</c> in a completion object (null: none; a stream names it in <c>x-durar-run-id</c>).</summary>
    public string? RunId { get; init; }

    /// <summary>The usage object: the upstream's own (every detail field) when it sent one, else the normalized buckets.</summary>
    internal static void WriteUsage(Utf8JsonWriter w, TokenUsage usage, JsonElement? raw)
    {
        w.WritePropertyName("usage");
        if (raw is { ValueKind: JsonValueKind.Object } upstream)
        {
            upstream.WriteTo(w);
            return;
        }
        w.WriteStartObject();
        w.WriteNumber("prompt_tokens", usage.Prompt);
        w.WriteNumber("completion_tokens", usage.Output);
        w.WriteNumber("total_tokens", usage.Prompt + usage.Output);
        if (usage.CacheRead > 0 || usage.CacheWrite > 0)
        {
            w.WriteStartObject("prompt_tokens_details");
            w.WriteNumber("cached_tokens", usage.CacheRead);
            if (usage.CacheWrite > 0) w.WriteNumber("cache_creation_tokens", usage.CacheWrite);
            w.WriteEndObject();
        }
        if (usage.Reasoning > 0)
        {
            w.WriteStartObject("completion_tokens_details");
            w.WriteNumber("reasoning_tokens", usage.Reasoning);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }
}
