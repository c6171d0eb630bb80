using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using Durar.Actors.Transports;
using Durar.Actors.Transports.OpenAi;
using Durar.Actors.Chat;

namespace Durar.Api.Apis;

/// <summary>
/// Writes chat completions in OpenAI's exact wire shapes: one <c>chat.completion</c> JSON object, or the SSE chunk
/// sequence (role delta first, content and tool-call deltas, a final chunk with <c>finish_reason</c>, the usage chunk when
/// asked for, then <c>data: [DONE]</c>). JSON is written straight into the response pipe; nothing is built as a string.
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
    /// Content-Length and leaves in a single write (a chunked body would take a second send for its terminator).
    /// </summary>
    public async Task WriteCompletionAsync(HttpResponse response, ChatCompletion completion)
    {
        response.ContentType = "application/json";
        var buffer = _completionBuffer ??= new ArrayBufferWriter<byte>(1024);
        // Filled and copied into the response pipe synchronously: no await in between, so the per-thread buffer is safe.
        using (var w = new Utf8JsonWriter(buffer, Options))
            WriteCompletion(w, completion);
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > MaxRetainedCompletionBuffer) _completionBuffer = null; // an unusually large answer: let it go
        else buffer.ResetWrittenCount();
        await response.BodyWriter.FlushAsync();
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
        OpenAiWire.WriteToolCalls(w, completion.ToolCalls);
        w.WriteEndObject();
        w.WriteString("finish_reason", completion.FinishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        WriteUsage(w, completion.Usage ?? TokenUsage.Zero);
        w.WriteEndObject();
    }

    /// <summary>
    /// Streams <paramref name="events"/> as SSE. Returns normally at the end; mid-stream upstream failures propagate.
    /// Frames are written to the pipe as events arrive and flushed whenever the next event is not ready yet (or
    /// <see cref="MaxUnflushedBytes"/> are waiting): a token is never held back while the upstream is quiet, and frames that
    /// arrive together (the first content with the role frame, the finish, usage and <c>[DONE]</c>) leave in one write.
    /// The flush also applies the client's back-pressure to the upstream reads.
    /// </summary>
    /// <param name="flushAtEnd">
    /// false when the caller returns right after: the closing frames then go out with the server's end of the response
    /// (the chunked terminator) in one write instead of two.
    /// </param>
    /// <returns>The usage the upstream reported, if any.</returns>
    public async Task<TokenUsage?> WriteStreamAsync(PipeWriter pipe, IAsyncEnumerable<ChatEvent> events, bool includeUsage, CancellationToken ct,
        bool flushAtEnd = true)
    {
        using var w = new Utf8JsonWriter(pipe, Options);
        long unflushed = WriteChunk(pipe, w, static (w, _) =>
        {
            w.WriteStartObject("delta");
            w.WriteString("role", "assistant");
            w.WriteString("content", "");
            w.WriteEndObject();
            w.WriteNull("finish_reason");
        }, (object?)null);

        TokenUsage? usage = null;
        var finished = false;
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
                    case TextDelta text:
                        unflushed += WriteContentChunk(pipe, w, text.Text);
                        break;
                    case ToolCallDelta tool:
                        unflushed += WriteChunk(pipe, w, static (w, t) =>
                        {
                            w.WriteStartObject("delta");
                            w.WriteStartArray("tool_calls");
                            w.WriteStartObject();
                            w.WriteNumber("index", t.Index);
                            if (t.Id is not null) w.WriteString("id", t.Id);
                            if (t.Id is not null || t.Name is not null) w.WriteString("type", "function");
                            w.WriteStartObject("function");
                            if (t.Name is not null) w.WriteString("name", t.Name);
                            w.WriteString("arguments", t.Arguments ?? "");
                            w.WriteEndObject();
                            w.WriteEndObject();
                            w.WriteEndArray();
                            w.WriteEndObject();
                            w.WriteNull("finish_reason");
                        }, tool);
                        break;
                    case Finished done when !finished:
                        finished = true;
                        WriteFinish(pipe, w, done.Reason);
                        break;
                    case UsageReport u:
                        usage = u.Usage;
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
        if (!finished) WriteFinish(pipe, w, "stop");
        if (includeUsage)
            WriteChunk(pipe, w, static (w, u) =>
            {
                w.WriteStartArray("choices");
                w.WriteEndArray();
                WriteUsage(w, u);
            }, usage ?? TokenUsage.Zero, choicesWritten: true);
        pipe.Write("data: [DONE]\n\n"u8);
        if (flushAtEnd) await pipe.FlushAsync(ct).ConfigureAwait(false);
        return usage;
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

    /// <summary>After output started, an upstream failure is reported in-band as an error frame and the stream ends.</summary>
    public static async Task WriteStreamErrorAsync(PipeWriter pipe, ApiError error, CancellationToken ct)
    {
        pipe.Write("data: "u8);
        using (var w = new Utf8JsonWriter(pipe, Options)) error.Write(w);
        pipe.Write("\n\n"u8);
        await pipe.FlushAsync(ct);
    }

    private void WriteFinish(PipeWriter pipe, Utf8JsonWriter w, string reason) =>
        WriteChunk(pipe, w, static (w, r) =>
        {
            w.WriteStartObject("delta");
            w.WriteEndObject();
            w.WriteString("finish_reason", r);
        }, reason);

    /// <summary>Writes one <c>data: {chunk}</c> frame into the pipe (not flushed); returns the bytes written.</summary>
    private long WriteChunk<T>(PipeWriter pipe, Utf8JsonWriter w, Action<Utf8JsonWriter, T> body, T state, bool choicesWritten = false)
    {
        var prefix = ChunkPrefix;
        pipe.Write(prefix);
        // The writer continues inside the object the prefix opened (no validation, so it starts at its top level).
        w.Reset(pipe);
        if (choicesWritten) body(w, state);
        else
        {
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            body(w, state);
            w.WriteEndObject();
            w.WriteEndArray();
        }
        w.Flush();
        pipe.Write("}\n\n"u8);
        return prefix.Length + w.BytesCommitted + 3;
    }

    /// <summary>The frame of one text delta, the one written per token: only the text itself goes through the JSON writer.</summary>
    private long WriteContentChunk(PipeWriter pipe, Utf8JsonWriter w, string text)
    {
        var prefix = ChunkPrefix;
        pipe.Write(prefix);
        pipe.Write(ContentOpen);
        w.Reset(pipe);
        w.WriteStringValue(text);
        w.Flush();
        pipe.Write(ContentClose);
        return prefix.Length + ContentOpen.Length + w.BytesCommitted + ContentClose.Length;
    }

    private static ReadOnlySpan<byte> ContentOpen => "\"choices\":[{\"index\":0,\"delta\":{\"content\":"u8;

    private static ReadOnlySpan<byte> ContentClose => "},\"finish_reason\":null}]}\n\n"u8;

    /// <summary>
    /// <c>data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…,</c>: the same for every frame of a stream, so
    /// it is encoded once instead of once per token.
    /// </summary>
    private byte[] ChunkPrefix => _chunkPrefix ??= BuildChunkPrefix();

    private byte[]? _chunkPrefix;

    private byte[] BuildChunkPrefix()
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        buffer.Write("data: "u8);
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            WriteHeader(w, "chat.completion.chunk");
        }
        buffer.Write(","u8);
        return buffer.WrittenSpan.ToArray();
    }

    private void WriteHeader(Utf8JsonWriter w, string objectType)
    {
        w.WriteString("id", id);
        w.WriteString("object", objectType);
        w.WriteNumber("created", created);
        w.WriteString("model", model);
    }

    private static void WriteUsage(Utf8JsonWriter w, TokenUsage usage)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", usage.Input);
        w.WriteNumber("completion_tokens", usage.Output);
        w.WriteNumber("total_tokens", usage.Total);
        if (usage.CacheRead > 0)
        {
            w.WriteStartObject("prompt_tokens_details");
            w.WriteNumber("cached_tokens", usage.CacheRead);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }
}
